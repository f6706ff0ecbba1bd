"""The report's opening: the best releasable table of any generator beside the best LLM table, the model's
contribution over its recipe's pull (paired by seed), and the reading generated from those numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from medsyn.report.headline import contributions, dataset_card, headline, reading
from medsyn.report.train_sizes import size_table


def _metrics(rows):
    """Per-table metrics whose fidelity score is exactly the given KS complement (the only fidelity part set)."""
    return pd.DataFrame([{"kind": kind, "dataset": dataset, "train_rows": "all", "generator": generator,
                          "prompt": "A" if kind == "llm" else "-", "mode": "grammar" if kind == "llm" else "-",
                          "recipe": recipe, "seed": seed, "n_rows": 100, "fidelity.ks_complement": fidelity}
                         for kind, dataset, generator, recipe, seed, fidelity in rows])


def test_the_contribution_is_paired_by_seed_with_a_t_interval():
    metrics = _metrics([
        ("llm", "pima", "smollm2", "default", 1, 0.80), ("llm", "pima", "smollm2", "default", 2, 0.84),
        # listed in the other seed order: pairing goes by seed, not by row order
        ("baseline", "pima", "steered-default", "-", 2, 0.79), ("baseline", "pima", "steered-default", "-", 1, 0.78),
        ("baseline", "pima", "drawn-default", "-", 1, 0.10), ("baseline", "pima", "drawn-default", "-", 2, 0.10),
        ("llm", "pima", "smollm2", "d2", 1, 0.70), ("llm", "pima", "smollm2", "d2", 2, 0.72),
        ("baseline", "pima", "drawn-d2", "-", 1, 0.75), ("baseline", "pima", "drawn-d2", "-", 2, 0.71),
        ("llm", "pima", "smollm2", "plain", 1, 0.60),
    ])
    gains = {g["label"]: g for g in contributions(metrics, {("pima", "smollm2", "A", "grammar", "default"): "sm"})}
    steered = gains["sm"]
    assert steered["pull"] == "steered-default"  # steered- is looked for before drawn-
    diffs = np.array([0.80 - 0.78, 0.84 - 0.79])
    half = stats.t.ppf(0.975, 1) * diffs.std(ddof=1) / math.sqrt(2)
    assert steered["n"] == 2 and math.isclose(steered["mean"], diffs.mean())
    assert math.isclose(steered["low"], diffs.mean() - half) and math.isclose(steered["high"], diffs.mean() + half)
    assert steered["value"] == "+0.035"
    drawn = [g for g in gains.values() if g["pull"] == "drawn-d2"][0]
    assert drawn["value"] == "-0.020" and drawn["n"] == 2
    none = [g for g in gains.values() if g["pull"] == "–"][0]  # recipe "plain" has no pull baseline
    assert none["n"] == 0 and none["value"] == "–"


def _size_table(rows):
    """rows: dataset, kind, generator, recipe, fidelity, half width, releasable seeds of 2."""
    board = []
    for dataset, kind, generator, recipe, fidelity, half, ok in rows:
        board.append({"dataset": dataset, "train_rows": "all", "kind": kind, "generator": generator,
                      "prompt": "A" if kind == "llm" else "-", "mode": "grammar" if kind == "llm" else "-",
                      "recipe": recipe, "label": f"{generator} A grammar" if kind == "llm" else f"{generator} (baseline)",
                      "n_seeds": 2, "releasable_seeds": ok, "fidelity_score": fidelity,
                      "fidelity_score.ci_low": fidelity - half, "fidelity_score.ci_high": fidelity + half,
                      "privacy_score": 0.9, "privacy_score.ci_low": 0.85, "privacy_score.ci_high": 0.95})
    return size_table(pd.DataFrame(board))


TABLE = _size_table([
    ("pima", "baseline", "holdout", "-", 0.95, 0.01, 0),
    ("pima", "baseline", "cart", "-", 0.93, 0.01, 1),  # the highest, but one seed fails the gate
    ("pima", "baseline", "copula", "-", 0.90, 0.01, 2),
    ("pima", "baseline", "steered-default", "-", 0.86, 0.01, 2),
    ("pima", "llm", "smollm2", "default", 0.84, 0.01, 2),
    ("pima", "llm", "qwen", "default", 0.89, 0.02, 1),  # the best LLM table ignoring the gate
    ("stroke", "baseline", "holdout", "-", 0.95, 0.01, 0),
    ("stroke", "baseline", "copula", "-", 0.90, 0.05, 2),
    ("stroke", "llm", "smollm2", "default", 0.91, 0.05, 2),
])


def test_the_card_puts_the_best_releasable_table_beside_the_best_llm_table():
    card = dataset_card(TABLE, "pima", "Pima")
    assert card["best"]["name"] == "copula" and card["best"]["kind"] == "classical generator"  # not cart: 1/2
    assert card["best"]["value"] == "0.900" and card["best"]["interval"] == "0.890–0.910"
    assert card["llm"]["name"] == "smollm2 A grammar" and card["llm_releasable"]  # not qwen: 1/2 seeds
    assert card["gap"] == "-0.060" and card["separated"]  # 0.83-0.85 vs 0.89-0.91: apart
    assert card["holdout"]["value"] == "0.950"
    stroke = dataset_card(TABLE, "stroke", "Stroke")
    assert stroke["best"]["name"] == "smollm2 A grammar" and stroke["best"]["is_llm"]
    assert stroke["gap"] is None  # the best releasable table is the LLM table itself


def test_without_a_releasable_llm_table_the_best_one_is_shown_as_not_releasable():
    table = _size_table([("pima", "baseline", "copula", "-", 0.90, 0.01, 2),
                         ("pima", "llm", "qwen", "default", 0.89, 0.02, 1)])
    card = dataset_card(table, "pima", "Pima")
    assert card["llm"]["name"] == "qwen A grammar" and not card["llm_releasable"]
    assert card["llm"]["releasable"] == "1/2"


def test_the_reading_counts_who_wins_and_states_the_contribution_range():
    cards = [dataset_card(TABLE, "pima", "Pima"), dataset_card(TABLE, "stroke", "Stroke")]
    gains = [{"mean": -0.02, "low": -0.05, "high": 0.01, "n": 2}, {"mean": 0.03, "low": 0.01, "high": 0.05, "n": 2}]
    text = reading(cards, gains)
    assert text[0] == ("On 1 of 2 datasets a generator without an LLM gives the best releasable table (copula on "
                       "pima) and on 1 of 2 an LLM table does (smollm2 A grammar on stroke).")
    assert "scores -0.060 fidelity against it; 1 of 1 such gap lies outside both 95% intervals." in text[2]
    assert text[-1] == ("Over its recipe's pull without the model, the LLM adds -0.020 to +0.030 fidelity (2 LLM "
                        "groups); the 95% interval lies above zero for 1, below zero for 0 and spans zero for 1 of "
                        "the 2 with two or more seeds.")


def test_the_reading_says_when_nothing_is_releasable_or_no_pull_was_run():
    table = _size_table([("pima", "baseline", "copula", "-", 0.90, 0.01, 1),
                         ("pima", "llm", "qwen", "default", 0.89, 0.02, 0)])
    text = reading([dataset_card(table, "pima", "Pima")], [{"mean": math.nan, "low": math.nan, "high": math.nan,
                                                            "n": 0}])
    assert text[0].startswith("On none of the 1 datasets does any table pass the privacy gate")
    assert "No LLM table passes the privacy gate on every seed on pima." in text
    assert text[-1].startswith("No LLM group has its recipe's pull")


def test_headline_builds_cards_in_the_given_order_without_private_keys():
    metrics = _metrics([("llm", "pima", "smollm2", "default", 1, 0.84), ("baseline", "pima", "steered-default",
                                                                        "-", 1, 0.86)])
    out = headline(TABLE, metrics, {"stroke": "Stroke", "pima": "Pima"})
    assert [c["dataset"] for c in out["cards"]] == ["stroke", "pima"]
    assert all(not k.startswith("_") for c in out["cards"] for k in c)
    assert out["contributions"][0]["label"] == "smollm2 A grammar" and out["contributions"][0]["value"] == "-0.020"
    assert "one seed each, so no interval" in out["reading"][-1]


def test_a_higher_fidelity_table_that_fails_the_gate_is_named_not_hidden():
    card = dataset_card(TABLE, "pima", "Pima")
    # cart (0.93, 1/2 seeds) beats copula (0.90, 2/2); bootstrap and the holdout never count as such a table
    assert card["above_gate"]["name"] == "cart" and card["above_gate"]["releasable"] == "1/2"
    assert dataset_card(TABLE, "stroke", "Stroke")["above_gate"] is None
    text = reading([card], [])
    assert ("On 1 of 1 datasets a table of higher fidelity fails the privacy gate (cart on pima, 1 of 2 seeds "
            "releasable)") in text[1]
