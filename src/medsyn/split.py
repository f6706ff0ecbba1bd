"""The seeded train / holdout / reference split of a real table (stratified on the target; whole groups with a
spec ``group_column``), and the file of each real row's group, which only the evaluation reads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from medsyn.atomic import atomic_path
from medsyn.data import ROW_ID
from medsyn.errors import DataError
from medsyn.layout import ALL_TRAIN
from medsyn.seeds import derive_seed
from medsyn.spec import DatasetSpec


def split_train_holdout(
    frame: pd.DataFrame, spec: DatasetSpec, holdout_fraction: float, seed: int, groups: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split stratified on the target; the holdout is never shown to a generator. With ``groups`` (each
    row's group id, indexed by row_id) all rows of a group land on one side (``split_groups``)."""
    if groups is not None:
        return split_groups(frame, spec, holdout_fraction, seed, groups.loc[frame.index])
    strata = frame[spec.target].astype(str).fillna("NA")
    counts = strata.value_counts()
    stratify = strata if counts.min() >= 2 else None  # a singleton class cannot be stratified
    train_idx, holdout_idx = train_test_split(
        frame.index.to_numpy(), test_size=holdout_fraction, random_state=seed, stratify=stratify
    )
    return frame.loc[np.sort(train_idx)], frame.loc[np.sort(holdout_idx)]


MIN_SPLIT_ROWS = {"train": 10, "holdout": 5, "reference": 2}  # the fewest rows each part's metrics can work with


def split_sizes(n: int, holdout_fraction: float, reference_fraction: float) -> dict[str, int]:
    """The rows each part gets (rounded as scikit-learn's ``train_test_split`` rounds: test sizes up)."""
    unseen = math.ceil((holdout_fraction + reference_fraction) * n)
    share = reference_fraction / (holdout_fraction + reference_fraction)
    reference = math.ceil(share * unseen) if reference_fraction else 0
    return {"train": n - unseen, "holdout": unseen - reference, "reference": reference}


def check_split_size(n: int, spec: DatasetSpec, holdout_fraction: float, reference_fraction: float,
                     unit: str = "rows") -> None:
    """A table too small for the split is an error naming the dataset and the sizes, before any file is written
    (``unit``: what is split, rows or groups)."""
    sizes = split_sizes(n, holdout_fraction, reference_fraction)
    short = [part for part, least in MIN_SPLIT_ROWS.items()
             if sizes[part] < least and (part != "reference" or reference_fraction)]
    if short:
        need = ", ".join(f"{MIN_SPLIT_ROWS[p]} {p}" for p in short)
        raise DataError(
            f"dataset '{spec.name}' ({spec.source.get('csv') or spec.source.get('loader')}): {n} {unit} are too few "
            f"for the split: holdout_fraction {holdout_fraction} and reference_fraction {reference_fraction} leave "
            f"{sizes['train']} train, {sizes['holdout']} holdout and {sizes['reference']} reference {unit}; the "
            f"evaluation needs at least {need} {unit} (use a larger table, or change split: in the config)")


def group_labels(target: pd.Series, groups: pd.Series) -> pd.Series:
    """One target label per group (indexed by group id, sorted), to stratify groups on: the group's most frequent
    target value. A tie (one eye with the outcome, the other without) goes to the value rarer in the whole table,
    so the patients who carry the rare outcome are spread over the parts, then to the first in text order."""
    values = target.astype(str)
    rarity = values.value_counts()

    def label(group_values: pd.Series) -> str:
        counts = group_values.value_counts()
        return min(counts.index[counts == counts.max()], key=lambda v: (rarity[v], v))

    return values.groupby(groups.to_numpy(), sort=True).agg(label)


