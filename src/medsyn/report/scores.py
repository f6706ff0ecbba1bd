"""From the per-table metrics to what a reader acts on: three composite scores, a leaderboard with intervals over
seeds, the privacy-fidelity Pareto front and a recommendation per use case.

Every rule here is also written out, in words, in the report (``RULES_TEXT``); change both together.

Composite scores, each in [0, 1], higher is better, computed per evaluated table (one seed) and then averaged:

- fidelity = mean of the available parts: KS complement (numeric columns), TV complement (categorical columns),
  1 - mean association difference (pairwise structure), and 2 x (1 - detection AUC) clipped to [0, 1]
  (1 when a classifier cannot tell synthetic from real holdout rows, 0 when it always can).
- privacy = mean of: 1 - max(share of rows copying a train patient, share copying a prompt example);
  1 - 2 x max(0, DCR share - 0.5) (size-adjusted share of rows closer to train than to holdout: 0.5 is what unseen
  real patients give, 1 is copying); 1 - 2 x max(0, MIA AUC - 0.5).
- utility = TSTR ROC AUC / TRTR ROC AUC (a classifier trained on synthetic rows and tested on real holdout rows,
  against one trained on real train rows), capped at 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.evaluate.aggregate import GROUP, mean_ci
from medsyn.layout import ALL_TRAIN

SCORES = ["fidelity_score", "privacy_score", "utility_score", "balanced_score"]
REFERENCE_BASELINE = "holdout"  # unseen real rows: the reference every score is read against, never a candidate
FLOOR_BASELINE = "marginals"  # independent columns: a generator that cannot beat it has learned no structure

RULES_TEXT = {
    "fidelity_score": "mean of KS complement, TV complement, 1 − association difference and "
                      "2 × (1 − detection AUC) clipped to [0, 1]",
    "privacy_score": "mean of 1 − max(train-copy share, example-copy share), 1 − 2 × max(0, DCR share − 0.5) "
                     "and 1 − 2 × max(0, MIA AUC − 0.5)",
    "utility_score": "TSTR ROC AUC / TRTR ROC AUC, capped at 1",
    "balanced_score": "harmonic mean of fidelity and privacy scores (0 when either is 0)",
}


def _col(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table.columns:
        return pd.Series(np.nan, index=table.index)
    return pd.to_numeric(table[name], errors="coerce")


def _row_mean(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def add_scores(table: pd.DataFrame) -> pd.DataFrame:
    """The per-table metrics with the composite scores added (NaN where no part is computable)."""
    out = table.copy()
    fidelity_parts = [
        _col(out, "fidelity.ks_complement"),
        _col(out, "fidelity.tv_complement"),
        1 - _col(out, "fidelity.association_diff_mean").clip(0, 1),
        (2 * (1 - _col(out, "fidelity.detection_auc"))).clip(0, 1),
    ]
    copies = pd.concat([_col(out, "privacy.exact_copy_train_share"),
                        _col(out, "privacy.exact_copy_examples_share")], axis=1).max(axis=1, skipna=True)
    privacy_parts = [
        1 - copies,
        1 - (2 * (_col(out, "privacy.dcr_closer_to_train_share_size_adjusted") - 0.5)).clip(0, 1),
        1 - (2 * (_col(out, "privacy.mia_auc") - 0.5)).clip(0, 1),
    ]
    out["fidelity_score"] = _row_mean(fidelity_parts)
    out["privacy_score"] = _row_mean(privacy_parts)
    out["utility_score"] = (_col(out, "utility.tstr_roc_auc") / _col(out, "utility.trtr_roc_auc")).clip(upper=1)
    f, p = out["fidelity_score"], out["privacy_score"]
    out["balanced_score"] = (2 * f * p / (f + p)).where((f + p) > 0, 0.0).where(f.notna() & p.notna())
    return out


def label(row) -> str:
    """Short display name of a generator group: baselines by name, LLM runs with prompt type and decoding."""
    if row["kind"] == "baseline":
        return f"{row['generator']} (baseline)"
    parts = [str(row["generator"])]
    for key in ("prompt", "mode", "recipe"):
        value = row.get(key)
        if isinstance(value, str) and value not in ("-", "", "default"):
            parts.append(value)
    return " ".join(parts)


def leaderboard(table: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per dataset x train size x generator x prompt x mode x recipe: mean, 95% interval and seed count of
    each score/metric."""
    scored = add_scores(table)
    cols = SCORES + [m for m in metrics if m in scored.columns and m not in SCORES]
    rows = []
    for key, group in scored.groupby(GROUP, dropna=False, sort=True):
        row = dict(zip(GROUP, key))
        row["label"] = label(row)
        row["n_seeds"] = len(group)
        row["n_rows"] = float(pd.to_numeric(group["n_rows"], errors="coerce").mean())
        for c in cols:
            mean, lo, hi, _ = mean_ci(group[c])
            row[c], row[f"{c}.ci_low"], row[f"{c}.ci_high"] = mean, lo, hi
        rows.append(row)
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board["role"] = np.where(board["kind"] != "baseline", "candidate",
                             np.where(board["generator"] == REFERENCE_BASELINE, "reference", "baseline"))
    board["pareto"] = False
    for _, idx in board.groupby(["dataset", "train_rows"]).groups.items():  # a front per train set
        board.loc[pareto_front(board.loc[idx]), "pareto"] = True
    order = {"reference": 0, "baseline": 1, "candidate": 2}
    board["_o"] = board["role"].map(order)
    board["_n"] = board["train_rows"].map(size_order)
    board = board.sort_values(["dataset", "_n", "_o", "balanced_score"], ascending=[True, True, True, False])
    return board.drop(columns=["_o", "_n"]).reset_index(drop=True)


