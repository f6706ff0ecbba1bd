import numpy as np
import pandas as pd
import pytest

from conftest import spec_path
from medsyn.baselines import BASELINES, make_baseline
from medsyn.data import load_real
from medsyn.evaluate.encoding import row_keys
from medsyn.spec import load_spec
from medsyn.split import split_real


@pytest.fixture(scope="module")
def cirrhosis():
    spec = load_spec(spec_path("cirrhosis"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


@pytest.mark.parametrize("name", BASELINES)
def test_shape_dtypes_and_seed(cirrhosis, name):
    spec, parts = cirrhosis
    a = make_baseline(name, spec, parts["train"], parts["reference"], 50, seed=1)
    b = make_baseline(name, spec, parts["train"], parts["reference"], 50, seed=1)
    c = make_baseline(name, spec, parts["train"], parts["reference"], 50, seed=2)
    assert list(a.columns) == spec.column_names and len(a) == 50
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    for col in spec.columns:  # every value is valid per spec
        values = a[col.name].dropna()
        if col.is_numeric:
            assert values.between(col.min, col.max).all(), col.name
        else:
            assert values.isin(col.levels).all(), col.name


def test_baselines_have_the_size_asked_for_and_holdout_the_reference_at_most(cirrhosis):
    """Every baseline as large as the LLM tables it is compared with; the holdout baseline (unseen real rows) can
    only hold the reference split's rows."""
    spec, parts = cirrhosis
    n = len(parts["reference"]) + 37
    sizes = {b: len(make_baseline(b, spec, parts["train"], parts["reference"], n, 1)) for b in BASELINES}
    assert sizes == {"holdout": len(parts["reference"]), "marginals": n, "copula": n, "cart": n, "bootstrap": n}


def test_bootstrap_rows_are_train_rows_and_holdout_rows_are_unseen(cirrhosis):
    spec, parts = cirrhosis
    train_keys = set(row_keys(parts["train"], spec))
    boot = make_baseline("bootstrap", spec, parts["train"], parts["reference"], 50, 1)
    hold = make_baseline("holdout", spec, parts["train"], parts["reference"], 50, 1)
    assert set(row_keys(boot, spec)) <= train_keys
    assert set(row_keys(hold, spec)) <= set(row_keys(parts["reference"], spec))
    assert not set(row_keys(hold, spec)) & train_keys


@pytest.mark.parametrize("name", ["copula", "cart"])
def test_copula_and_cart_keep_dependence_that_marginals_destroy(cirrhosis, name):
    spec, parts = cirrhosis
    train = parts["train"]
    num = [c.name for c in spec.columns if c.is_numeric]
    real = train[num].astype(float).corr(method="spearman").to_numpy()

    def corr_error(name):
        frame = make_baseline(name, spec, train, train, 2000, 1)  # a large sample: the reference cap lifted
        return np.nanmean(np.abs(frame[num].astype(float).corr(method="spearman").to_numpy() - real))

    assert corr_error(name) < 0.5 * corr_error("marginals")
    # bilirubin and copper: rank correlation ~0.6 in real data
    table = make_baseline(name, spec, train, train, 2000, 1)
    assert table[["Bilirubin", "Copper"]].astype(float).corr(method="spearman").iloc[0, 1] > 0.4
