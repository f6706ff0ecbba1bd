"""Load a real table, coerce it to its spec and write the seeded, stratified train/holdout split."""

from medsyn.data import load_real, split_real, write_table
from medsyn.data_checks import rounding_warnings
from medsyn.spec import load_spec
from medsyn.step import run_step, write_json


def main(snakemake, log):
    dataset = snakemake.params.dataset
    spec = load_spec(dataset["spec"]).with_csv(dataset.get("csv"))
    frame = load_real(spec)
    for warning in rounding_warnings(frame, spec):
        log(f"WARNING: dataset '{spec.name}': {warning}")
    split = snakemake.params.split
    parts = split_real(frame, spec, split["holdout_fraction"], split["reference_fraction"], split["seed"])
    for name, part in parts.items():
        write_table(part, snakemake.output[name], spec)
    train, holdout, reference = parts["train"], parts["holdout"], parts["reference"]
    info = {
        "dataset": spec.name,
        "spec": dataset["spec"],
        "source": spec.source,
        "rows": len(frame),
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "reference_rows": len(reference),
        "holdout_fraction": split["holdout_fraction"],
        "reference_fraction": split["reference_fraction"],
        "split_seed": split["seed"],
        "stratified_on": spec.target,
        "target_counts": {
            "train": train[spec.target].astype(str).value_counts().to_dict(),
            "holdout": holdout[spec.target].astype(str).value_counts().to_dict(),
            "reference": reference[spec.target].astype(str).value_counts().to_dict(),
        },
        "row_ids": {name: [int(i) for i in part.index] for name, part in parts.items()},
        "missing_share": {c: round(float(frame[c].isna().mean()), 4) for c in spec.column_names},
    }
    write_json(snakemake.output.split, info)
    log(f"{spec.name}: {len(frame)} rows -> train {len(train)}, holdout {len(holdout)}, reference {len(reference)}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
