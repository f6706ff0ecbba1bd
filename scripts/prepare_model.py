"""Materialize a registry model as resources/models/<id>.gguf, checking its sha256 (Snakemake adapter)."""

import sys
from pathlib import Path

if "snakemake" in globals():  # src/ importable without a pip install of medsyn (e.g. under --sdm conda)
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from medsyn.models import materialize
from medsyn.step import run_step


def main(snakemake, log):
    info = materialize(snakemake.wildcards.model, snakemake.params.entry, snakemake.output[0])
    log(f"model {info['model']}: {info['bytes']:,} bytes, sha256 {info['sha256']} OK")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
