"""Materialize a registry model as resources/models/<id>.gguf, checking its sha256 (Snakemake adapter)."""

from medsyn.models import materialize
from medsyn.step import run_step


def main(snakemake, log):
    info = materialize(snakemake.wildcards.model, snakemake.params.entry, snakemake.output[0])
    log(f"model {info['model']}: {info['bytes']:,} bytes, sha256 {info['sha256']} OK")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
