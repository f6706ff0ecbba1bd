"""The report's figures for one dataset, as PNG files in results/figures/<dataset>/."""

import shutil
import sys
from pathlib import Path

if "snakemake" in globals():  # src/ importable without a pip install of medsyn (e.g. under --sdm conda)
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import pandas as pd

from medsyn.data import read_table
from medsyn.report import write_figures
from medsyn.spec import load_spec
from medsyn.step import run_step


def main(snakemake, log):
    dataset = snakemake.wildcards.dataset
    spec = load_spec(snakemake.params.spec)
    board = pd.read_csv(snakemake.input.leaderboard, sep="\t")
    metrics = pd.read_csv(snakemake.input.metrics, sep="\t", low_memory=False)
    holdout = read_table(snakemake.input.holdout, spec)
    out = Path(snakemake.output[0])
    # drawn beside the output and moved in whole, so a killed job never leaves a half-filled folder
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    drawn = write_figures(spec, board[board["dataset"] == dataset], metrics[metrics["dataset"] == dataset],
                          holdout, tmp, snakemake.params.min_rows)
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    log(f"{dataset}: {len(drawn['figures'])} figures; best {drawn['best']}, worst {drawn['worst']}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
