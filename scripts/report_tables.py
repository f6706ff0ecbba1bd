"""Leaderboard (scores with intervals over seeds, Pareto front), the recommendation per use case and every generator
group per train size, as TSV."""

import pandas as pd

from medsyn.report import tables
from medsyn.report.train_sizes import size_table
from medsyn.step import run_step, write_tsv


def main(snakemake, log):
    metrics = pd.read_csv(snakemake.input.metrics, sep="\t", low_memory=False)
    gate = pd.read_csv(snakemake.input.gate, sep="\t")
    board, rec = tables(metrics, gate, snakemake.params.report)
    write_tsv(board, snakemake.output.leaderboard)
    write_tsv(rec, snakemake.output.recommendation)
    write_tsv(size_table(board), snakemake.output.train_sizes)
    for r in rec.itertuples():
        log(f"{r.dataset} {r.use_case}: {r.generator} {r.note}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
