"""Load a real table, coerce it to its spec and write the seeded, stratified train/holdout split (whole groups
when the spec has a group_column), and the group of each row for the evaluation."""

from medsyn.data import load_real_grouped, write_table
from medsyn.data_checks import rounding_warnings
from medsyn.errors import DataError
from medsyn.spec import load_spec
from medsyn.split import split_real, write_groups
from medsyn.step import run_step, write_json


def main(snakemake, log):
    dataset = snakemake.params.dataset
    spec = load_spec(dataset["spec"]).with_csv(dataset.get("csv"))
    frame, groups = load_real_grouped(spec)
    for warning in rounding_warnings(frame, spec):
        log(f"WARNING: dataset '{spec.name}': {warning}")
    split = snakemake.params.split
    parts = split_real(frame, spec, split["holdout_fraction"], split["reference_fraction"], split["seed"], groups)
    grouping = group_record(parts, groups, spec.group_column)  # checked before anything is written
    for name, part in parts.items():
        write_table(part, snakemake.output[name], spec)
    write_groups(parts, groups, snakemake.output.groups)
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
        **grouping,
    }
    write_json(snakemake.output.split, info)
    log(f"{spec.name}: {len(frame)} rows -> train {len(train)}, holdout {len(holdout)}, reference {len(reference)}"
        + (f"; {info['groups']} groups by {spec.group_column}" if groups is not None else ""))


def group_record(parts, groups, column) -> dict:
    """split.json's group keys: the column, groups per part and the groups found on two sides (must be none)."""
    if groups is None:
        return {"grouped_by": None, "groups": None, "group_counts": None, "groups_on_two_sides": None}
    sets = {name: set(groups.loc[part.index]) for name, part in parts.items()}
    names = list(sets)
    straddling = set().union(*(sets[a] & sets[b] for i, a in enumerate(names) for b in names[i + 1:]))
    if straddling:  # split_real never does this; refuse to write a split that would leak patients
        raise DataError(f"group_column '{column}': groups on two sides of the split: {sorted(straddling)[:5]}")
    return {"grouped_by": column, "groups": int(groups.nunique()),
            "group_counts": {name: len(ids) for name, ids in sets.items()}, "groups_on_two_sides": 0}


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
