"""results/tables/train_sizes.tsv: every generator group at every train size (config split.train_rows), with the
picks a reader compares across sizes: the best classical generator and the best LLM table, each once among the
groups whose every seed passes the privacy gate and once ignoring the gate, and each LLM group's contribution over
its recipe's own pull (``steered-<recipe>``, the recipe without the model).

Pure functions over the leaderboard (``medsyn.report.scores.leaderboard`` with ``add_gate``'s counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.report.scores import REFERENCE_BASELINE, size_order

RESAMPLING_BASELINE = "bootstrap"  # resampled train rows: the privacy worst case, no generator
PULL_PREFIXES = ("drawn-", "steered-")  # a recipe's own pull without the model
STEERED = "steered-"
# what a group is, in the order the table and the figure list them; any other baseline is a classical generator,
# so a newly added one is compared without code changes here
GROUP_KINDS = ("reference", "classical", "resampling", "pull", "llm", "imported")
SCORE_COLUMNS = [f"{score}{part}" for score in ("fidelity_score", "privacy_score")
                 for part in ("", ".ci_low", ".ci_high")]
PICKS = ["best_classical_releasable", "best_classical_any", "best_llm_releasable", "best_llm_any"]
COLUMNS = (["dataset", "train_rows", "group_kind", "label", "kind", "generator", "prompt", "mode", "recipe",
            "n_seeds", "releasable_seeds", "releasable"] + SCORE_COLUMNS
           + ["pull", "pull_fidelity", "contribution"] + PICKS)


def group_kind(kind: str, generator: str) -> str:
    """reference (holdout), resampling (bootstrap), pull (drawn-/steered-<recipe>), classical (every other
    baseline), llm, or imported (any other kind)."""
    if kind == "llm":
        return "llm"
    if kind != "baseline":
        return "imported"
    generator = str(generator)
    if generator == REFERENCE_BASELINE:
        return "reference"
    if generator == RESAMPLING_BASELINE:
        return "resampling"
    if generator.startswith(PULL_PREFIXES):
        return "pull"
    return "classical"


def best_index(frame: pd.DataFrame) -> object | None:
    """Index label of the highest fidelity (ties: the first label alphabetically), None when nothing is scored."""
    scored = frame[frame["fidelity_score"].notna()]
    if scored.empty:
        return None
    return scored.sort_values(["fidelity_score", "label"], ascending=[False, True]).index[0]


def _mark_picks(table: pd.DataFrame) -> pd.DataFrame:
    for pick in PICKS:
        table[pick] = False
    for _, idx in table.groupby(["dataset", "train_rows"], sort=False).groups.items():
        rows = table.loc[idx]
        for group in ("classical", "llm"):
            pool = rows[rows["group_kind"] == group]
            for suffix, candidates in (("any", pool), ("releasable", pool[pool["releasable"]])):
                best = best_index(candidates)
                if best is not None:
                    table.loc[best, f"best_{group}_{suffix}"] = True
    return table


def _add_contribution(table: pd.DataFrame) -> pd.DataFrame:
    """Fidelity of each LLM group minus that of ``steered-<its recipe>`` at the same dataset and train size."""
    pulls = table[table["generator"].astype(str).str.startswith(STEERED) & (table["kind"] == "baseline")]
    lookup = {(d, n, g): f for d, n, g, f in zip(pulls["dataset"], pulls["train_rows"], pulls["generator"],
                                                pulls["fidelity_score"])}
    keys = [(d, n, f"{STEERED}{recipe}") if kind == "llm" else None
            for d, n, recipe, kind in zip(table["dataset"], table["train_rows"], table["recipe"], table["group_kind"])]
    table["pull"] = [key[2] if key in lookup else None for key in keys]
    table["pull_fidelity"] = [lookup.get(key, np.nan) for key in keys]
    table["contribution"] = table["fidelity_score"] - table["pull_fidelity"]
    return table


def size_table(board: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x train size x generator group of the leaderboard ``board``: fidelity and privacy with
    their 95% intervals, the gate's count, the picks (``PICKS``, flags) and the contribution over the pull."""
    if board.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = board.reset_index(drop=True)  # picks are marked by index label: one per row
    for col in SCORE_COLUMNS:
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan
    table["train_rows"] = table["train_rows"].astype(str)
    table["group_kind"] = [group_kind(k, g) for k, g in zip(table["kind"], table["generator"])]
    if "releasable_seeds" not in table:
        table["releasable_seeds"] = 0
    table["releasable"] = (table["n_seeds"] > 0) & (table["releasable_seeds"] >= table["n_seeds"])
    table = _add_contribution(_mark_picks(table))
    table["_n"] = table["train_rows"].map(size_order)
    table["_g"] = table["group_kind"].map(GROUP_KINDS.index)
    table = table.sort_values(["dataset", "_n", "_g", "fidelity_score", "label"],
                              ascending=[True, True, True, False, True])
    return table[COLUMNS].reset_index(drop=True)


def sizes(table: pd.DataFrame, dataset: str | None = None) -> list[str]:
    """The train sizes of ``table`` (of one dataset, when given) in order: subsamples by size, all last."""
    rows = table if dataset is None else table[table["dataset"] == dataset]
    return sorted(rows["train_rows"].astype(str).unique(), key=size_order)


def pick(table: pd.DataFrame, dataset: str, train_rows: str, name: str) -> pd.Series | None:
    """The row flagged ``name`` (one of ``PICKS``) at one dataset and train size, or None."""
    rows = table[(table["dataset"] == dataset) & (table["train_rows"].astype(str) == str(train_rows))
                 & table[name].astype(str).str.lower().eq("true")]
    return rows.iloc[0] if len(rows) else None
