"""The report's opening: which table can I release, whoever made it, and what does the model add?

Per dataset, at the train size the dataset sections show: the best releasable table of any generator (a classical
baseline, a recipe's pull, an LLM run or an imported table; every seed passes the privacy gate) beside the best LLM
table, each with its fidelity interval over seeds; each LLM group's contribution over its recipe's pull without the
model (``steered-<recipe>``, else ``drawn-<recipe>``), as a paired difference per seed with a 95% t-interval; and a
short reading generated from those numbers. Pure functions over the size table (``train_sizes.size_table``) and
the per-table metrics; nothing here reads a file or a real row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from medsyn.evaluate.aggregate import mean_ci
from medsyn.report.scores import add_scores
from medsyn.report.train_size_reading import join_words, name, number, separated
from medsyn.report.train_sizes import best_index

PULLS = ("steered-", "drawn-")  # the recipe's own pull without the model, in the order it is looked for
KIND_WORDS = {"classical": "classical generator", "pull": "recipe's pull without a model", "llm": "LLM",
              "imported": "imported generator", "resampling": "resampled train rows"}


def _fidelity(row) -> dict:
    lo, hi = number(row, "fidelity_score.ci_low"), number(row, "fidelity_score.ci_high")
    return {"value": f"{number(row, 'fidelity_score'):.3f}",
            "interval": "" if math.isnan(lo) else f"{max(lo, 0.0):.3f}–{min(hi, 1.0):.3f}"}


def _card_entry(row) -> dict | None:
    if row is None:
        return None
    return {"name": name(row), "kind": KIND_WORDS.get(row["group_kind"], row["group_kind"]),
            "is_llm": row["group_kind"] == "llm", **_fidelity(row),
            "privacy": "–" if math.isnan(number(row, "privacy_score")) else f"{number(row, 'privacy_score'):.3f}",
            "releasable": f"{int(row['releasable_seeds'])}/{int(row['n_seeds'])}"}


def _best(rows: pd.DataFrame) -> pd.Series | None:
    label = best_index(rows)
    return None if label is None else rows.loc[label]


def dataset_card(table: pd.DataFrame, dataset: str, title: str) -> dict:
    """One dataset's answer: the best releasable table of any generator, the best LLM table (the best releasable
    one, else the best ignoring the gate), the real holdout's fidelity, and how far apart the two are."""
    rows = table[table["dataset"] == dataset]
    releasable = rows[rows["releasable"].astype(str).str.lower().eq("true") & (rows["group_kind"] != "reference")]
    best = _best(releasable)
    llms = rows[rows["group_kind"] == "llm"]
    llm = _best(llms[llms["releasable"].astype(str).str.lower().eq("true")])
    llm_releasable = llm is not None
    llm = llm if llm_releasable else _best(llms)
    holdout = rows[rows["group_kind"] == "reference"]
    card = {"dataset": dataset, "title": title, "best": _card_entry(best), "llm": _card_entry(llm),
            "llm_releasable": llm_releasable,
            "holdout": _fidelity(holdout.iloc[0]) if len(holdout) else None, "gap": None, "separated": False}
    if best is not None and llm is not None and best["label"] != llm["label"]:
        card["gap"] = f"{number(llm, 'fidelity_score') - number(best, 'fidelity_score'):+.3f}"
        card["separated"] = separated(llm, best)  # not "clear": Jinja would find dict.clear
    # the table a reader would pick ignoring privacy, when it is not the releasable one: said, not hidden
    candidates = rows[~rows["group_kind"].isin(["reference", "resampling"])]
    top = _best(candidates)
    above = None
    if top is not None and (best is None or (top["label"] != best["label"]
                                             and number(top, "fidelity_score") > number(best, "fidelity_score"))):
        above = top
    card["above_gate"] = _card_entry(above)
    card["_best"], card["_llm"], card["_above"] = best, llm, above  # for the reading; not shown
    return card


def _pull_of(baselines: set[str], recipe: str) -> str | None:
    for prefix in PULLS:
        if f"{prefix}{recipe}" in baselines:
            return f"{prefix}{recipe}"
    return None


def contributions(metrics: pd.DataFrame, labels: dict[tuple, str]) -> list[dict]:
    """Each LLM group minus its recipe's pull, seed by seed (same dataset, train rows and seed): the mean difference
    in fidelity score with a 95% t-interval over the paired seeds. ``labels``: the leaderboard's label per
    (dataset, generator, prompt, mode, recipe)."""
    if metrics.empty:
        return []
    scored = add_scores(metrics)
    scored = scored.assign(train_rows=scored["train_rows"].astype(str), seed=scored["seed"].astype(str))
    out = []
    for dataset, on_dataset in scored.groupby("dataset", sort=True):
        baselines = on_dataset[on_dataset["kind"] == "baseline"]
        names = set(baselines["generator"].astype(str))
        llm = on_dataset[on_dataset["kind"] == "llm"]
        for (generator, prompt, mode, recipe), group in llm.groupby(["generator", "prompt", "mode", "recipe"],
                                                                     sort=True):
            pull = _pull_of(names, str(recipe))
            entry = {"dataset": dataset, "label": labels.get((dataset, generator, prompt, mode, recipe),
                                                  f"{generator} {prompt} {mode} {recipe}"),
                     "pull": pull or "–", "n": 0, "value": "–", "interval": "", "mean": math.nan,
                     "low": math.nan, "high": math.nan}
            if pull is not None:
                theirs = baselines[baselines["generator"] == pull].set_index(["train_rows", "seed"])["fidelity_score"]
                mine = group.set_index(["train_rows", "seed"])["fidelity_score"]
                diffs = (mine - theirs.reindex(mine.index)).dropna()
                mean, lo, hi, n = mean_ci(diffs)
                entry.update(n=n, mean=mean, low=lo, high=hi,
                             value="–" if n == 0 else f"{mean:+.3f}",
                             interval="" if np.isnan(lo) else f"{lo:+.3f} to {hi:+.3f}")
            out.append(entry)
    return out


