"""Paper claims vs this evaluation: paper_copy_shares.tsv, or paper_comparison.tsv + paper_rankings.tsv."""

import pandas as pd

from medsyn.paper_audit import comparison_table, copy_share_row, copy_share_table, ranking_table, read_paper_scores
from medsyn.step import read_json, run_step, write_tsv


def _text_table(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def main(snakemake, log):
    runs = snakemake.params.runs
    if snakemake.params.table == "copy_shares":
        inp = snakemake.input
        rows = [
            copy_share_row(run, read_json(rep), read_json(met), _text_table(syn), _text_table(ex))
            for run, rep, met, syn, ex in zip(runs, inp.reports, inp.metrics, inp.synthetic, inp.examples)
        ]
        table = copy_share_table(rows)
        write_tsv(table, snakemake.output[0])
        log(f"{len(table)} paper runs, {int(table['all_copies'].sum())} are 100% copies of prompt examples")
        return
    records = [read_json(p) for p in snakemake.input.metrics]
    copies = pd.read_csv(snakemake.input.copies, sep="\t")
    comparison = comparison_table(records, runs, copies, read_paper_scores(snakemake.input.scores))
    write_tsv(comparison, snakemake.output.comparison)
    write_tsv(ranking_table(comparison), snakemake.output.rankings)
    log(f"{len(comparison)} rows in paper_comparison.tsv")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
