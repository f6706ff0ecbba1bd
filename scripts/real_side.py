"""The evaluation's real side of one dataset (train-on-real scores, real rule rates, holdout-to-train distances,
real pair statistics, encoders), computed once from its split and read by every evaluation job of the dataset."""

from medsyn.data import read_table
from medsyn.evaluate import real_side
from medsyn.spec import load_spec
from medsyn.step import run_step

SPLITS = ("train", "holdout", "reference")


def main(snakemake, log):
    spec = load_spec(snakemake.params.spec)
    splits = {part: read_table(snakemake.input[part], spec) for part in SPLITS}
    sources = {part: real_side.sha256(snakemake.input[part]) for part in SPLITS}
    real = real_side.build(spec, *(splits[p] for p in SPLITS), seed=snakemake.params.seed,
                           families=snakemake.params.families, sources=sources)
    real_side.save(real, snakemake.output.json, snakemake.output.npz)
    log(f"{spec.name}: real side of {real.info['families']} from {real.info['rows']} rows (seed {real.info['seed']})")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
