"""Write one baseline table (holdout, marginals, copula or bootstrap) for a dataset and seed."""

from medsyn.baselines import make_baseline
from medsyn.config import resolve_column_order
from medsyn.data import read_table, write_table
from medsyn.settings import settings_from_config
from medsyn.spec import load_spec
from medsyn.step import run_step


def main(snakemake, log):
    wc = snakemake.wildcards
    spec = load_spec(snakemake.params.spec)
    train = read_table(snakemake.input.train, spec)
    reference = read_table(snakemake.input.reference, spec)
    block = snakemake.params.recipe  # the recipe's generation block, for drawn- and steered- baselines
    recipe = settings_from_config(block, "grammar", int(wc.seed)) if block else None
    order = resolve_column_order(block["column_order"], spec.target) if block else ()
    frame = make_baseline(wc.baseline, spec, train, reference, snakemake.params.rows, int(wc.seed), recipe, order)
    write_table(frame, snakemake.output[0], spec, index=False)
    log(f"baseline {wc.baseline} for {wc.dataset} seed {wc.seed}: {len(frame)} rows")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
