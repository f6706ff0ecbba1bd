"""Draft a dataset spec from the dataset's CSV (no spec file exists for it) and write it where the user can keep it."""

from medsyn import layout
from medsyn.atomic import atomic_open
from medsyn.draft import draft_spec, summary
from medsyn.step import run_step


def main(snakemake, log):
    dataset = snakemake.wildcards.dataset
    text, draft, _ = draft_spec(snakemake.input.csv, dataset, target=snakemake.params.target)
    with atomic_open(snakemake.output[0]) as fh:
        fh.write(text)
    report = summary(draft, snakemake.output[0])
    log(report)
    print(report + f"\n  review it, and keep it as {layout.spec_file(dataset)} to edit it", flush=True)


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
