"""Clinical consistency and ML utility: every metric must be able to FAIL on a hand-made bad table."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from conftest import spec_path
from medsyn.data import load_real
from medsyn.evaluate import EvalInputs, clinical, utility
from medsyn.spec import Rule, load_spec, spec_from_dict
from medsyn.split import split_real


# --- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cirrhosis():
    spec = load_spec(spec_path("cirrhosis"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


def _inputs(spec, parts, synthetic, seed=0):
    return EvalInputs(spec=spec, train=parts["train"], holdout=parts["holdout"], reference=parts["reference"],
                      synthetic=synthetic, seed=seed)


def _toy_spec(rules):
    return spec_from_dict(
        {
            "name": "toy",
            "title": "toy",
            "source": {"csv": None},
            "target": "y",
            "columns": [
                {"name": "a", "type": "float", "min": 0, "max": 100, "decimals": 1, "definition": "a",
                 "allow_missing": True},
                {"name": "b c", "type": "categorical", "levels": ["x", "z"], "definition": "b",
                 "allow_missing": True},
                {"name": "y", "type": "binary", "levels": [0, 1], "definition": "y"},
            ],
            "rules": rules,
        }
    )


def _toy_spec_unchecked(rules):
    """The toy spec carrying rules that spec_from_dict refuses: the evaluation must still never raise on them
    (a spec built in code, a synthetic table that lacks a column)."""
    rules = [Rule(r["id"], r["kind"], r["text"], {k: v for k, v in r.items() if k not in ("id", "kind", "text")})
             for r in rules]
    return dataclasses.replace(_toy_spec([]), rules=tuple(rules))


def _toy_frame(a, b, y):
    return pd.DataFrame({"a": pd.Series(a, dtype="float64"), "b c": pd.Series(b, dtype=object),
                         "y": pd.Series(y, dtype=object)})


IMPLICATION = {"id": "big_a_implies_x", "kind": "implication", "text": "a above 5 means x",
               "if": "a > 5", "then": "`b c` == 'x'"}


def _toy_real(n=20):
    # every row with a > 5 has b c == 'x' (satisfaction 1.0 in real data)
    a = [1.0, 6.0, 7.0, 8.0] * (n // 4)
    b = ["z", "x", "x", "x"] * (n // 4)
    y = ["0", "1", "0", "1"] * (n // 4)
    return _toy_frame(a, b, y)


# --- clinical: implications -----------------------------------------------------------------------------------


def test_implication_violated_by_hand_built_synthetic():
    spec = _toy_spec([IMPLICATION])
    real = _toy_real()
    # rows 1 and 2 match 'if' (a > 5); only row 1 satisfies 'then' -> 1/2; row 0 does not apply; row 3 has a missing
    syn = _toy_frame([6.0, 9.0, 2.0, np.nan], ["x", "z", "z", "z"], ["1", "0", "0", "1"])
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.big_a_implies_x.synthetic"] == pytest.approx(0.5)
    assert out["rule.big_a_implies_x.n_synthetic"] == 2
    assert out["rule.big_a_implies_x.train"] == pytest.approx(1.0)
    # |0.5 - 1.0| > max(0.1, 2 * se) with se = 0 at a real rate of 1.0
    assert out["rule.big_a_implies_x.synthetic_agrees"] == 0.0
    assert out["implication_gap_mean"] == pytest.approx(0.5)
    assert out["rules_agree_share"] == 0.0


def test_implication_within_tolerance_or_better_agrees():
    spec = _toy_spec([IMPLICATION])
    real = _toy_real()
    real.loc[1, "b c"] = "z"  # real: 14/15 satisfy
    syn = _toy_frame([6.0] * 10, ["x"] * 10, ["1"] * 10)  # better than real
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.big_a_implies_x.train"] == pytest.approx(14 / 15)
    assert out["rule.big_a_implies_x.synthetic_agrees"] == 1.0
    assert out["implication_gap_mean"] == pytest.approx(1 / 15)


def test_missing_values_do_not_count_as_satisfying():
    """A missing 'then' column removes the row (complete cases), it never satisfies `!=` by accident."""
    rule = {"id": "r", "kind": "implication", "text": "t", "if": "a > 5", "then": "`b c` != 'z'"}
    spec = _toy_spec([rule])
    real = _toy_real()
    syn = _toy_frame([6.0, 7.0, 8.0], ["z", None, None], ["1", "0", "1"])
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.r.n_synthetic"] == 1
    assert out["rule.r.synthetic"] == 0.0


def test_premise_never_generated_cannot_pass():
    """SynLLM flaw 9: a rule that cannot be checked must not score as satisfied."""
    spec = _toy_spec([IMPLICATION])
    real = _toy_real()
    syn = _toy_frame([1.0] * 40, ["z"] * 40, ["0", "1"] * 20)  # never a > 5, though real says 3/4 of rows
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.big_a_implies_x.synthetic"] is None
    assert out["rule.big_a_implies_x.synthetic_agrees"] == 0.0
    assert "synthetic" in out["rule.big_a_implies_x.error"]
    # a 2-row table is too small to expect the premise: not scored rather than failed
    out = clinical.compute(EvalInputs(spec, real, real, real, syn.iloc[:2]))
    assert out["rule.big_a_implies_x.synthetic_agrees"] is None


def test_unknown_column_is_an_error_naming_rule_and_column():
    rules = [
        {"id": "typo_rule", "kind": "implication", "text": "t", "if": "HbA1c_level > 7", "then": "`b c` == 'x'"},
        {"id": "bad_syntax", "kind": "implication", "text": "t", "if": "a >", "then": "`b c` == 'x'"},
        {"id": "not_bool", "kind": "implication", "text": "t", "if": "a + 1", "then": "`b c` == 'x'"},
        {"id": "bad_predictor", "kind": "direction", "text": "t", "outcome": "y == '1'", "predictor": "b c",
         "sign": "increasing"},
        IMPLICATION,
    ]
    spec = _toy_spec_unchecked(rules)
    real = _toy_real()
    out = clinical.compute(EvalInputs(spec, real, real, real, real))
    err = out["rule.typo_rule.error"]
    assert "typo_rule" in err and "HbA1c_level" in err
    assert out["rule.typo_rule.synthetic"] is None and out["rule.typo_rule.synthetic_agrees"] is None
    assert "bad_syntax" in out["rule.bad_syntax.error"]
    assert "true/false" in out["rule.not_bool.error"]
    assert "not numeric" in out["rule.bad_predictor.error"]
    assert out["rules_errored"] == 4
    assert out["rules_scored"] == 1 and out["rules_agree_share"] == 1.0  # errors never count as agreement


# --- clinical: range and group difference, by hand ------------------------------------------------------------


def test_range_violation():
    spec = _toy_spec([{"id": "a_small", "kind": "range", "text": "a within 0-10", "column": "a", "min": 0,
                       "max": 10}])
    real = _toy_real()
    syn = _toy_frame([1.0, 50.0, 9.0, 60.0, np.nan], ["x"] * 5, ["0"] * 5)
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.a_small.train"] == 1.0
    assert out["rule.a_small.synthetic"] == pytest.approx(0.5)  # 2 of 4 non-missing values inside
    assert out["rule.a_small.n_synthetic"] == 4
    assert out["rule.a_small.synthetic_agrees"] == 0.0


def test_group_difference_standardized_and_flipped():
    spec = _toy_spec([{"id": "a_higher_in_x", "kind": "group_difference", "text": "t", "column": "a",
                       "group": "`b c` == 'x'"}])
    real = _toy_real()
    sd = real["a"].std(ddof=1)
    syn = _toy_frame([1.0, 3.0, 10.0, 20.0], ["x", "x", "z", "z"], ["0"] * 4)  # x mean 2, z mean 15
    out = clinical.compute(EvalInputs(spec, real, real, real, syn))
    assert out["rule.a_higher_in_x.train"] == pytest.approx((7.0 - 1.0) / sd)
    assert out["rule.a_higher_in_x.synthetic"] == pytest.approx((2.0 - 15.0) / sd)
    assert out["rule.a_higher_in_x.synthetic_diff"] == pytest.approx(-13.0)
    assert out["rule.a_higher_in_x.synthetic_agrees"] == 0.0


# --- clinical: real data --------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["cirrhosis", "pima"])
def test_real_data_scored_against_itself_agrees(which, request):
    spec, parts = request.getfixturevalue(which)
    for synthetic in (parts["train"], parts["reference"]):
        out = clinical.compute(_inputs(spec, parts, synthetic))
        assert out["rules_errored"] == 0
        assert out["rules_scored"] == len(spec.rules)
        assert out["rules_agree_share"] == 1.0
    out = clinical.compute(_inputs(spec, parts, parts["train"]))
    assert out["implication_gap_mean"] == 0.0


def test_reversed_direction_and_flipped_group_fail_on_cirrhosis(cirrhosis):
    spec, parts = cirrhosis
    syn = parts["train"].copy()
    died = (syn["Status"] == "D").to_numpy()
    # deaths get the LOWEST bilirubin values and the HIGHEST albumin values
    bili = np.sort(syn["Bilirubin"].to_numpy())
    syn.loc[died, "Bilirubin"] = bili[: died.sum()]
    syn.loc[~died, "Bilirubin"] = bili[died.sum():]
    alb = np.sort(syn["Albumin"].to_numpy())[::-1]
    syn.loc[died, "Albumin"] = alb[: died.sum()]
    syn.loc[~died, "Albumin"] = alb[died.sum():]
    out = clinical.compute(_inputs(spec, parts, syn))
    assert out["rule.death_rises_with_bilirubin.train"] > 0.3
    assert out["rule.death_rises_with_bilirubin.synthetic"] < 0
    assert out["rule.death_rises_with_bilirubin.synthetic_agrees"] == 0.0
    assert out["rule.albumin_lower_in_deaths.train"] > 0.3
    assert out["rule.albumin_lower_in_deaths.synthetic"] < 0
    assert out["rule.albumin_lower_in_deaths.synthetic_agrees"] == 0.0
    assert out["rules_agree_share"] == pytest.approx(3 / 5)


def test_cirrhosis_without_stage4_fails_stage4_rules(cirrhosis):
    spec, parts = cirrhosis
    syn = parts["train"].copy()
    syn.loc[syn["Stage"] == "4", "Stage"] = "3"
    out = clinical.compute(_inputs(spec, parts, syn))
    assert out["rule.stage4_implies_ascites_or_edema.synthetic"] is None
    assert out["rule.stage4_implies_ascites_or_edema.synthetic_agrees"] == 0.0
    assert out["rule.prothrombin_higher_in_stage4.synthetic_agrees"] == 0.0


def test_trivial_effect_does_not_agree(pima):
    spec, parts = pima
    syn = parts["train"].copy()
    rng = np.random.default_rng(0)
    syn["Age"] = rng.permutation(syn["Age"].to_numpy())  # no age effect left (|rho| small)
    out = clinical.compute(_inputs(spec, parts, syn))
    rho = out["rule.diabetes_rises_with_age.synthetic"]
    assert out["rule.diabetes_rises_with_age.train"] > 0.3
    assert abs(rho) < 0.05  # right sign or not, too small to count as the real effect
    assert out["rule.diabetes_rises_with_age.synthetic_agrees"] == 0.0


def test_rule_table_has_one_row_per_rule(pima):
    spec, parts = pima
    table = clinical.rule_table(_inputs(spec, parts, parts["reference"]))
    assert list(table["id"]) == [r.id for r in spec.rules]
    for col in ("id", "kind", "text", "train", "holdout", "synthetic", "agrees"):
        assert col in table.columns
    assert table["agrees"].eq(1.0).all()


def test_compute_does_not_edit_inputs(pima):
    spec, parts = pima
    syn = parts["reference"].copy()
    before = syn.copy()
    clinical.compute(_inputs(spec, parts, syn))
    utility.compute(_inputs(spec, parts, syn))
    pd.testing.assert_frame_equal(syn, before)


# --- utility --------------------------------------------------------------------------------------------------


def test_shuffled_target_has_no_utility(pima):
    spec, parts = pima
    syn = parts["train"].copy()
    syn["Outcome"] = np.random.default_rng(3).permutation(syn["Outcome"].to_numpy())
    out = utility.compute(_inputs(spec, parts, syn, seed=1))
    assert out["positive_class"] == "1"
    assert out["trtr_roc_auc"] > 0.75
    assert abs(out["tstr_roc_auc"] - 0.5) < 0.12
    assert out["roc_auc_gap"] > 0.15
    assert out["tstr_balanced_accuracy"] < out["trtr_balanced_accuracy"]
    assert not any(k.endswith("accuracy") and "balanced" not in k for k in out)


def test_real_train_as_synthetic_matches_trtr(pima):
    spec, parts = pima
    out = utility.compute(_inputs(spec, parts, parts["train"], seed=1))
    assert out["tstr_roc_auc"] == pytest.approx(out["trtr_roc_auc"], abs=0.01)
    assert abs(out["roc_auc_gap"]) < 0.01 and abs(out["macro_f1_gap"]) < 0.02
    # an unseen real sample is close too
    out = utility.compute(_inputs(spec, parts, parts["reference"], seed=1))
    assert out["tstr_roc_auc"] > 0.7


def test_single_class_and_tiny_synthetic_are_none_with_error(pima):
    spec, parts = pima
    syn = parts["train"][parts["train"]["Outcome"] == "0"]
    out = utility.compute(_inputs(spec, parts, syn))
    for metric in ("roc_auc", "balanced_accuracy", "macro_f1"):
        assert out[f"tstr_{metric}"] is None
        assert "single class" in out[f"tstr_{metric}.error"]
        assert out[f"{metric}_gap"] is None and out[f"{metric}_gap.error"]
        assert out[f"trtr_{metric}"] is not None
    out = utility.compute(_inputs(spec, parts, parts["train"].iloc[:5]))
    assert out["tstr_roc_auc"] is None and "too few rows" in out["tstr_roc_auc.error"]
    out = utility.compute(_inputs(spec, parts, parts["train"].iloc[:0]))
    assert out["tstr_roc_auc"] is None


def test_multiclass_cirrhosis_ovr_auc(cirrhosis):
    spec, parts = cirrhosis
    out = utility.compute(_inputs(spec, parts, parts["reference"], seed=1))
    assert out["n_classes"] == 3 and "positive_class" not in out
    assert 0.6 < out["trtr_roc_auc"] <= 1.0
    # a synthetic table without the rare CL class still scores (CL gets probability 0)
    no_cl = parts["train"][parts["train"]["Status"] != "CL"]
    out = utility.compute(_inputs(spec, parts, no_cl, seed=1))
    assert out["tstr_roc_auc"] is not None and out["tstr_roc_auc"] < out["trtr_roc_auc"]
    assert math.isfinite(out["tstr_macro_f1"])


def test_training_tables_are_subsampled(pima, monkeypatch):
    spec, parts = pima
    monkeypatch.setattr(utility, "MAX_TRAIN_ROWS", 100)
    out = utility.compute(_inputs(spec, parts, parts["reference"], seed=2))
    assert out["train_rows_used.trtr"] == 100
    assert out["train_rows_used.tstr"] == min(100, len(parts["reference"]))
    again = utility.compute(_inputs(spec, parts, parts["reference"], seed=2))
    assert again == out  # seeded


def test_tstr_learns_from_a_small_synthetic_table():
    """20 real rows are enough to beat chance: a classifier that cannot split them would always give 0.5."""
    from medsyn.data import load_real
    from medsyn.evaluate import EvalInputs
    from medsyn.evaluate import utility
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(str(__import__("conftest").spec_path("pima")))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    small = parts["train"].sample(20, random_state=3)
    out = utility.compute(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], small, seed=1))
    assert out["tstr_roc_auc"] > 0.65


def test_all_missing_feature_in_synthetic_does_not_break_utility():
    """A synthetic column missing in every row (SmolLM2 wrote NA for all SkinThickness) must not crash TSTR."""
    from medsyn.data import load_real
    from medsyn.evaluate import EvalInputs
    from medsyn.evaluate import utility
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(str(__import__("conftest").spec_path("pima")))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    synthetic = parts["train"].sample(30, random_state=2).copy()
    synthetic["SkinThickness"] = float("nan")
    out = utility.compute(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], synthetic, seed=1))
    assert out["tstr_roc_auc"] is not None and out["trtr_roc_auc"] is not None
