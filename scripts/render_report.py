"""Render results/report.html from the tables, figures, prompts and generation records (adapter over
medsyn.report). Every file it reads is one the rule declares: per dataset by name (``train_<dataset>``, ...), the
LLM runs' generation records by the run each belongs to (``params.runs``)."""

import pandas as pd

from medsyn.atomic import atomic_open
from medsyn.data import read_table
from medsyn.prompts import read_prompt
from medsyn.report import build, render
from medsyn.report.context import ReportError, check_declared, written_at
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step

REAL_PARTS = ("train", "holdout", "reference")


def paper_tables(inputs) -> dict | None:
    """The paper-audit tables, when the SynLLM raw outputs are imported (config paper_raw)."""
    if "paper_comparison" not in inputs.keys():
        return None
    return {name: pd.read_csv(inputs[f"paper_{name}"], sep="\t")
            for name in ("comparison", "rankings", "copies")}


def main(snakemake, log):
    config = snakemake.params.config
    datasets = config["datasets"]
    specs = {name: load_spec(config["dataset_options"][name]["spec"]) for name in datasets}
    undeclared = {run["meta"] for run in snakemake.params.runs} - set(snakemake.input.meta)
    if undeclared:
        raise ReportError(f"generation records the rule does not declare: {sorted(undeclared)[:3]}")
    metas = {tuple(run["key"]): {**read_json(run["meta"]), "_written": written_at(run["meta"])}
             for run in snakemake.params.runs}
    prompts = {}
    for p in snakemake.input.prompts:
        prompt = read_prompt(p)
        prompts.setdefault(prompt.dataset, []).append(prompt)
    real = {name: [read_table(snakemake.input[f"{part}_{name}"], specs[name]) for part in REAL_PARTS]
            for name in datasets}
    metrics = pd.read_csv(snakemake.input.metrics, sep="\t", low_memory=False)
    check_declared(metrics[metrics["kind"] == "llm"], snakemake.input.synthetic)
    context = build(
        config, specs,
        splits={name: read_json(snakemake.input[f"split_{name}"]) for name in datasets},
        leaderboard=pd.read_csv(snakemake.input.leaderboard, sep="\t"),
        metrics=metrics,
        recommendation=pd.read_csv(snakemake.input.recommendation, sep="\t"),
        figure_dirs={name: snakemake.input[f"figures_{name}"] for name in datasets},
        metas=metas, prompts=prompts, real_frames=real, gate=pd.read_csv(snakemake.input.gate, sep="\t"),
        paper=paper_tables(snakemake.input),
    )
    html = render(context)
    with atomic_open(snakemake.output[0]) as fh:
        fh.write(html)
    log(f"report: {len(metas)} LLM runs over {len(specs)} datasets, {len(html):,} bytes")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
