"""Import already-generated rows (CSV or raw LLM text) through our parser as a generator of its own."""

import csv
import sys
from pathlib import Path

if "snakemake" in globals():  # src/ importable without a pip install of medsyn (e.g. under --sdm conda)
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from medsyn.data import coerce_to_spec, write_table
from medsyn.errors import DataError
from medsyn.importing import csv_as_text, import_text
from medsyn.parse import rows_to_frame
from medsyn.spec import load_spec
from medsyn.step import run_step, write_json


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise DataError(f"cannot read imported file {path}: {exc}") from None


def main(snakemake, log):
    wc = snakemake.wildcards
    spec = load_spec(snakemake.params.spec)
    source = dict(snakemake.input)
    prompt_text = _read_text(source["prompt"]) if "prompt" in source else ""
    text = csv_as_text(_read_text(source["csv"])) if "csv" in source else _read_text(source["raw"])
    parser, report, examples = import_text(
        spec, text, prompt_text, snakemake.params.keep_example_copies, snakemake.params.reject_duplicates
    )
    report = {"generator": wc.generator, "dataset": wc.dataset, "label": wc.label, "source": source,
              "rows_kept": len(parser.result.rows), **report}
    rows = coerce_to_spec(rows_to_frame(parser.result.rows, spec), spec, origin=str(source), real=False)
    write_table(rows, snakemake.output.synthetic, spec, index=False)
    example_rows = [e.split(",") for e in examples]
    ex = coerce_to_spec(rows_to_frame(example_rows, spec), spec, origin=str(source), real=False)
    write_table(ex, snakemake.output.examples, spec, index=False)
    with open(snakemake.output.rejects, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["call", "line", "reason", "detail", "text"])
        for r in parser.result.rejects:
            writer.writerow([r.call, r.line, r.reason, r.detail, r.text])
    write_json(snakemake.output.report, report)
    log(
        f"{wc.generator}/{wc.dataset}/{wc.label}: {report['candidate_rows']} candidate rows, "
        f"{report['rows_kept']} kept, {report['example_copies']} copies of the {len(examples)} prompt examples"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
