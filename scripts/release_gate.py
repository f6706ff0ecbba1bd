"""Every metrics.json -> results/tables/release_gate.tsv: releasable or not, with the reasons (privacy gate)."""

from medsyn.gate import gate_rows, write_gate_table
from medsyn.step import read_json, run_step


def main(snakemake, log):
    rows = gate_rows([(p, read_json(p)) for p in snakemake.input], snakemake.params.thresholds)
    write_gate_table(rows, snakemake.output[0])
    ok = sum(bool(r["releasable"]) for r in rows)
    log(f"privacy gate: {ok} of {len(rows)} tables releasable (thresholds {snakemake.params.thresholds})")
    for r in rows:
        if not r["releasable"]:
            log(f"  blocked {r['synthetic']}: {r['reasons']}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