def split_groups(
    frame: pd.DataFrame, spec: DatasetSpec, holdout_fraction: float, seed: int, groups: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split of whole groups (``groups``: each row's group id, aligned with ``frame``), stratified on the
    groups' ``group_labels``; ``holdout_fraction`` is a share of groups, rows follow their group.

    Why train_test_split over the group ids: it takes any fraction, is seeded and stratifies exactly on one label
    per group. StratifiedGroupKFold balances mixed groups row by row, but its folds give fractions 1/k only (0.4
    is no fold count) and its shuffle only reorders groups of equal class spread; GroupShuffleSplit does not
    stratify at all.
    """
    labels = group_labels(frame[spec.target], groups)
    counts = labels.value_counts()
    n_test = math.ceil(holdout_fraction * len(labels))
    # stratify when every label has 2 groups and both sides can hold every label; otherwise a plain seeded split
    fits = len(counts) <= min(n_test, len(labels) - n_test)
    stratify = labels.to_numpy() if counts.min() >= 2 and fits else None
    try:
        _, test_groups = train_test_split(labels.index.to_numpy(), test_size=holdout_fraction, random_state=seed,
                                          stratify=stratify)
    except ValueError as exc:
        raise DataError(f"dataset '{spec.name}' ({spec.path}): group_column '{spec.group_column}' gives "
                        f"{len(labels)} groups, too few to split off {holdout_fraction:g} of them: {exc}") from None
    test = groups.isin(set(test_groups)).to_numpy()
    return frame[~test], frame[test]


def split_real(
    frame: pd.DataFrame, spec: DatasetSpec, holdout_fraction: float, reference_fraction: float, seed: int,
    groups: pd.Series | None = None,
) -> dict[str, pd.DataFrame]:
    """train / holdout / reference, each stratified on the target; only train is ever shown to a generator.

    The holdout is the privacy non-member set and the utility test set; the reference is an unseen real sample
    scored exactly like a generator (the best fidelity reachable, the privacy level of truly new rows). Keeping
    the two apart matters: scored as "synthetic", the holdout would sit at distance 0 from itself.

    ``groups`` (each row's group id, indexed by row_id; ``group_ids``): every group lands in one part, the
    fractions are shares of groups (``split_groups``). None: rows are split one by one.
    """
    unseen_fraction = holdout_fraction + reference_fraction
    if not 0 < unseen_fraction < 1:
        raise DataError(f"split fractions must leave some train rows: holdout {holdout_fraction} + reference "
                        f"{reference_fraction} >= 1")
    if groups is None:
        check_split_size(len(frame), spec, holdout_fraction, reference_fraction)
    else:
        unit = f"groups (group_column '{spec.group_column}')"
        check_split_size(groups.nunique(), spec, holdout_fraction, reference_fraction, unit)
    train, unseen = split_train_holdout(frame, spec, unseen_fraction, seed, groups)
    if reference_fraction == 0:
        return {"train": train, "holdout": unseen, "reference": unseen.iloc[:0]}
    holdout, reference = split_train_holdout(unseen, spec, reference_fraction / unseen_fraction, seed + 1, groups)
    return {"train": train, "holdout": holdout, "reference": reference}


# --- train sizes: nested subsamples of train (config split.train_rows) -------------------------------------------


def train_sizes(split: dict) -> list[str]:
    """``split.train_rows`` of the config as the path level names them: "all" or a size, as strings."""
    return [str(n) for n in split["train_rows"]]


def main_train_size(sizes) -> str:
    """The train size the report's per-dataset sections show: all when it is run, else the largest."""
    sizes = [str(n) for n in sizes]
    return ALL_TRAIN if ALL_TRAIN in sizes else max(sizes, key=int)


def nested_order(labels: pd.Series, seed: int) -> pd.Index:
    """The units of ``labels`` (one label each, indexed by unit) in a seeded order whose every prefix is
    stratified: the first n hold each label's share of n to within one unit. So the train subsample of n is the
    first n units whatever other sizes are asked for, and the 25 lie inside the 50 inside the 100.

    How: each label's units are shuffled and spread evenly over (0, 1) (the i-th of m at (i + u) / m, u drawn
    once per label); sorting all units by that position interleaves the labels in proportion."""
    rng = np.random.default_rng(derive_seed("train_rows", seed))
    position = pd.Series(0.0, index=labels.index)
    for _, units in labels.groupby(labels.astype(str), sort=True):
        shuffled = rng.permutation(units.index.to_numpy())
        position.loc[shuffled] = (np.arange(len(shuffled)) + rng.uniform()) / len(shuffled)
    tie_break = rng.permutation(len(position))
    return position.index[np.lexsort((tie_break, position.to_numpy()))]


def subsample_train(train: pd.DataFrame, spec: DatasetSpec, n: int, seed: int,
                    groups: pd.Series | None = None) -> pd.DataFrame:
    """The first ``n`` train rows of ``nested_order`` (stratified on the target), in row_id order; with
    ``groups`` (each row's group id, indexed by row_id) the first ``n`` groups, stratified on their
    ``group_labels``, with all their rows. ``n`` must be below train's size (rows or groups)."""
    if groups is None:
        labels, unit = train[spec.target], "rows"
    else:
        labels, unit = group_labels(train[spec.target], groups.loc[train.index]), f"groups ('{spec.group_column}')"
    if n >= len(labels):
        raise DataError(f"config key 'split.train_rows': {n} is not below the {len(labels)} train {unit} of dataset "
                        f"'{spec.name}'; use all for the whole train split, or smaller sizes")
    chosen = nested_order(labels, seed)[:n]
    if groups is None:
        return train.loc[np.sort(chosen.to_numpy())]
    return train[groups.loc[train.index].isin(set(chosen)).to_numpy()]


# --- group ids of the prepared split: for the evaluation only ----------------------------------------------------


def write_groups(parts: dict[str, pd.DataFrame], groups: pd.Series | None, path: str | Path) -> None:
    """``row_id,part,group`` for every real row: the group (patient) of each train/holdout/reference row. A file
    apart from the split tables so that nothing a generator reads (prompts, examples, baselines) carries the ids;
    the evaluation reads it (``read_groups``). Without groups: the header alone. Written atomically."""
    frames = [pd.DataFrame({"part": name, "group": groups.loc[part.index].to_numpy()}, index=part.index)
              for name, part in parts.items()] if groups is not None else []
    table = pd.concat(frames) if frames else pd.DataFrame(columns=["part", "group"], index=pd.Index([], name=ROW_ID))
    with atomic_path(path) as tmp:
        table.rename_axis(ROW_ID).to_csv(tmp)


def read_groups(path: str | Path, spec: DatasetSpec, splits: dict[str, pd.DataFrame] | None = None
                ) -> pd.Series | None:
    """The group id of each real row (indexed by row_id) from ``write_groups``' file; None when the spec has no
    ``group_column``. With ``splits``, every row of every split must have its group (else DataError naming it)."""
    if not spec.group_column:
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    if not {ROW_ID, "group"} <= set(raw.columns) or raw.empty:
        raise DataError(f"{path}: no group ids, but spec {spec.path} sets group_column '{spec.group_column}'; "
                        "rerun prepare_data for this dataset")
    groups = pd.Series(raw["group"].to_numpy(), index=pd.Index(raw[ROW_ID].astype(int).to_numpy(), name=ROW_ID),
                       name=spec.group_column)
    for name, part in (splits or {}).items():
        lacking = part.index.difference(groups.index)
        if len(lacking):
            raise DataError(f"{path}: no group for {len(lacking)} {name} rows (row_id {list(lacking[:5])}...); "
                            "rerun prepare_data for this dataset")
    return groups
