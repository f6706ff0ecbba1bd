"""The SynLLM paper's own metrics (paper-defined), reproduced with their defects, and its harmonic score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import spec_path
from medsyn.evaluate import EvalInputs
from medsyn.evaluate.paper_metrics import (
    compute,
    harmonic_scores,
    kanon_violation,
    minmax_distances,
    minmax_normalise,
    nn_distance_ratio,
    real_subsample,
)
from medsyn.evaluate.suite import evaluate_table
from medsyn.spec import load_spec


@pytest.fixture(scope="module")
def spec():
    return load_spec(spec_path("diabetes"))


def _real(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "gender": rng.choice(["Female", "Male"], n), "age": rng.uniform(1, 80, n).round(1),
        "hypertension": rng.choice(["0", "1"], n, p=[0.9, 0.1]), "heart_disease": rng.choice(["0", "1"], n, p=[0.95, 0.05]),
        "smoking_history": rng.choice(["never", "former", "current"], n), "bmi": rng.normal(27, 6, n).round(2),
        "HbA1c_level": rng.normal(5.5, 1, n).round(1), "blood_glucose_level": rng.normal(138, 40, n).round(0),
        "diabetes": rng.choice(["0", "1"], n, p=[0.85, 0.15]),
    })


def _inputs(spec, synthetic, seed=1):
    real = _real(600)
    return EvalInputs(spec, real.iloc[:400], real.iloc[400:500], real.iloc[500:], synthetic.reset_index(drop=True),
                      seed=seed)


def test_minmax_scaling_per_sample_hides_a_shift():
    # flaw 5: each sample scaled by its own min/max, so a shifted (or rescaled) column looks perfect
    real = np.arange(100.0)
    w, js = minmax_distances(real, real * 3 + 500)
    assert w == pytest.approx(0, abs=1e-12) and js == pytest.approx(0, abs=1e-6)
    assert minmax_distances(real, np.full(100, 7.0)) == (0.0, 0.0)  # a constant column scores "perfect"
    assert minmax_distances(real, real**2)[0] > 0.05


def test_kanon_violation_counts_small_groups_per_row_of_the_synthetic_table():
    frame = pd.DataFrame({"age": [30] * 10 + [40, 50], "gender": ["F"] * 10 + ["M", "M"]})
    # groups: (30,F) x10, (40,M) x1, (50,M) x1 -> 2 groups under 5 rows, over 12 rows
    assert kanon_violation(frame, ["age", "gender"]) == pytest.approx(2 / 12)
    assert kanon_violation(frame.iloc[:10], ["age", "gender"]) == 0.0  # one repeated row: "perfect privacy"


def test_nn_ratio_of_copies_is_zero():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 3))
    copies = np.repeat(real[:2], 50, axis=0)
    assert nn_distance_ratio(real, copies, seed=1) == 0.0
    assert 0.5 < nn_distance_ratio(real, rng.normal(size=(200, 3)), seed=1) < 2


def test_real_subsample_is_the_paper_sample(spec):
    syn = _real(50, seed=5)
    inputs = _inputs(spec, syn)
    a, b = real_subsample(inputs, 50), real_subsample(inputs, 50)
    assert len(a) == 50 and a.equals(b)  # random_state=42, drawn from the whole real table


def test_compute_on_copies_and_on_fresh_rows(spec):
    copies = _inputs(spec, pd.concat([_real(600).iloc[:2]] * 50))
    fresh = _inputs(spec, _real(100, seed=9))
    c, f = compute(copies), compute(fresh)
    assert c["definition"].startswith("paper-defined")
    assert c["kanon_violation_rate"] == 0.0 and f["kanon_violation_rate"] > 0.5  # copies look private
    assert c["nn_distance_ratio"] == 0.0 and f["nn_distance_ratio"] > 0.3
    assert f["relative_mean_error"] < 0.1 and f["correlation_distance"] >= 0
    assert 0 <= f["tstr_accuracy"] <= 1 and f["identifiability"] == 0.0
    assert set(f) >= {"std_difference", "wasserstein_minmax.age", "js_minmax.bmi", "ks_statistic", "clinical_difference"}


def test_relative_mean_error_definition(spec):
    syn = _real(100, seed=3)
    inputs = _inputs(spec, syn)
    real = real_subsample(inputs, 100)
    expected = np.mean([abs(real[c].mean() - syn[c].mean()) / real[c].mean()
                        for c in ("age", "bmi", "HbA1c_level", "blood_glucose_level")])
    assert compute(inputs)["relative_mean_error"] == pytest.approx(expected)


def test_paper_family_in_the_suite(spec):
    out = evaluate_table(_inputs(spec, _real(60, seed=2)), ["paper"])
    assert out["errors"] == {} and "paper.nn_distance_ratio" in out["metrics"]


def test_minmax_normalise_and_constant_component():
    v = pd.Series([1.0, 2.0, 3.0])
    assert list(minmax_normalise(v, True)) == [0.0, 0.5, 1.0]
    assert list(minmax_normalise(v, False)) == [1.0, 0.5, 0.0]
    assert list(minmax_normalise(pd.Series([4.0, 4.0]), True)) == [0.5, 0.5]


def test_harmonic_score_is_relative_to_the_pool():
    table = pd.DataFrame({
        "paper.kanon_violation_age_gender": [0.0, 0.5, 1.0],
        "paper.nn_distance_ratio": [0.0, 0.5, 1.0],
        "paper.identifiability": [0.0, 0.0, 0.0],
        "paper.wasserstein_minmax.age": [0.1, 0.2, 0.3],
        "paper.correlation_distance": [1.0, 2.0, 3.0],
    })
    h = harmonic_scores(table, "diabetes")
    # P = mean(1 - norm(kanon), norm(nn), 0.5): 0.5 for every run; Q = mean(1 - norm(w), 1 - norm(corr))
    assert list(h["paper_privacy_score"]) == pytest.approx([0.5, 0.5, 0.5])
    assert list(h["paper_quality_score"]) == pytest.approx([1.0, 0.5, 0.0])
    assert list(h["paper_harmonic_score"]) == pytest.approx([2 * 0.5 / 1.5, 0.5, 0.0])
    # adding a run changes everyone's score (flaw 8)
    more = pd.concat([table, table.iloc[[0]].assign(**{"paper.correlation_distance": 0.0})], ignore_index=True)
    assert harmonic_scores(more, "diabetes")["paper_harmonic_score"].iloc[1] != pytest.approx(0.5)


def test_integer_columns_with_missing_values(spec):
    syn = _real(80, seed=4)
    syn["blood_glucose_level"] = pd.array([None if i % 7 == 0 else 100 + i for i in range(80)], dtype="Int64")
    out = compute(_inputs(spec, syn))
    assert out["tstr_accuracy"] is not None and out["relative_mean_error"] is not None
