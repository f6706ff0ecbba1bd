"""Render results/report.html from every run's parse report (Snakemake adapter over medsyn.report)."""

import sys
from pathlib import Path

if "snakemake" in globals():  # src/ importable without a pip install of medsyn (e.g. under --sdm conda)
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821


from medsyn.report import add_key_metrics, build_context, render
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step


def _key(path: str) -> tuple:
    # results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/<file>
    parts = Path(path).parts
    model, dataset, prompt, mode, seed = parts[-6:-1]
    return (model, dataset, prompt, mode, int(seed.removeprefix("seed")))


def main(snakemake, log):
    config = snakemake.params.config
    specs = {name: load_spec(config["dataset_options"][name]["spec"]) for name in config["datasets"]}
    reports = [read_json(p) for p in snakemake.input.reports]
    splits = {Path(p).parent.name: read_json(p) for p in snakemake.input.split}
    trains = {Path(p).parent.name: p for p in snakemake.input.train}
    synthetic = {_key(p): p for p in snakemake.input.synthetic}
    metas = {_key(p): read_json(p) for p in snakemake.input.meta}
    context = build_context(config, specs, reports, splits, trains, synthetic, metas)
    add_key_metrics(context, snakemake.input.key_metrics)
    html = render(context)
    tmp = Path(snakemake.output[0] + ".tmp")
    tmp.write_text(html)
    tmp.replace(snakemake.output[0])
    log(f"report: {len(reports)} runs over {len(specs)} datasets, {len(html):,} bytes")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
