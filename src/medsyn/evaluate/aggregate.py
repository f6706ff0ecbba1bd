"""Metrics records -> tables: one row per evaluated table, and means with 95% intervals over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

ID_COLUMNS = ["kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe", "seed", "n_rows", "synthetic"]
GROUP = ["kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe"]  # one configuration, over seeds


def metrics_table(records: list[dict]) -> pd.DataFrame:
    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in ID_COLUMNS}
        row.update({f"generation.{k}": v for k, v in (rec.get("generation") or {}).items()})
        row.update(rec.get("metrics", {}))
        row["errors"] = "; ".join(f"{k}: {v}" for k, v in rec.get("errors", {}).items() if "traceback" not in k)
        rows.append(row)
    return pd.DataFrame(rows)


def mean_ci(values: pd.Series, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and a t-interval over seeds (no interval from a single seed)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    n = len(v)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    metric_cols = [c for c in table.columns if c not in ID_COLUMNS + ["errors"]
                   and pd.api.types.is_numeric_dtype(pd.to_numeric(table[c], errors="coerce"))]
    out = []
    for key, group in table.groupby(GROUP, dropna=False, sort=True):
        for col in metric_cols:
            mean, lo, hi, n = mean_ci(group[col])
            if n:
                out.append({**dict(zip(GROUP, key)), "metric": col, "n_seeds": n, "mean": mean,
                            "ci95_low": lo, "ci95_high": hi})
    return pd.DataFrame(out, columns=GROUP + ["metric", "n_seeds", "mean", "ci95_low", "ci95_high"])


# The few numbers a reader needs first, with how to read them (the report and key_metrics.tsv use these).
KEY_METRICS = [
    ("fidelity.ks_complement", "KS complement", "higher is better (1 = same distributions)"),
    ("fidelity.tv_complement", "TV complement", "higher is better"),
    ("fidelity.wasserstein_sd", "Wasserstein / sd", "lower is better, on the real scale"),
    ("fidelity.association_diff_mean", "association diff", "lower is better (pairwise structure)"),
    ("fidelity.detection_auc", "detection AUC", "0.5 = indistinguishable from real"),
    ("clinical.rules_agree_share", "rules agree", "share of clinical rules behaving as in real data"),
    ("privacy.exact_copy_train_share", "train copies", "share of rows copying a train patient"),
    ("privacy.exact_copy_examples_share", "example copies", "share of rows copying a prompt example"),
    ("privacy.dcr_closer_to_train_share_size_adjusted", "DCR share",
     "share of rows closer to train than to holdout (size-adjusted); 0.5 ideal, 1 = copies"),
    ("privacy.mia_auc", "MIA AUC", "membership inference; 0.5 = no leak"),
    ("utility.tstr_roc_auc", "TSTR AUC", "trained on synthetic, tested on real holdout"),
    ("utility.trtr_roc_auc", "TRTR AUC", "trained on real train: the utility reference"),
    ("diversity.unique_row_share", "unique rows", "1 = no duplicated rows"),
]


def key_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean of each key metric over seeds, one row per dataset x train size x generator x prompt x mode x recipe."""
    cols = [m for m, _, _ in KEY_METRICS if m in table.columns]
    if table.empty:
        return pd.DataFrame(columns=GROUP + ["n_seeds"] + cols)
    numeric = table[GROUP + cols].copy()
    for c in cols:
        numeric[c] = pd.to_numeric(numeric[c], errors="coerce")
    grouped = numeric.groupby(GROUP, dropna=False, sort=True)
    out = grouped[cols].mean().reset_index()
    out.insert(len(GROUP), "n_seeds", grouped.size().to_numpy())
    return out
