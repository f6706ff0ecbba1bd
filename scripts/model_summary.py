"""Collect the parse reports of one model's runs into results/models/<model>/summary.json."""

from medsyn.step import read_json, run_step, write_json


def main(snakemake, log):
    reports = [read_json(p) for p in snakemake.input.reports]
    valid = sum(r["rows_kept"] for r in reports)
    write_json(
        snakemake.output[0],
        {"model": snakemake.wildcards.model, "runs": len(reports), "valid_rows": valid, "reports": reports},
    )
    log(f"{snakemake.wildcards.model}: {len(reports)} runs, {valid} valid rows")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
