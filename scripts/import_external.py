"""Import already-generated rows (CSV or raw LLM text) through our parser as a generator of its own."""

from medsyn.errors import DataError
from medsyn.importing import csv_as_text, import_text
from medsyn.parse import write_rejects, write_rows
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
    params = snakemake.params
    parser, report, examples = import_text(
        spec, text, prompt_text, params.keep_example_copies, params.reject_duplicates, params.keep_prompt_echo
    )
    report = {"generator": wc.generator, "dataset": wc.dataset, "label": wc.label, "source": source,
              "rows_kept": len(parser.result.rows), **report}
    write_rows(parser.result.rows, spec, snakemake.output.synthetic, origin=str(source))
    write_rows([e.split(",") for e in examples], spec, snakemake.output.examples, origin=str(source))
    write_rejects(snakemake.output.rejects, parser.result.rejects)
    write_json(snakemake.output.report, report)
    log(
        f"{wc.generator}/{wc.dataset}/{wc.label}: {report['candidate_rows']} candidate rows, "
        f"{report['rows_kept']} kept, {report['example_copies']} copies of the {len(examples)} prompt examples, "
        f"{report['prompt_echo_rows']} rows in echoed prompts"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
