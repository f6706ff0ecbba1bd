"""Fidelity and diversity families: every metric must FAIL on a hand-computable broken table.

Realistic cases use the real cirrhosis table (train/holdout/reference split); exact values use small hand-built
frames. The paper's per-sample min-max scaling (synllm-reference.md flaw 5) is recomputed inline to show what it
misses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from conftest import spec_path
from medsyn.data import load_real
from medsyn.evaluate import EvalInputs, diversity, fidelity
from medsyn.evaluate.association import association_matrix
from medsyn.spec import load_spec, spec_from_dict
from medsyn.split import split_real

HAND_SPEC = spec_from_dict(
    {
        "name": "hand",
        "title": "hand-built",
        "source": {"csv": None},
        "target": "y",
        "columns": [
            {"name": "x", "type": "float", "min": 0, "max": 1000, "decimals": 1, "allow_missing": True,
             "definition": "a float"},
            {"name": "k", "type": "integer", "min": 0, "max": 1000, "allow_missing": True, "definition": "an int"},
            {"name": "c", "type": "categorical", "levels": ["A", "B", "C"], "allow_missing": True,
             "definition": "a category"},
            {"name": "y", "type": "binary", "levels": [0, 1], "definition": "the target"},
        ],
    }
)


def hand(x, k, c, y) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": pd.Series(x, dtype="float64"),
            "k": pd.Series(k, dtype="Int64"),
            "c": pd.Series(c, dtype=object),
            "y": pd.Series([str(v) for v in y], dtype=object),
        }
    )


def run(spec, train, synthetic, seed=0) -> dict:
    inputs = EvalInputs(spec=spec, train=train, holdout=train.iloc[:0], reference=train.iloc[:0],
                        synthetic=synthetic, seed=seed)
    return {**fidelity.compute(inputs), **diversity.compute(inputs)}


@pytest.fixture(scope="module")
def cirrhosis():
    spec = load_spec(spec_path("cirrhosis"))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    return spec, parts


@pytest.fixture(scope="module")
def copy_scores(cirrhosis):
    spec, parts = cirrhosis
    return run(spec, parts["train"], parts["train"].copy())


@pytest.fixture(scope="module")
def reference_scores(cirrhosis):
    spec, parts = cirrhosis
    return run(spec, parts["train"], parts["reference"])


# --- marginals -----------------------------------------------------------------------------------------------------


def test_shift_of_two_sd_is_caught_on_the_real_scale_but_not_by_per_sample_minmax(cirrhosis, reference_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    sd = train["Albumin"].std()
    shifted = train.copy()
    shifted["Albumin"] = shifted["Albumin"] + 2 * sd
    m = run(spec, train, shifted)
    ref = reference_scores

    # KS complement collapses; the unseen real reference keeps it high
    assert ref["ks_complement.Albumin"] > 0.8
    assert m["ks_complement.Albumin"] < 0.5
    assert m["ks_complement_min"] == m["ks_complement.Albumin"]
    # Wasserstein on the real scale / train sd: a pure shift of 2 sd is exactly 2
    assert m["wasserstein_sd.Albumin"] == pytest.approx(2.0, rel=1e-9)
    assert ref["wasserstein_sd.Albumin"] < 0.5
    assert m["wasserstein_sd_max"] == pytest.approx(2.0, rel=1e-9)
    # the paper's reading: each sample min-max scaled by its own range -> the shift vanishes
    r = train["Albumin"].to_numpy(float)
    s = shifted["Albumin"].to_numpy(float)
    minmax = wasserstein_distance((r - r.min()) / np.ptp(r), (s - s.min()) / np.ptp(s))
    assert minmax < 1e-9
    # and the paper's sd ratio is blind to a shift too (its mean error is not, hence both are kept, labelled)
    assert m["paper_std_diff.Albumin"] == pytest.approx(0.0, abs=1e-12)
    assert m["paper_relative_mean_error.Albumin"] == pytest.approx(2 * sd / r.mean(), rel=1e-9)
    # binned on train quantiles, the shifted sample piles up in the upper bins and the overflow bin
    assert m["js_distance.Albumin"] > ref["js_distance.Albumin"] + 0.3
    # boundary adherence: share of shifted values still inside the train [min, max]
    assert m["boundary_adherence.Albumin"] == pytest.approx(float(np.mean(s <= r.max())))
    assert m["boundary_adherence.Albumin"] < ref["boundary_adherence.Albumin"] - 0.3
    # one shifted column is enough for the classifier
    assert m["detection_auc"] > 0.9


def test_permuted_categories_lower_tv_complement(cirrhosis, copy_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    swapped = train.copy()
    swapped["Status"] = swapped["Status"].map({"C": "CL", "CL": "C", "D": "D"})
    m = run(spec, train, swapped)
    p = train["Status"].value_counts(normalize=True)
    assert m["tv_complement.Status"] == pytest.approx(1 - abs(p["C"] - p["CL"]))
    assert m["tv_complement.Status"] < 0.6
    assert copy_scores["tv_complement.Status"] == pytest.approx(1.0)
    assert m["js_distance.Status"] > 0.1
    assert m["tv_complement_min"] == m["tv_complement.Status"]
    # coverage alone cannot see a permutation (every level still appears): why TV is reported next to it
    assert m["category_coverage.Status"] == 1.0
    assert m["invented_category_share.Status"] == 0.0


def test_invented_categories_count_in_one_other_bucket():
    train = hand([1.0] * 10, [1] * 10, ["A"] * 6 + ["B"] * 4, [0, 1] * 5)
    syn = hand([1.0] * 10, [1] * 10, ["A"] * 5 + ["X"] * 3 + ["Y"] * 2, [0, 1] * 5)
    m = fidelity.compute(EvalInputs(HAND_SPEC, train, train.iloc[:0], train.iloc[:0], syn))
    assert m["invented_category_share.c"] == pytest.approx(0.5)
    # real {A .6, B .4, other 0} vs synthetic {A .5, B 0, other .5}: TV = (0.1 + 0.4 + 0.5) / 2
    assert m["tv_complement.c"] == pytest.approx(0.5)
    assert m["category_coverage.c"] == pytest.approx(0.5)  # B never generated
    assert m["invented_category_share_max"] == pytest.approx(0.5)
    eps = fidelity.JS_SMOOTHING
    p = np.array([0.6, 0.4, 0.0]) + eps
    q = np.array([0.5, 0.0, 0.5]) + eps
    p, q = p / p.sum(), q / q.sum()
    mid = (p + q) / 2
    js = math.sqrt((np.sum(p * np.log2(p / mid)) + np.sum(q * np.log2(q / mid))) / 2)
    assert m["js_distance.c"] == pytest.approx(js)


def test_paper_mean_and_sd_ratios_by_hand():
    train = hand([8.0, 10.0, 12.0], [1, 2, 3], ["A", "B", "A"], [0, 1, 0])
    shifted = hand([10.0, 12.0, 14.0], [1, 2, 3], ["A", "B", "A"], [0, 1, 0])
    spread = hand([6.0, 10.0, 14.0], [1, 2, 3], ["A", "B", "A"], [0, 1, 0])
    a = fidelity.compute(EvalInputs(HAND_SPEC, train, train.iloc[:0], train.iloc[:0], shifted))
    b = fidelity.compute(EvalInputs(HAND_SPEC, train, train.iloc[:0], train.iloc[:0], spread))
    assert a["paper_relative_mean_error.x"] == pytest.approx(0.2)  # |12 - 10| / 10
    assert a["paper_std_diff.x"] == pytest.approx(0.0)
    assert a["wasserstein_sd.x"] == pytest.approx(1.0)  # shift 2 / train sd 2
    assert b["paper_relative_mean_error.x"] == pytest.approx(0.0)
    assert b["paper_std_diff.x"] == pytest.approx(1.0)  # sd 4 vs 2
    assert b["wasserstein_sd.x"] == pytest.approx((2 + 0 + 2) / 3 / 2)
    assert a["ks_complement.x"] == pytest.approx(2 / 3)  # max |F_real - F_syn| = 1/3


def test_all_missing_synthetic_column_never_raises():
    train = hand(np.arange(20.0), list(range(20)), ["A", "B"] * 10, [0, 1] * 10)
    syn = hand([np.nan] * 20, list(range(20)), [None] * 10 + ["A"] * 10, [0, 1] * 10)
    m = run(HAND_SPEC, train, syn)
    assert m["missing_share_diff.x"] == pytest.approx(1.0)
    assert m["missing_share_diff.c"] == pytest.approx(0.5)
    assert m["missing_share_diff_max"] == pytest.approx(1.0)
    assert m["ks_complement.x"] is None and "synthetic" in m["ks_complement.x.error"]
    assert m["range_coverage.x"] == 0.0  # covers none of the real range
    assert m["ks_complement_n"] == 1 and m["ks_complement"] == pytest.approx(1.0)  # only k entered the mean
    assert m["entropy_ratio.x"] == 0.0  # every value in the missing bin
    assert m["detection_auc"] is not None


def test_empty_synthetic_gives_none_with_reasons(cirrhosis):
    spec, parts = cirrhosis
    m = run(spec, parts["train"], parts["train"].iloc[:0])
    counts = [k for k in m if k.endswith("_n") or k.endswith("_rows")]
    values = [k for k in m if not k.endswith(".error") and k not in counts]
    assert values
    for key in values:
        assert m[key] is None, key
        assert isinstance(m[f"{key}.error"], str), key
    assert m["detection_rows"] == 0 and m["quality_report_rows"] == 0
    assert m["association_diff_max.error"] == "synthetic table has no rows"


def test_constant_train_column_is_not_computable_not_an_error():
    train = hand([5.0] * 10, list(range(10)), ["A"] * 10, [0, 1] * 5)
    syn = hand([5.0] * 5 + [6.0] * 5, list(range(10)), ["A"] * 5 + ["B"] * 5, [0, 1] * 5)
    m = run(HAND_SPEC, train, syn)
    assert m["wasserstein_sd.x"] is None and "standard deviation" in m["wasserstein_sd.x.error"]
    assert m["range_coverage.x"] is None
    assert m["entropy_ratio.x"] is None and m["entropy_ratio.c"] is None
    assert m["ks_complement.x"] == pytest.approx(0.5)
    assert m["invented_category_share.c"] == pytest.approx(0.5)


def test_errors_name_the_holdout_fidelity_compares_with():
    """Fidelity's real side is the holdout: a reason for a missing value names it (it said "train" before)."""
    train = hand([1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4], ["A", "B", "A", "B"], [0, 1, 0, 1])
    holdout = hand([5.0] * 4, [1, 2, 3, 4], ["A", "B", "A", "B"], [0, 1, 0, 1])  # constant x, mean 5
    syn = hand([4.0, 5.0, 6.0, 7.0], [1, 2, 3, 4], ["A", "B", "A", "A"], [0, 1, 0, 1])
    m = fidelity.compute(EvalInputs(HAND_SPEC, train, holdout, holdout.iloc[:0], syn))
    assert m["wasserstein_sd.x.error"] == "holdout standard deviation is 0 or undefined"
    assert m["range_coverage.x.error"] == "holdout column is constant (no range to cover)"
    none_present = holdout.assign(c=[None] * 4)
    m = fidelity.compute(EvalInputs(HAND_SPEC, train, none_present, holdout.iloc[:0], syn))
    assert m["tv_complement.c.error"] == "no non-missing values in holdout"
    assert not any("train" in str(v) for k, v in m.items() if k.endswith(".error"))
    # without a holdout (hand-built inputs) train is the real side, and the reasons say so
    m = fidelity.compute(EvalInputs(HAND_SPEC, holdout, holdout.iloc[:0], holdout.iloc[:0], syn))
    assert m["wasserstein_sd.x.error"] == "train standard deviation is 0 or undefined"



