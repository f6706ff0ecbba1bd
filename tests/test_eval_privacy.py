"""Privacy family and its mixed-type distance: every metric must FAIL on a hand-computable leak and pass otherwise.

Hand-built frames give exact values (distances computed on paper); seeded random "real" frames give the two
reference situations (synthetic = copies of train: leak; synthetic = unseen real rows: no leak); the real
cirrhosis split checks the same on real data. Privacy is never scored on the synthetic table alone
(synllm-reference.md flaws 3 and 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import spec_path
from medsyn.data import load_real
from medsyn.distance import categorical_slice, encode, nearest, unique_rows
from medsyn.distance.search import _grouped_search
from medsyn.evaluate import EvalInputs, privacy
from medsyn.evaluate.encoding import row_keys
from medsyn.spec import load_spec, spec_from_dict
from medsyn.split import split_real


def make_spec(columns, qi=(), target="y"):
    return spec_from_dict(
        {"name": "hand", "title": "hand-built", "source": {"csv": None}, "target": target,
         "quasi_identifiers": list(qi), "columns": columns}
    )


MIXED_COLUMNS = [
    {"name": "x", "type": "float", "min": 0, "max": 1000, "decimals": 1, "allow_missing": True,
     "definition": "a float"},
    {"name": "k", "type": "integer", "min": 0, "max": 1000, "definition": "an int"},
    {"name": "c", "type": "categorical", "levels": ["A", "B", "C"], "allow_missing": True,
     "definition": "a category"},
    {"name": "y", "type": "binary", "levels": [0, 1], "definition": "the target"},
]
MIXED = make_spec(MIXED_COLUMNS, qi=["k", "c"])
# two columns, no missing values: distances and quasi-identifier bins easy to do on paper
XY = make_spec(
    [{"name": "x", "type": "float", "min": 0, "max": 1000, "decimals": 1, "definition": "a float"},
     {"name": "y", "type": "binary", "levels": [0, 1], "definition": "the target"}],
    qi=["x"],
)


def mixed(x, k, c, y) -> pd.DataFrame:
    return pd.DataFrame({
        "x": pd.Series(x, dtype="float64"),
        "k": pd.Series(k, dtype="Int64"),
        "c": pd.Series(c, dtype=object),
        "y": pd.Series([str(v) for v in y], dtype=object),
    })


def xy(x, y) -> pd.DataFrame:
    return pd.DataFrame({"x": pd.Series(x, dtype="float64"), "y": pd.Series([str(v) for v in y], dtype=object)})


def random_real(n: int, seed: int) -> pd.DataFrame:
    """Rows of one fixed distribution (x depends on c, y on x), 5% missing x, some missing c."""
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array(["A", "B", "C", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    base = np.where(c == "A", 30.0, np.where(c == "B", 50.0, 70.0))
    x = np.round(np.clip(base + rng.normal(0, 15, n), 0, 1000), 1)
    x[rng.random(n) < 0.05] = np.nan
    k = rng.integers(0, 11, n)
    y = (rng.random(n) < np.where(np.nan_to_num(x, nan=50.0) > 55, 0.7, 0.2)).astype(int)
    return mixed(x, k, c, y)


def score(spec, train, holdout, synthetic, examples=None, seed=0) -> dict:
    inputs = EvalInputs(spec=spec, train=train, holdout=holdout, reference=holdout.iloc[:0], synthetic=synthetic,
                        examples=examples if examples is not None else pd.DataFrame(), seed=seed)
    return privacy.compute(inputs)


def brute(query, base):
    return np.abs(query[:, None, :].astype(np.float64) - base[None, :, :].astype(np.float64)).sum(axis=2)


# --- the distance -------------------------------------------------------------------------------------------------

def test_distance_by_hand():
    # train range: x [0, 100], k [0, 10]; 4 columns, so every per-column distance is divided by 4
    train = mixed([0.0, 100.0], [0, 10], ["A", "B"], [0, 1])
    rows = mixed([10.0, 30.0, np.nan, 150.0, np.nan], [2, 2, 7, 2, 7], ["A", "B", None, "A", None], [0, 0, 1, 0, 1])
    d = brute(encode(rows, MIXED, train), encode(rows, MIXED, train))
    assert d[0, 1] == pytest.approx((0.2 + 0 + 1 + 0) / 4)  # numeric scaled diff, category mismatch = 1
    assert d[0, 2] == pytest.approx((1 + 0.5 + 1 + 1) / 4)  # missing vs value = 1 (numeric and categorical)
    assert d[1, 2] == pytest.approx((1 + 0.5 + 1 + 1) / 4)  # ... whatever the value
    assert d[2, 4] == 0.0  # missing vs missing = 0
    assert d[0, 3] == pytest.approx((1.0 - 0.1) / 4)  # x = 150 is clipped to the train max 100
    assert d.max() <= 1.0 + 1e-6
    dist, idx = nearest(encode(rows.iloc[[1]], MIXED, train), encode(rows.iloc[[0, 2]], MIXED, train), k=2)
    assert dist[0] == pytest.approx([0.3, 0.875]) and list(idx[0]) == [0, 1]


def test_nearest_is_exact_on_both_search_paths_and_handles_duplicates():
    train = random_real(1500, seed=1)
    base = encode(train, MIXED, train)
    base = np.concatenate([base, base[:200]])  # exact duplicates
    query = encode(pd.concat([random_real(300, seed=2), train.iloc[:50]]), MIXED, train)
    full = brute(query, base)
    want = np.sort(full, axis=1)[:, :2]
    ubase, _ = unique_rows(base)
    uquery, _ = unique_rows(query)
    assert _grouped_search(uquery, ubase, 2, categorical_slice(MIXED), None) is not None  # grouped path taken
    for group in (categorical_slice(MIXED), None):
        dist, idx = nearest(query, base, k=2, group=group)
        np.testing.assert_allclose(dist, want, atol=1e-6)
        np.testing.assert_allclose(full[np.arange(len(query))[:, None], idx], want, atol=1e-6)  # indices agree
        d1, _ = nearest(query, base, k=1, group=group)
        np.testing.assert_allclose(d1[:, 0], want[:, 0], atol=1e-6)
    # a row present twice in base: nearest and 2nd nearest are its two occurrences, both at 0
    dist, idx = nearest(base[[5]], base, k=2, group=categorical_slice(MIXED))
    assert list(dist[0]) == [0.0, 0.0] and sorted(idx[0]) == [5, 1505]


def test_row_ids_match_row_keys():
    frame = mixed([1.04, 1.0, np.nan, np.nan, 2.0], [3, 3, 3, 3, 3], ["A", "A", None, None, "A"], [0, 0, 1, 1, 0])
    ids = privacy.row_ids([frame], MIXED)[0]
    keys = row_keys(frame, MIXED)
    k = keys.to_numpy()
    np.testing.assert_array_equal(ids[:, None] == ids[None, :], k[:, None] == k[None, :])
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[4]  # 1.04 and 1.0 both print as "1.0"


# --- privacy, hand-computable --------------------------------------------------------------------------------------

# train x {0, 100}: range 100, 2 columns. s1 copies train row 0; s2 copies holdout row 1; s3 is 0.125 from both
TRAIN = xy([0.0, 100.0], [0, 0])
HOLDOUT = xy([50.0, 100.0], [0, 1])
SYN = xy([0.0, 100.0, 75.0], [0, 1, 0])


def test_privacy_by_hand():
    m = score(XY, TRAIN, HOLDOUT, SYN)
    assert m["n_synthetic"] == 3
    assert m["exact_copy_train_share"] == pytest.approx(1 / 3)
    assert m["exact_copy_holdout_share"] == pytest.approx(1 / 3)
    assert m["exact_copy_examples_share"] == 0.0  # no examples
    # DCR to train: s1 0, s2 (0 + 1)/2 = 0.5, s3 0.25/2 = 0.125; to holdout: 0.25, 0, 0.125
    assert m["dcr_train_median"] == pytest.approx(0.125)
    assert m["dcr_holdout_median"] == pytest.approx(0.125)
    # closer: s1 yes (1), s2 no (0), s3 tie (0.5)
    assert m["dcr_closer_to_train_share"] == pytest.approx(0.5)
    assert m["dcr_closer_to_train_share_size_adjusted"] == pytest.approx(0.5)
    # NNDR: s1 copy -> 0; s2 0.5 / 1.0; s3 0.125 / 0.375
    assert m["nndr_median"] == pytest.approx(1 / 3)
    # holdout->train DCR [0.25, 0.5]: 5th percentile 0.2625; s1 and s3 are below
    assert m["near_copy_threshold"] == pytest.approx(0.2625)
    assert m["near_copy_share"] == pytest.approx(2 / 3)
    # MIA: member scores -0, -0.125; non-member scores -0.125, -0 -> one win, two ties, one loss
    assert m["mia_auc"] == pytest.approx(0.5)
    # QI x in train-decile bins (edges 10..90): train bins {0, 9}, holdout {5, 9}, synthetic {0, 9, 7}
    assert m["qi_unique_match_share"] == pytest.approx(2 / 3)
    assert m["qi_unique_match_share_train_sub"] == pytest.approx(2 / 3)
    assert m["qi_unique_match_share_holdout"] == pytest.approx(1 / 3)
    assert m["qi_singled_out_train_share"] == pytest.approx(1.0)
    assert m["qi_singled_out_holdout_share"] == pytest.approx(0.5)


def test_copies_of_train_fail_by_hand():
    m = score(XY, TRAIN, HOLDOUT, TRAIN.copy())
    assert m["exact_copy_train_share"] == 1.0 and m["exact_copy_holdout_share"] == 0.0
    assert m["dcr_train_median"] == 0.0 and m["nndr_median"] == 0.0
    assert m["dcr_closer_to_train_share"] == 1.0 and m["dcr_closer_to_train_share_size_adjusted"] == 1.0
    assert m["near_copy_share"] == 1.0
    assert m["mia_auc"] == 1.0 and m["mia_tpr_at_fpr_0.1"] == 1.0 and m["mia_tpr_at_fpr_0.01"] == 1.0


def test_ties_count_half():
    # the synthetic row duplicates a row present in both train and holdout: no evidence either way
    train = xy([10.0, 90.0], [0, 1])
    holdout = xy([10.0, 40.0], [0, 1])
    m = score(XY, train, holdout, xy([10.0], [0]))
    assert m["dcr_closer_to_train_share"] == 0.5  # a strict '<' (SDMetrics) would give 0
    assert m["dcr_closer_to_train_share_size_adjusted"] == 0.5
    assert m["exact_copy_train_share"] == 1.0 and m["exact_copy_holdout_share"] == 1.0


def test_tpr_at_fpr_interpolates_the_roc():
    fpr, tpr = np.array([0.0, 0.0, 0.2, 1.0]), np.array([0.0, 0.4, 0.8, 1.0])
    assert privacy._tpr_at_fpr(fpr, tpr, 0.1) == pytest.approx(0.6)
    assert privacy._tpr_at_fpr(fpr, tpr, 0.0) == pytest.approx(0.4)
    assert privacy._tpr_at_fpr(fpr, tpr, 1.0) == pytest.approx(1.0)


# --- privacy, seeded random real data ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_sets():
    return random_real(400, seed=10), random_real(400, seed=11), random_real(400, seed=12)


def test_copies_of_train_fail(real_sets):
    train, holdout, _ = real_sets
    m = score(MIXED, train, holdout, train.sample(frac=1.0, random_state=0))
    assert m["exact_copy_train_share"] == 1.0
    assert m["dcr_train_median"] == 0.0 and m["nndr_median"] == 0.0
    assert m["dcr_closer_to_train_share"] > 0.95
    assert m["dcr_closer_to_train_share_size_adjusted"] > 0.95
    assert m["near_copy_share"] == 1.0
    assert m["mia_auc"] > 0.95 and m["mia_tpr_at_fpr_0.1"] > 0.9


def test_unseen_real_rows_pass(real_sets):
    train, holdout, fresh = real_sets
    m = score(MIXED, train, holdout, fresh)
    assert m["exact_copy_train_share"] < 0.05
    assert 0.4 < m["dcr_closer_to_train_share"] < 0.6
    assert 0.4 < m["dcr_closer_to_train_share_size_adjusted"] < 0.6
    assert m["near_copy_share"] < 0.15
    assert m["nndr_median"] > 0.5
    assert 0.4 < m["mia_auc"] < 0.6 and m["mia_tpr_at_fpr_0.1"] < 0.25


def test_share_compares_equal_sized_sets():
    # train 6x larger than holdout: the nearest of more rows is closer by chance
    train, holdout, fresh = random_real(2400, seed=20), random_real(400, seed=21), random_real(600, seed=22)
    m = score(MIXED, train, holdout, fresh)
    assert 0.4 < m["dcr_closer_to_train_share"] < 0.6
    assert 0.4 < m["dcr_closer_to_train_share_size_adjusted"] < 0.6
    assert m["n_compare"] == 400
    e_tr, e_ho, e_sy = (encode(f, MIXED, train) for f in (train, holdout, fresh))
    naive = np.mean(nearest(e_sy, e_tr)[0][:, 0] < nearest(e_sy, e_ho)[0][:, 0])  # full train vs holdout
    assert naive > 0.7  # what an unequal comparison would have reported for unseen rows
    # copies of train: the subsampled share is capped at 0.5 + 0.5 * 400/2400, the size-adjusted one is not
    copies = score(MIXED, train, holdout, train.sample(600, random_state=1))
    assert 0.5 < copies["dcr_closer_to_train_share"] < 0.5 + 0.5 * 400 / 2400 + 0.08
    assert copies["dcr_closer_to_train_share_size_adjusted"] > 0.9


def test_prompt_example_collapse_fails(real_sets):
    train, holdout, fresh = real_sets
    examples = train.iloc[:3]
    collapsed = pd.concat([examples] * 30, ignore_index=True)  # the SynLLM failure: the examples echoed
    m = score(MIXED, train, holdout, collapsed, examples=examples)
    assert m["exact_copy_examples_share"] == 1.0 and m["exact_copy_train_share"] == 1.0
    assert m["dcr_closer_to_train_share"] == 1.0 and m["near_copy_share"] == 1.0
    ok = score(MIXED, train, holdout, fresh, examples=examples)
    assert ok["exact_copy_examples_share"] == 0.0
    broken = score(MIXED, train, holdout, collapsed, examples=examples[["x", "k"]])  # not a silent 0.0
    assert broken["exact_copy_examples_share"] is None and "lacks columns" in broken["exact_copy_examples_share.error"]


def test_deterministic_given_seed(real_sets):
    train, holdout, fresh = real_sets
    big_train = pd.concat([train, fresh], ignore_index=True)  # larger than holdout: the subsample is random
    a = score(MIXED, big_train, holdout, fresh.iloc[:100], seed=3)
    b = score(MIXED, big_train, holdout, fresh.iloc[:100], seed=3)
    assert a == b


# --- errors are explicit, never raised -----------------------------------------------------------------------------

def test_empty_synthetic_gives_errors(real_sets):
    train, holdout, _ = real_sets
    m = score(MIXED, train, holdout, train.iloc[:0])
    assert m["n_synthetic"] == 0
    for name in privacy.METRICS:
        assert m[name] is None and m[f"{name}.error"] == "no synthetic rows"


def test_no_holdout_and_no_quasi_identifiers(real_sets):
    train, _, fresh = real_sets
    m = score(MIXED, train, train.iloc[:0], fresh)
    assert m["dcr_train_median"] is not None and m["exact_copy_train_share"] is not None
    for name in privacy.HOLDOUT_METRICS:
        assert m[name] is None and m[f"{name}.error"] == "no holdout rows"
    no_qi = make_spec(MIXED_COLUMNS)
    m = score(no_qi, train, real_sets[1], fresh)
    for name in privacy.QI_METRICS:
        assert m[name] is None and "quasi_identifiers" in m[f"{name}.error"]
    assert m["mia_auc"] is not None


# --- the real cirrhosis table -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cirrhosis():
    spec = load_spec(spec_path("cirrhosis"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


def test_cirrhosis_copies_fail_and_unseen_rows_pass(cirrhosis):
    spec, parts = cirrhosis
    train, holdout, reference = parts["train"], parts["holdout"], parts["reference"]
    n_tr, n_ho = len(train), len(holdout)
    copies = score(spec, train, holdout, train.copy(), examples=train.iloc[:3])
    fresh = score(spec, train, holdout, reference, examples=train.iloc[:3])

    assert copies["exact_copy_train_share"] == 1.0 and fresh["exact_copy_train_share"] == 0.0
    assert copies["exact_copy_examples_share"] == pytest.approx(3 / n_tr) and fresh["exact_copy_examples_share"] == 0
    assert copies["dcr_train_median"] == 0.0 < fresh["dcr_train_median"]
    assert copies["nndr_median"] == 0.0 and fresh["nndr_median"] > 0.5
    # every train row is copied, but only copies of rows in the equal-sized subsample (n_ho / n_tr of them) count
    # as closer for sure; the others behave like unseen rows: 0.5 + 0.5 * n_ho / n_tr = 0.71 expected
    assert copies["dcr_closer_to_train_share"] > n_ho / n_tr + 0.15
    assert copies["dcr_closer_to_train_share"] > fresh["dcr_closer_to_train_share"] + 0.15
    assert 0.35 < fresh["dcr_closer_to_train_share"] < 0.65
    assert copies["dcr_closer_to_train_share_size_adjusted"] == 1.0
    assert 0.35 < fresh["dcr_closer_to_train_share_size_adjusted"] < 0.65
    assert copies["near_copy_share"] == 1.0 and fresh["near_copy_share"] < 0.25
    assert copies["mia_auc"] == 1.0 and 0.35 < fresh["mia_auc"] < 0.65
    for m in (copies, fresh):
        for name in privacy.METRICS:
            assert m[name] is not None, (name, m.get(f"{name}.error"))
    # a copy of a train row that is unique on (Age decile, Sex, Drug, Stage) singles out that patient
    assert copies["qi_singled_out_train_share"] == 1.0
    assert copies["qi_singled_out_train_share"] > copies["qi_singled_out_holdout_share"]


def test_sdmetrics_crosscheck_agrees_on_copies_and_unseen_rows():
    """SDMetrics' own DCR and new-row metrics, run beside ours, flag train copies and pass unseen rows too."""
    from conftest import spec_path
    from medsyn.data import load_real
    from medsyn.evaluate import EvalInputs
    from medsyn.evaluate.privacy_crosscheck import compute as sdmetrics_crosscheck
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(spec_path("pima"))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    copies = parts["train"].sample(80, random_state=1)
    unseen = parts["reference"].sample(80, random_state=1)
    mk = lambda syn: EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], syn, seed=1)  # noqa
    c, u = sdmetrics_crosscheck(mk(copies)), sdmetrics_crosscheck(mk(unseen))
    assert c["sdmetrics_new_row_share"] == 0.0 and u["sdmetrics_new_row_share"] > 0.9
    # SDMetrics does not correct for train being larger than holdout, so unseen rows sit above 0.5: only the order
    # is asserted (our size-adjusted share is the headline)
    assert c["sdmetrics_dcr_closer_to_training"] == 1.0 > u["sdmetrics_dcr_closer_to_training"] + 0.1


