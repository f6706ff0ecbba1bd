"""The report's figures for one dataset, as PNG files in results/figures/<dataset>/; with more than one train size
(config split.train_rows) also fidelity by train size (train_sizes.png, from results/tables/train_sizes.tsv)."""

from pathlib import Path

import pandas as pd

from medsyn.atomic import atomic_dir
from medsyn.data import read_table
from medsyn.report import write_figures, write_train_size_figure
from medsyn.report.context import check_declared
from medsyn.report.scores import at_train_size
from medsyn.spec import load_spec
from medsyn.split import main_train_size
from medsyn.step import read_json, run_step


def main(snakemake, log):
    dataset = snakemake.wildcards.dataset
    spec = load_spec(snakemake.params.spec)
    main = main_train_size(snakemake.params.train_rows)  # the train size the report's dataset sections show
    board = at_train_size(pd.read_csv(snakemake.input.leaderboard, sep="\t"), main)
    metrics = at_train_size(pd.read_csv(snakemake.input.metrics, sep="\t", low_memory=False), main)
    check_declared(metrics[metrics["dataset"] == dataset], snakemake.input.tables)
    holdout = read_table(snakemake.input.holdout, spec)
    out = Path(snakemake.output[0])
    with atomic_dir(out) as tmp:  # moved in whole: a killed job never leaves a half-filled folder
        drawn = write_figures(spec, board[board["dataset"] == dataset], metrics[metrics["dataset"] == dataset],
                              holdout, tmp, snakemake.params.min_rows)
        curves = write_train_size_figure(pd.read_csv(snakemake.input.train_sizes, sep="\t", dtype={"train_rows": str}),
                                         dataset, snakemake.params.train_rows, read_json(snakemake.input.split), tmp)
        drawn["figures"] += [curves] if curves else []
    log(f"{dataset}: {len(drawn['figures'])} figures; best {drawn['best']}, worst {drawn['worst']}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
