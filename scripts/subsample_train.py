"""Write the train subsample of one train size (config split.train_rows): the first n rows (or groups) of train's
seeded, stratified nested order, so the smaller sizes lie inside the larger ones."""

from medsyn.data import read_table, write_table
from medsyn.spec import load_spec
from medsyn.split import read_groups, subsample_train
from medsyn.step import run_step


def main(snakemake, log):
    spec = load_spec(snakemake.params.spec)
    train = read_table(snakemake.input.train, spec)
    groups = read_groups(snakemake.input.groups, spec, {"train": train})  # None unless the spec has a group_column
    n = int(snakemake.wildcards.train_rows)
    subsample = subsample_train(train, spec, n, snakemake.params.seed, groups)
    write_table(subsample, snakemake.output[0], spec)
    shares = subsample[spec.target].astype(str).value_counts(normalize=True).round(3).to_dict()
    log(f"{spec.name}: {len(subsample)} of {len(train)} train rows (size {n}"
        f"{' groups' if groups is not None else ''}); target shares {shares}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