# --- collapse and diversity ----------------------------------------------------------------------------------------


def test_constant_synthetic_column_has_zero_entropy_and_no_range(cirrhosis, copy_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    collapsed = train.copy()
    value = float(train["Albumin"].median())
    collapsed["Albumin"] = value
    collapsed["Edema"] = "N"
    m = run(spec, train, collapsed)
    assert m["entropy_ratio.Albumin"] == 0.0
    assert m["entropy_ratio.Edema"] == 0.0
    assert m["entropy_ratio_min"] == 0.0
    assert copy_scores["entropy_ratio.Albumin"] == pytest.approx(1.0)
    # a single value covers nothing of the real range: 1 - ((v - min) + (max - v)) / (max - min) = 0
    assert m["range_coverage.Albumin"] == pytest.approx(0.0)
    assert m["range_coverage_min"] == pytest.approx(0.0)
    assert m["category_coverage.Edema"] == pytest.approx(1 / 3)
    # the per-sample min-max of the paper scores a constant column 0 distance ("perfect"); ours does not
    assert m["wasserstein_sd.Albumin"] > 0.3
    assert m["association_diff_max"] > 0.2  # Albumin and Edema no longer relate to anything


def test_duplicated_rows_lower_unique_row_share(cirrhosis, copy_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    dup = pd.concat([train.iloc[:5]] * 4)
    m = diversity.compute(EvalInputs(spec, train, train.iloc[:0], train.iloc[:0], dup))
    assert m["unique_row_share"] == pytest.approx(5 / 20)
    assert m["duplicate_rate"] == pytest.approx(0.75)
    assert copy_scores["unique_row_share"] == 1.0


def test_entropy_ratio_by_hand():
    # train x: 10 distinct values -> 10 decile bins, uniform: H = log2(10)
    train = hand(np.arange(10.0), list(range(10)), list("AABBCCAABB"), [0, 1] * 5)
    # synthetic: two values -> two bins, half each: H = 1
    syn = hand([0.0] * 5 + [9.0] * 5, list(range(10)), list("AABBCCAABB"), [0, 1] * 5)
    m = diversity.compute(EvalInputs(HAND_SPEC, train, train.iloc[:0], train.iloc[:0], syn))
    assert m["entropy_ratio.x"] == pytest.approx(1 / math.log2(10))
    assert m["entropy_ratio.c"] == pytest.approx(1.0)


# --- pairs ---------------------------------------------------------------------------------------------------------


def test_shuffling_one_column_breaks_associations(cirrhosis, copy_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    rng = np.random.default_rng(3)
    broken = train.copy()
    broken["Bilirubin"] = rng.permutation(broken["Bilirubin"].to_numpy())
    broken["Stage"] = rng.permutation(broken["Stage"].to_numpy())
    m = run(spec, train, broken)
    assert copy_scores["association_diff_max"] == pytest.approx(0.0, abs=1e-12)
    assert copy_scores["correlation_similarity_min"] == pytest.approx(1.0)
    assert copy_scores["contingency_similarity_min"] == pytest.approx(1.0)
    # marginals untouched ...
    assert m["ks_complement.Bilirubin"] == pytest.approx(1.0)
    assert m["tv_complement.Stage"] == pytest.approx(1.0)
    # ... dependence gone
    real = association_matrix(train, spec)
    assert m["association_diff_max"] > 0.3
    assert m["association_diff_max"] >= abs(real.loc["Bilirubin", "Albumin"]) - 0.2
    assert m["association_diff_mean"] > copy_scores["association_diff_mean"]
    assert m["correlation_similarity_min"] < 0.85
    assert m["contingency_similarity_min"] < 0.95
    # rows paired with train rows (near-copies) make the cross-validated classifier anti-learn: below 0.5, where
    # an unseen real sample sits above 0.5 -- read it against the reference, never as "better than real"
    assert m["detection_auc"] < 0.45


def test_association_matrix_by_hand():
    n = 300
    rng = np.random.default_rng(0)
    c = np.array(["A", "B", "C"])[np.arange(n) % 3]
    x = np.where(c == "A", 1.0, np.where(c == "B", 2.0, 3.0))  # fully determined by c
    k = (x * 10).astype(int)  # monotone in x
    y = (c == "A").astype(int)  # y is a function of c (not vice versa)
    frame = hand(x, k, c, y)
    mat = association_matrix(frame, HAND_SPEC)
    assert (np.diag(mat.to_numpy()) == 1).all()
    assert np.allclose(mat.to_numpy(), mat.to_numpy().T)
    assert mat.loc["x", "k"] == pytest.approx(1.0)  # Spearman
    assert mat.loc["x", "c"] == pytest.approx(1.0)  # eta
    assert mat.loc["c", "x"] == pytest.approx(1.0)
    assert 0.95 < mat.loc["c", "y"] <= 1.0  # bias-corrected Cramer's V, dependent
    indep = hand(rng.normal(size=n) + 10, rng.integers(0, 100, n), rng.choice(["A", "B", "C"], n),
                 rng.integers(0, 2, n))
    mi = association_matrix(indep, HAND_SPEC)
    off = mi.to_numpy()[np.triu_indices(4, 1)]
    assert np.all(np.abs(off) < 0.2)
    const = frame.assign(c="A")
    assert association_matrix(const, HAND_SPEC).loc["c", "x"] == 0.0  # constant: no association


# --- whole table ---------------------------------------------------------------------------------------------------


def test_detection_auc_copy_near_half_noise_near_one(cirrhosis, copy_scores):
    spec, parts = cirrhosis
    train = parts["train"]
    rng = np.random.default_rng(7)
    noise = {}
    for col in spec.columns:
        if col.is_numeric:
            v = rng.uniform(col.min, col.max, len(train))
            noise[col.name] = pd.Series(np.round(v), dtype="Int64") if col.type == "integer" else pd.Series(v)
        else:
            noise[col.name] = pd.Series(rng.choice(list(col.levels), len(train)), dtype=object)
    noise = pd.DataFrame(noise)
    m = run(spec, train, noise)
    assert abs(copy_scores["detection_auc"] - 0.5) < 0.1
    assert m["detection_auc"] > 0.95
    assert copy_scores["detection_rows"] == len(train)
    assert m["quality_report_score"] < copy_scores["quality_report_score"] - 0.2
    assert copy_scores["quality_report_score"] > 0.95
    assert copy_scores["quality_report_rows"] == len(train)


def test_seeded_and_does_not_edit_inputs(cirrhosis):
    spec, parts = cirrhosis
    train, ref = parts["train"], parts["reference"]
    before_t, before_r = train.copy(), ref.copy()
    a = run(spec, train, ref, seed=5)
    b = run(spec, train, ref, seed=5)
    assert a == b
    pd.testing.assert_frame_equal(train, before_t)
    pd.testing.assert_frame_equal(ref, before_r)
    for key, value in a.items():
        assert value is None or isinstance(value, (int, float, str)), key
        if value is None:
            assert f"{key}.error" in a


def test_unseen_real_reference_scores_well(reference_scores):
    m = reference_scores
    assert m["ks_complement"] > 0.8
    assert m["tv_complement"] > 0.8
    assert m["wasserstein_sd"] < 0.3
    assert m["invented_category_share"] == 0.0
    assert m["quality_report_score"] > 0.75


def test_detection_separates_small_tables():
    """20-row tables: obviously fake rows must be detected (sklearn's default leaf size would give 0.5)."""
    from medsyn.data import load_real
    from medsyn.evaluate.fidelity import detection_auc
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(str(__import__("conftest").spec_path("pima")))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    fake = parts["train"].sample(20, random_state=1).copy()
    fake["Glucose"] = 299.0
    fake["BMI"] = 60.0
    auc, n, err = detection_auc(parts["holdout"], fake, spec, seed=1)
    assert err is None and n == 20 and auc > 0.9


@pytest.mark.parametrize("name", ["pima", "cirrhosis", "stroke"])
def test_quality_report_with_a_cached_real_side_equals_sdmetrics(name, shared_data):
    """quality_report.scores (real side computed once) gives QualityReport().generate's three scores: unseen rows,
    copies, independent columns, a tiny table, one row repeated (constant columns leave their pairs out)."""
    from medsyn.baselines import marginals_baseline
    from medsyn.evaluate import quality_report
    from medsyn.evaluate.encoding import to_sdmetrics_frame

    spec = load_spec(spec_path(name))
    if name == "stroke":
        spec = spec.with_csv(str(shared_data / "stroke.csv"))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    real_sd = to_sdmetrics_frame(parts["holdout"], spec)
    part = quality_report.real_part(real_sd, spec)
    tables = {"unseen": parts["reference"], "copies": parts["train"].sample(80, random_state=1),
              "marginals": marginals_baseline(parts["train"][spec.column_names], 200, np.random.default_rng(2)),
              "tiny": parts["train"].iloc[:4], "one_row": parts["train"].iloc[[0] * 30]}
    for label, syn in tables.items():
        syn_sd = to_sdmetrics_frame(syn.reset_index(drop=True), spec)
        ours = quality_report.scores(part, real_sd, syn_sd, spec, seed=1)
        library = quality_report._library_report(real_sd, syn_sd, spec, seed=1)
        for key, value in zip(("quality_report_score", "quality_report_column_shapes",
                               "quality_report_column_pair_trends"), library):
            if np.isnan(value):
                assert np.isnan(ours[key]), (name, label, key)
            else:
                assert ours[key] == pytest.approx(value, abs=1e-12), (name, label, key)
