"""Collect every metrics.json into results/tables/metrics.tsv and summary.tsv (mean, 95% CI over seeds)."""

from medsyn.evaluate.aggregate import key_table, metrics_table, summary_table
from medsyn.step import read_json, run_step, write_tsv


def main(snakemake, log):
    table = metrics_table([read_json(p) for p in snakemake.input])
    summary = summary_table(table)
    outputs = ((table, snakemake.output.metrics), (summary, snakemake.output.summary),
               (key_table(table), snakemake.output.key))
    for frame, path in outputs:
        write_tsv(frame, path)
    log(f"{len(table)} evaluated tables, {table.shape[1]} columns; {len(summary)} summary rows")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
