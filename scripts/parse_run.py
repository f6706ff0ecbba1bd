"""Parse one run's raw.jsonl into synthetic.csv, parse_report.json and rejects.tsv."""

import json

from medsyn.parse import parse_calls, write_rejects, write_rows
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
    write_rows(kept, spec, snakemake.output.synthetic, origin=snakemake.input.raw)
    write_rejects(snakemake.output.rejects, parser.result.rejects)
    write_json(snakemake.output.report, report)
    log(
        f"{wc.model}/{wc.dataset}/{wc.prompt}/{wc.mode}/seed{wc.seed}: {report['accepted']} valid of "
        f"{report['candidate_rows']} candidate rows; rejected {report['rejected_by_reason']}"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
