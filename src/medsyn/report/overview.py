"""The report's views across tables: every generator on every dataset in one table, the pick per use case across
datasets, and what each generation recipe changes (the ablation ladder).

All numbers come from the leaderboard (means over seeds with 95% intervals); nothing here touches real rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.config import recipe_generation, schema_defaults
from medsyn.settings import BLOCKS
from medsyn.report.scores import FLOOR_BASELINE

# the metrics a recipe is judged on, in the order the report shows them: (leaderboard column, title, better)
RECIPE_METRICS = [
    ("fidelity_score", "fidelity", "high"),
    ("fidelity.ks_complement", "KS compl.", "high"),
    ("fidelity.tv_complement", "TV compl.", "high"),
    ("fidelity.association_diff_mean", "assoc. diff", "low"),
    ("fidelity.detection_auc", "detection AUC", "low"),
    ("privacy.exact_copy_train_share", "train copies", "low"),
    ("privacy.dcr_closer_to_train_share_size_adjusted", "DCR share", "low"),
    ("privacy.mia_auc", "MIA AUC", "low"),
    ("utility_score", "utility", "high"),
    ("generation.duplicates", "duplicates", "low"),
    ("generation.exposed_train_rows", "train rows shown", "low"),
    ("generation.seconds_per_valid_row", "s / valid row", "low"),
    ("generation.decoded_tokens_per_valid_row", "tokens / valid row", "low"),
]
OVERVIEW_SCORES = [("fidelity_score", "fid."), ("privacy_score", "priv."), ("balanced_score", "bal.")]


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return "–"
    return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:.0f}"


def _interval(row, col: str, digits: int = 3) -> str:
    lo, hi = row.get(f"{col}.ci_low"), row.get(f"{col}.ci_high")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    return f"{_fmt(lo, digits)}–{_fmt(hi, digits)}"


def cross_dataset(board: pd.DataFrame, recommendation: pd.DataFrame) -> dict:
    """Generator groups (rows) x datasets (columns): fidelity, privacy and balanced scores; the marginals baseline
    marks the floor. Picks: per use case, the generator chosen on most datasets."""
    datasets = sorted(board["dataset"].unique())
    rows = []
    for (role, label), group in board.groupby(["role", "label"], sort=False):
        by_dataset = {r["dataset"]: r for _, r in group.iterrows()}
        cells = []
        for d in datasets:
            r = by_dataset.get(d)
            floor = board[(board["dataset"] == d) & (board["generator"] == FLOOR_BASELINE)
                          & (board["kind"] == "baseline")]["fidelity_score"]
            beats = None
            if r is not None and role == "candidate" and len(floor) and pd.notna(floor.iloc[0]) \
                    and pd.notna(r["fidelity_score"]):
                beats = bool(r["fidelity_score"] > floor.iloc[0])
            cells.append({"scores": [_fmt(None if r is None else r[c]) for c, _ in OVERVIEW_SCORES],
                          "beats_marginals": beats})
        mean_balanced = float(pd.to_numeric(group["balanced_score"], errors="coerce").mean())
        rows.append({"label": label, "role": role, "cells": cells, "datasets": len(by_dataset),
                     "_order": ({"reference": 0, "baseline": 1}.get(role, 2), -np.nan_to_num(mean_balanced, nan=-1))})
    rows.sort(key=lambda r: r["_order"])
    for r in rows:
        r.pop("_order")
    picks = []
    for case, group in recommendation.groupby("use_case", sort=False):
        chosen = group["generator"].dropna()
        counts = chosen.value_counts()
        picks.append({"title": group["title"].iloc[0],
                      "generator": counts.index[0] if len(counts) else None,
                      "datasets": int(counts.iloc[0]) if len(counts) else 0, "of": len(group),
                      "all": ", ".join(f"{d}: {g}" for d, g in zip(group["dataset"], group["generator"].fillna("none")))})
    return {"datasets": datasets, "score_titles": [t for _, t in OVERVIEW_SCORES], "rows": rows, "picks": picks}


def _switches(resolved: dict, base: dict) -> set:
    """A recipe's settings that differ from the base generation block, as hashable (key, value) pairs."""
    out = set()
    for key, value in resolved.items():
        if isinstance(value, dict):
            out |= {(f"{key}.{k}", str(v)) for k, v in value.items() if base.get(key, {}).get(k) != v}
        elif base.get(key) != value:
            out.add((key, str(value)))
    return out


def recipe_parents(config: dict) -> dict[str, str | None]:
    """Each recipe's parent in the ablation: the recipe whose switches are the largest proper subset of its own
    (the step it builds on), or None."""
    base = {k: v for k, v in config["generation"].items() if k != "recipes"}
    names = list(config["generation"]["recipes"])
    switches = {n: _switches(recipe_generation(config, n), base) for n in names}
    parents = {}
    for n in names:
        subsets = [m for m in names if m != n and switches[m] < switches[n]]
        parents[n] = max(subsets, key=lambda m: (len(switches[m]), -names.index(m))) if subsets else None
    return parents


def _switches_off() -> dict:
    """The recipe switch blocks with every switch off: the schema's defaults."""
    generation = schema_defaults()["generation"]
    return {key: generation[key] for key in BLOCKS}


def describe_recipe(config: dict, recipe: str) -> str:
    """A recipe in words: its sampling settings that differ from the config's base generation block, and its
    switches that are on (differ from the switches-off state), so a single-recipe config (the default one) still
    says what it turns on; 'the base generation settings' when nothing does."""
    resolved = recipe_generation(config, recipe)
    base = {k: v for k, v in config["generation"].items() if k != "recipes"}
    off = _switches_off()
    pairs = _switches({k: v for k, v in resolved.items() if k not in off}, base)
    pairs |= _switches({k: resolved[k] for k in off if k in resolved}, off)
    return ", ".join(f"{k} {v}" for k, v in sorted(pairs)) or "the base generation settings"


def recipe_effects(board: pd.DataFrame, config: dict) -> list[dict]:
    """Per dataset and generator x prompt x mode: one row per recipe (config order) with the recipe metrics, their
    intervals over seeds and the fidelity change against the recipe's parent. Empty with a single recipe."""
    recipes = list(config["generation"]["recipes"])
    if len(recipes) < 2:
        return []
    parents = recipe_parents(config)
    cands = board[(board["role"] == "candidate") & (board["kind"] == "llm")]
    sections = []
    for (dataset, generator, prompt, mode), group in cands.groupby(["dataset", "generator", "prompt", "mode"],
                                                                 sort=True):
        by_recipe = {r["recipe"]: r for _, r in group.iterrows()}
        if len(by_recipe) < 2:
            continue
        floor = board[(board["dataset"] == dataset) & (board["generator"] == FLOOR_BASELINE)
                      & (board["kind"] == "baseline")]
        rows = []
        for name in recipes:
            r = by_recipe.get(name)
            if r is None:
                continue
            parent = parents[name] if parents[name] in by_recipe else None
            delta = None
            if parent is not None:
                delta = r["fidelity_score"] - by_recipe[parent]["fidelity_score"]
            rows.append({"recipe": name, "parent": parent or "–", "n_seeds": int(r["n_seeds"]),
                         "n_rows": _fmt(r["n_rows"], 0), "delta": _fmt(delta),
                         "cells": [{"value": _fmt(r.get(c)), "interval": _interval(r, c)} for c, _, _ in RECIPE_METRICS]})
        sections.append({"dataset": dataset, "group": f"{generator} {prompt} {mode}", "rows": rows,
                         "marginals": _fmt(floor["fidelity_score"].iloc[0]) if len(floor) else "–"})
    return sections