def _by_generator(cards: list[dict]) -> str:
    """``copula on cirrhosis and stroke, cart on pima``: the best releasable table's maker, datasets grouped."""
    where: dict[str, list[str]] = {}
    for c in cards:
        where.setdefault(name(c["_best"]), []).append(c["dataset"])
    return ", ".join(f"{who} on {join_words(datasets)}" for who, datasets in where.items())


def reading(cards: list[dict], gains: list[dict]) -> list[str]:
    """The overview in sentences, from the numbers only: who makes the best releasable table where, whether the
    best LLM table is releasable and how far behind or ahead it is, and the range of the model's contribution."""
    out = []
    n = len(cards)
    with_best = [c for c in cards if c["_best"] is not None]
    llm_best = [c for c in with_best if c["_best"]["group_kind"] == "llm"]
    other = [c for c in with_best if c["_best"]["group_kind"] != "llm"]
    if not with_best:
        out.append(f"On none of the {n} datasets does any table pass the privacy gate on every seed: nothing here "
                   f"is releasable as it stands.")
    else:
        parts = []
        if other:
            parts.append(f"on {len(other)} of {n} datasets a generator without an LLM gives the best releasable "
                         f"table ({_by_generator(other)})")
        if llm_best:
            parts.append(f"on {len(llm_best)} of {n} an LLM table does ({_by_generator(llm_best)})" if other else
                         f"on {len(llm_best)} of {n} datasets an LLM table gives the best releasable table "
                         f"({_by_generator(llm_best)})")
        none = n - len(with_best)
        if none:
            parts.append(f"on {none} no table passes the gate on every seed")
        out.append(join_words(parts)[0].upper() + join_words(parts)[1:] + ".")
    above = [c for c in cards if c["_above"] is not None]
    if above:
        out.append(f"On {len(above)} of {n} datasets a table of higher fidelity fails the privacy gate ("
                   + "; ".join(f"{name(c['_above'])} on {c['dataset']}, {int(c['_above']['releasable_seeds'])} "
                               f"of {int(c['_above']['n_seeds'])} seeds releasable" for c in above)
                   + "): the dataset's privacy table gives the reasons; the gate checks the upper ends of 95% "
                     "intervals, which are wide on tables of few rows.")
    behind = [c for c in cards if c["gap"] is not None and c["_llm"] is not None and c["_best"] is not None
              and c["_best"]["group_kind"] != "llm"]
    if behind:
        clear = sum(c["separated"] for c in behind)
        gaps = sorted(float(c["gap"]) for c in behind)
        span = f"{gaps[0]:+.3f}" if len(gaps) == 1 else f"{gaps[0]:+.3f} to {gaps[-1]:+.3f}"
        out.append(f"Where the best releasable table is not an LLM table, the best LLM table scores {span} "
                   f"fidelity against it; {clear} of {len(behind)} such gap{'s lie' if len(behind) != 1 else ' lies'} "
                   f"outside both 95% intervals"
                   + ("." if clear == len(behind) else f", {len(behind) - clear} within them (not distinguishable "
                                                        f"with the seeds run)."))
    llm_cards = [c for c in cards if c["_llm"] is not None]
    unreleasable = [c["dataset"] for c in llm_cards if not c["llm_releasable"]]
    if unreleasable:
        out.append(f"No LLM table passes the privacy gate on every seed on {join_words(unreleasable)}.")
    if not llm_cards:
        out.append("No LLM table was generated.")
    measured = [g for g in gains if g["n"] > 0]
    if measured:
        lo, hi = min(g["mean"] for g in measured), max(g["mean"] for g in measured)
        above = sum(1 for g in measured if not np.isnan(g["low"]) and g["low"] > 0)
        below = sum(1 for g in measured if not np.isnan(g["high"]) and g["high"] < 0)
        with_ci = sum(1 for g in measured if not np.isnan(g["low"]))
        span = f"{lo:+.3f}" if len(measured) == 1 else f"{lo:+.3f} to {hi:+.3f}"
        sentence = (f"Over its recipe's pull without the model, the LLM adds {span} fidelity "
                    f"({len(measured)} LLM group{'s' if len(measured) != 1 else ''})")
        if with_ci:
            sentence += (f"; the 95% interval lies above zero for {above}, below zero for {below} and spans zero "
                         f"for {with_ci - above - below} of the {with_ci} with two or more seeds")
        else:
            sentence += "; one seed each, so no interval"
        out.append(sentence + ".")
    elif llm_cards:
        out.append("No LLM group has its recipe's pull (steered-/drawn-<recipe>) as a baseline, so the model's "
                   "own contribution is not measured: add it to evaluation.baselines.")
    return out


def headline(table: pd.DataFrame, metrics: pd.DataFrame, titles: dict[str, str]) -> dict:
    """The overview's context: a card per dataset (``titles``' order), the contributions and the reading.
    ``table``: the size table at one train size; ``metrics``: metrics.tsv at that size."""
    cards = [dataset_card(table, d, t) for d, t in titles.items()]
    labels = {(r["dataset"], r["generator"], r["prompt"], r["mode"], r["recipe"]): r["label"]
              for _, r in table[table["group_kind"] == "llm"].iterrows()}
    gains = contributions(metrics, labels)
    text = reading(cards, gains)
    for c in cards:
        c.pop("_best"), c.pop("_llm"), c.pop("_above")
    return {"cards": cards, "contributions": gains, "reading": text}
