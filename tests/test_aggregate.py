import math

import pytest

from medsyn.evaluate.aggregate import key_table, mean_ci, metrics_table, summary_table


def rec(generator, seed, value, kind="baseline"):
    return {"kind": kind, "dataset": "d", "generator": generator, "prompt": "-", "mode": "-", "seed": seed,
            "n_rows": 10, "metrics": {"fidelity.ks_complement": value, "privacy.mia_auc": 0.5},
            "errors": {"privacy.x.error": "why"} if seed == 1 else {}}


def test_mean_ci_by_hand():
    mean, lo, hi, n = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (mean, n) == (2.0, 3) and lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)
    mean, lo, hi, n = mean_ci([5.0])
    assert mean == 5.0 and math.isnan(lo) and n == 1  # no interval from one seed


def test_tables():
    table = metrics_table([rec("holdout", 1, 0.9), rec("holdout", 2, 0.8), rec("marginals", 1, 0.7)])
    assert len(table) == 3 and "privacy.x.error: why" in table.loc[0, "errors"]
    summary = summary_table(table)
    ks = summary[(summary.generator == "holdout") & (summary.metric == "fidelity.ks_complement")].iloc[0]
    assert ks["n_seeds"] == 2 and ks["mean"] == pytest.approx(0.85)
    key = key_table(table)
    assert key.set_index("generator").loc["holdout", "fidelity.ks_complement"] == pytest.approx(0.85)
    assert key.set_index("generator").loc["holdout", "n_seeds"] == 2