@pytest.mark.parametrize("name", ["pima", "cirrhosis", "stroke"])
def test_vectorised_crosscheck_gives_sdmetrics_values(name, shared_data):
    """The cross-check's DCR share and new-row share equal sdmetrics' own DCROverfittingProtection and
    NewRowSynthesis on the same samples: copies (ties at distance 0, duplicated real rows), near-copies (one value
    moved by less than the 1% new-row tolerance, and by more), unseen rows and independent columns (missing values
    where the real column has them: stroke bmi, cirrhosis labs)."""
    import warnings

    from sdmetrics.single_table import DCROverfittingProtection, NewRowSynthesis

    from medsyn.baselines import marginals_baseline
    from medsyn.evaluate.encoding import sdmetrics_metadata, to_sdmetrics_frame
    from medsyn.evaluate.privacy_crosscheck import compute as crosscheck, samples

    spec = load_spec(spec_path(name))
    if name == "stroke":
        spec = spec.with_csv(str(shared_data / "stroke.csv"))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    train = parts["train"]
    num = [c.name for c in spec.columns if c.type == "float"][0]
    nudged = train.sample(60, random_state=2).reset_index(drop=True)
    nudged.loc[:29, num] = nudged.loc[:29, num] * 1.004  # within the 1% tolerance: still matches
    nudged.loc[30:, num] = nudged.loc[30:, num] * 1.5 + 1  # far outside it: new rows
    tables = {"copies": train.sample(90, random_state=1), "nudged": nudged,
              "unseen": parts["reference"].sample(min(120, len(parts["reference"])), random_state=1),
              "marginals": marginals_baseline(train[spec.column_names], 150, np.random.default_rng(3))}
    meta = sdmetrics_metadata(spec)
    for label, syn in tables.items():
        inputs = EvalInputs(spec, train, parts["holdout"], parts["reference"], syn.reset_index(drop=True), seed=4)
        ours = crosscheck(inputs)
        syn_s, tr_s, ho_s = samples(inputs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dcr = DCROverfittingProtection.compute_breakdown(tr_s, syn_s, ho_s, meta, None)
            new = NewRowSynthesis.compute(to_sdmetrics_frame(train, spec), syn_s, meta, numerical_match_tolerance=0.01)
        closer = dcr["synthetic_data_percentages"]["closer_to_training"]
        assert ours["sdmetrics_dcr_closer_to_training"] == pytest.approx(closer, abs=1e-12), (name, label)
        assert ours["sdmetrics_new_row_share"] == pytest.approx(new, abs=1e-12), (name, label)
    assert 0.0 < crosscheck(EvalInputs(spec, train, parts["holdout"], parts["reference"], nudged, seed=4))[
        "sdmetrics_new_row_share"] < 1.0


# --- 95% intervals ---------------------------------------------------------------------------------------------


def _pima():
    spec = load_spec(spec_path("pima"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


def test_sixty_copies_of_one_row_get_wide_intervals():
    """60 copies of one train row are one row of evidence: n_effective = 1 and every share's interval is wide."""
    spec, parts = _pima()
    m = score(spec, parts["train"], parts["holdout"], parts["train"].iloc[[7] * 60])
    assert m["n_clusters"] == 1 and m["n_effective"] == pytest.approx(1.0)
    for key in ("exact_copy_train_share", "exact_copy_real_share", "dcr_closer_to_train_share",
                "dcr_closer_to_train_share_size_adjusted", "near_copy_share"):
        lo, hi = m[f"{key}_ci95_low"], m[f"{key}_ci95_high"]
        assert lo <= m[key] <= hi and hi - lo > 0.5, (key, lo, m[key], hi)
    assert m["exact_copy_train_share"] == 1.0 and m["dcr_closer_to_train_share_size_adjusted"] == 1.0
    # the same 60 rows scored as independent rows would give a tight interval: the clustering is what widens it
    from medsyn.evaluate.privacy_intervals import wilson
    assert wilson(1.0, 60)[0] > 0.9


def test_sixty_distinct_unseen_rows_get_intervals_around_one_half():
    """60 distinct real rows no generator saw (the reference split, what the holdout baseline draws): the DCR
    shares and the MIA AUC get intervals that contain 0.5 and are not wide."""
    spec, parts = _pima()
    unseen = parts["reference"].drop_duplicates().iloc[:60]
    m = score(spec, parts["train"], parts["holdout"], unseen, seed=3)
    assert m["n_effective"] > 40
    for key in ("dcr_closer_to_train_share", "dcr_closer_to_train_share_size_adjusted", "mia_auc"):
        lo, hi = m[f"{key}_ci95_low"], m[f"{key}_ci95_high"]
        assert lo < 0.5 < hi and hi - lo < 0.4, (key, lo, m[key], hi)
    assert m["exact_copy_train_share_ci95_high"] < 0.1  # no copies, and the interval says few are likely


def test_wilson_and_delong_intervals_by_hand():
    from medsyn.evaluate.privacy_intervals import auc_interval, effective_size, wilson

    # Wilson, 1 success in 1 (z = 1.96): centre (1 + z^2/2) / (1 + z^2) = 0.603, half-width 0.397
    assert wilson(1.0, 1) == pytest.approx((0.2065, 1.0), abs=1e-3)
    assert wilson(0.5, 100) == pytest.approx((0.4038, 0.5962), abs=1e-3)
    assert wilson(0.3, 0) == (0.0, 1.0)
    # Kish: sizes 2, 1, 1 -> 16 / 6
    assert effective_size(np.array([5, 5, 3, 9])) == pytest.approx(16 / 6)
    # DeLong: perfectly separated scores -> AUC 1 with zero variance; identical scores -> 0.5
    assert auc_interval(np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0])) == (1.0, 1.0)
    lo, hi = auc_interval(np.zeros(50), np.zeros(50))
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    lo, hi = auc_interval(rng.normal(0.5, 1, 400), rng.normal(0, 1, 400))
    assert lo < 0.638 < hi and 0.05 < hi - lo < 0.1  # true AUC = Phi(0.5 / sqrt(2)) = 0.638
