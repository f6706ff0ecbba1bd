"""The ``cart`` baseline (sequential CART, ``medsyn.cart``) on real tables: valid rows, seeded, small and awkward
train sets, dependence kept, and not a copy of train."""

import numpy as np
import pytest

from conftest import spec_path
from medsyn import cart
from medsyn.baselines import make_baseline
from medsyn.data import load_real, write_table
from medsyn.evaluate.encoding import row_keys
from medsyn.spec import load_spec
from medsyn.split import split_real, subsample_train


def _split(name):
    spec = load_spec(spec_path(name))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


@pytest.fixture(scope="module")
def pima():
    return _split("pima")


@pytest.fixture(scope="module")
def cirrhosis():
    return _split("cirrhosis")


def assert_valid(frame, spec, n):
    assert list(frame.columns) == spec.column_names and len(frame) == n
    for col in spec.columns:
        values = frame[col.name]
        if not col.allow_missing:
            assert values.notna().all(), col.name
        values = values.dropna()
        if col.is_numeric:
            assert values.between(col.min, col.max).all(), col.name
            assert (values.astype(float).round(col.decimals) == values.astype(float)).all(), col.name
        else:
            assert values.isin(col.levels).all(), col.name


def small(train, spec, n, seed=0):
    return subsample_train(train, spec, n, seed)  # the workflow's own train-size subsample


@pytest.mark.parametrize("table", ["pima", "cirrhosis"])
def test_valid_rows_and_the_same_file_for_a_seed(table, request, tmp_path):
    spec, parts = request.getfixturevalue(table)
    paths = []
    for run, seed in enumerate((1, 1, 2)):
        frame = make_baseline("cart", spec, parts["train"], parts["reference"], 100, seed)
        assert_valid(frame, spec, 100)
        paths.append(tmp_path / f"{run}.csv")
        write_table(frame, paths[-1], spec, index=False)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_missing_values_follow_their_predictors(cirrhosis):
    """Cirrhosis' non-trial patients lack Drug and the same labs together: cart keeps that joint missingness."""
    spec, parts = cirrhosis
    frame = make_baseline("cart", spec, parts["train"], parts["reference"], 2000, 1)
    real = parts["train"]
    assert abs(frame["Drug"].isna().mean() - real["Drug"].isna().mean()) < 0.08
    both = frame["Drug"].isna() & frame["Hepatomegaly"].isna()
    assert both.sum() > 0.8 * frame["Drug"].isna().sum()


@pytest.mark.parametrize("table", ["pima", "cirrhosis"])
def test_works_at_25_train_rows(table, request):
    spec, parts = request.getfixturevalue(table)
    train = small(parts["train"], spec, 25)
    assert_valid(make_baseline("cart", spec, train, parts["reference"], 100, 1), spec, 100)


def test_single_class_target_and_a_constant_column(pima):
    """A tiny subsample can hold one class only and a column with one value: cart still samples valid rows."""
    spec, parts = pima
    train = parts["train"][parts["train"][spec.target] == "0"].head(25).copy()
    train["BloodPressure"] = train["BloodPressure"].iloc[0]
    frame = make_baseline("cart", spec, train, parts["reference"], 60, 3)
    assert_valid(frame, spec, 60)
    assert set(frame[spec.target]) == {"0"}
    assert (frame["BloodPressure"] == train["BloodPressure"].iloc[0]).all()


def test_large_train_is_subsampled_for_fitting(pima, monkeypatch):
    spec, parts = pima
    monkeypatch.setattr(cart, "MAX_FIT_ROWS", 100)
    model = cart.SequentialCart(parts["train"], spec, np.random.default_rng(1))
    assert len(model.train) == 100
    assert_valid(model.sample(50, np.random.default_rng(1)), spec, 50)


@pytest.mark.parametrize("table", ["pima", "cirrhosis"])
def test_not_a_copy_of_train(table, request):
    """cart recombines train values: far fewer whole train rows than bootstrap (which is only train rows)."""
    spec, parts = request.getfixturevalue(table)
    train_keys = set(row_keys(parts["train"], spec))

    def copy_share(name):
        frame = make_baseline(name, spec, parts["train"], parts["reference"], 200, 1)
        return float(row_keys(frame, spec).isin(train_keys).mean())

    assert copy_share("bootstrap") == 1.0
    assert copy_share("cart") < 0.5
    frame = make_baseline("cart", spec, parts["train"], parts["reference"], 200, 1)
    assert row_keys(frame, spec).nunique() > 150  # not a few rows repeated either