def at_train_size(frame: pd.DataFrame, train_rows: str) -> pd.DataFrame:
    """The rows of one train size (metrics, leaderboard, recommendation and gate tables all carry train_rows)."""
    return frame[frame["train_rows"].astype(str) == str(train_rows)]


def size_order(train_rows) -> float:
    """Sort key of a train size: subsamples by size, the whole train split last."""
    return float("inf") if str(train_rows) == ALL_TRAIN else float(train_rows)


def pareto_front(board: pd.DataFrame) -> list:
    """Index labels of the non-dominated rows in (fidelity, privacy), both maximised. The reference (real holdout
    rows) is not a generator, so it is placed on the plot but not allowed to dominate."""
    pts = board[(board["role"] != "reference")
                & board["fidelity_score"].notna() & board["privacy_score"].notna()]
    front = []
    for i, r in pts.iterrows():
        dominated = ((pts["fidelity_score"] >= r["fidelity_score"]) & (pts["privacy_score"] >= r["privacy_score"])
                     & ((pts["fidelity_score"] > r["fidelity_score"]) | (pts["privacy_score"] > r["privacy_score"])))
        if not dominated.any():
            front.append(i)
    return front


USE_CASES = [
    ("highest_fidelity", "Highest fidelity",
     "the eligible generator with the highest fidelity score; privacy is not considered, so check its copies"),
    ("balanced", "Balanced",
     "the eligible generator with the highest harmonic mean of fidelity and privacy (always on the Pareto front)"),
    ("privacy_critical", "Privacy-critical",
     "among eligible generators whose every table passes the privacy gate ({gate}), the one with the highest "
     "fidelity"),
]


def add_gate(board: pd.DataFrame, gate: pd.DataFrame) -> pd.DataFrame:
    """The privacy gate's verdicts (results/tables/release_gate.tsv, one row per table) counted per group:
    ``releasable_seeds`` of ``n_seeds``."""
    out = board.copy()
    if gate is None or gate.empty:
        out["releasable_seeds"] = 0
        return out
    g = gate.copy()
    g["releasable"] = g["releasable"].astype(str).str.lower() == "true"
    for col in GROUP:
        g[col] = g[col].astype(str)
    counts = g.groupby(GROUP)["releasable"].sum()
    keys = [tuple(str(r[c]) for c in GROUP) for _, r in out.iterrows()]
    out["releasable_seeds"] = [int(counts.get(k, 0)) for k in keys]
    return out


def recommend(board: pd.DataFrame, min_rows: float) -> pd.DataFrame:
    """One row per dataset x train size x use case: the chosen generator (or none, with why) and the warnings that
    apply.

    Eligible: an LLM or imported generator whose tables hold at least ``min_rows`` valid rows on average over
    seeds (fewer rows make every score noise). Privacy-critical also needs every table of the group to pass the
    privacy gate (``releasable_seeds`` = ``n_seeds``, see ``add_gate``)."""
    out = []
    for (dataset, train_rows), b in board.groupby(["dataset", "train_rows"], sort=True):
        cands = b[b["role"] == "candidate"]
        eligible = cands[(cands["n_rows"] >= min_rows) & cands["fidelity_score"].notna()
                         & cands["privacy_score"].notna()]
        floor = b[(b["generator"] == FLOOR_BASELINE) & (b["kind"] == "baseline")]["fidelity_score"]
        floor_value = float(floor.iloc[0]) if len(floor) and pd.notna(floor.iloc[0]) else np.nan
        beats_floor = bool(np.isnan(floor_value) or (eligible["fidelity_score"] > floor_value).any())
        private = eligible[eligible["releasable_seeds"] >= eligible["n_seeds"]]
        pools = {"highest_fidelity": (eligible, "fidelity_score"),
                 "balanced": (eligible, "balanced_score"),
                 "privacy_critical": (private, "fidelity_score")}
        for case, title, _ in USE_CASES:
            pool, by = pools[case]
            row = {"dataset": dataset, "train_rows": train_rows, "use_case": case, "title": title, "generator": None, "score_name": by,
                   "score": np.nan, "beats_marginals": None, "note": ""}
            if pool.empty:
                row["note"] = ("no generator qualifies: " + (
                    f"none has at least {min_rows:g} valid rows on average" if eligible.empty
                    else "no eligible generator passes the privacy gate on every seed"))
            else:
                best = pool.sort_values([by, "label"], ascending=[False, True]).iloc[0]
                row.update(generator=best["label"], score=float(best[by]),
                           beats_marginals=bool(np.isnan(floor_value) or best["fidelity_score"] > floor_value))
                if not row["beats_marginals"]:
                    row["note"] = (f"its fidelity ({best['fidelity_score']:.3f}) does not beat the marginals "
                                   f"baseline ({floor_value:.3f})")
            row["no_generator_beats_marginals"] = not beats_floor
            out.append(row)
    return pd.DataFrame(out)
