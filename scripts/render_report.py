"""Render results/report.html from the tables, figures, prompts and generation records (adapter over
medsyn.report)."""

from pathlib import Path

import pandas as pd

from medsyn import layout
from medsyn.atomic import atomic_open
from medsyn.data import read_table
from medsyn.report import build, render
from medsyn.report.context import written_at
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step


def run_key(path: str) -> tuple:
    key = layout.table_key(path)
    return (key["model"], key["dataset"], key["prompt"], key["mode"], key["recipe"], int(key["seed"]))


def paper_tables(inputs) -> dict | None:
    """The paper-audit tables, when the SynLLM raw outputs are imported (config paper_raw)."""
    if "paper_comparison" not in inputs.keys():
        return None
    return {name: pd.read_csv(inputs[f"paper_{name}"], sep="\t")
            for name in ("comparison", "rankings", "copies")}


def main(snakemake, log):
    config = snakemake.params.config
    specs = {name: load_spec(config["dataset_options"][name]["spec"]) for name in config["datasets"]}
    metas = {}
    for p in snakemake.input.meta:
        metas[run_key(p)] = {**read_json(p), "_written": written_at(p)}
    prompts = {}
    for p in snakemake.input.prompts:
        prompt = read_json(p)
        prompts.setdefault(prompt["dataset"], []).append(prompt)
    real = {}
    for part in ("train", "holdout", "reference"):
        for p in snakemake.input[part]:
            name = Path(p).parent.name
            real.setdefault(name, []).append(read_table(p, specs[name]))
    context = build(
        config, specs,
        splits={Path(p).parent.name: read_json(p) for p in snakemake.input.split},
        leaderboard=pd.read_csv(snakemake.input.leaderboard, sep="\t"),
        metrics=pd.read_csv(snakemake.input.metrics, sep="\t", low_memory=False),
        recommendation=pd.read_csv(snakemake.input.recommendation, sep="\t"),
        figure_dirs={Path(p).name: p for p in snakemake.input.figures},
        metas=metas, prompts=prompts, real_frames=real, paper=paper_tables(snakemake.input),
    )
    html = render(context)
    with atomic_open(snakemake.output[0]) as fh:
        fh.write(html)
    log(f"report: {len(metas)} LLM runs over {len(specs)} datasets, {len(html):,} bytes")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
