"""Copy the synthetic tables that pass the privacy gate to results/release/ (with a manifest), or fail loudly."""

from medsyn.gate import build_release, read_gate_table
from medsyn.step import run_step


def main(snakemake, log):
    rows = read_gate_table(snakemake.input.gate)
    manifest = build_release(rows, snakemake.params.thresholds, snakemake.output[0])
    log(f"released {len(manifest)} of {len(rows)} tables to {snakemake.output[0]}:")
    for entry in manifest:
        log(f"  {entry['file']} ({entry['rows']} rows, sha256 {entry['sha256'][:12]})")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
