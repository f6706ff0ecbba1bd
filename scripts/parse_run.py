"""Parse one run's raw.jsonl into synthetic.csv, parse_report.json and rejects.tsv."""

import csv
import json
import sys
from pathlib import Path

if "snakemake" in globals():  # src/ importable without a pip install of medsyn (e.g. under --sdm conda)
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from medsyn.data import coerce_to_spec, write_table
from medsyn.parse import parse_calls, rows_to_frame
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step, write_json


def main(snakemake, log):
    wc = snakemake.wildcards
    spec = load_spec(snakemake.params.spec)
    prompt = read_json(snakemake.input.prompt)
    meta = read_json(snakemake.input.meta)
    with open(snakemake.input.raw) as fh:
        calls = [json.loads(line) for line in fh if line.strip()]
    options = snakemake.params.parse
    parser, report = parse_calls(
        calls,
        spec,
        example_rows=prompt["example_rows"],
        prompt_text=prompt["user"],
        keep_example_copies=options["keep_example_copies"],
        reject_duplicates=options["reject_duplicates"],
    )
    target = snakemake.params.target_rows
    kept = parser.result.rows[:target]  # like the paper's loop: the first target_rows valid rows are the run's data
    report = {
        "model": wc.model,
        "dataset": wc.dataset,
        "prompt_type": wc.prompt,
        "mode": wc.mode,
        "seed": int(wc.seed),
        "target_rows": target,
        "rows_kept": len(kept),
        "yield": round(len(kept) / target, 4),
        "status": "ok" if len(kept) >= target else ("no_valid_rows" if not kept else "short"),
        "wall_seconds": meta.get("seconds"),
        **report,
    }
    frame = coerce_to_spec(rows_to_frame(kept, spec), spec, origin=snakemake.input.raw, real=False)
    write_table(frame, snakemake.output.synthetic, spec, index=False)
    with open(snakemake.output.rejects, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["call", "line", "reason", "detail", "text"])
        for r in parser.result.rejects:
            writer.writerow([r.call, r.line, r.reason, r.detail, r.text])
    write_json(snakemake.output.report, report)
    log(
        f"{wc.model}/{wc.dataset}/{wc.prompt}/{wc.mode}/seed{wc.seed}: {report['accepted']} valid of "
        f"{report['candidate_rows']} candidate rows; rejected {report['rejected_by_reason']}"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
