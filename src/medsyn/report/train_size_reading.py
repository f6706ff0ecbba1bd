"""The report's train-size section in words: at which train size, if any, an LLM table beats the best classical
generator while releasable (every seed passes the privacy gate), per dataset and across datasets; and the compact
generator x train size table beside it.

Every size of every dataset is read out, wins and losses alike. A difference counts as clear only when the two 95%
intervals over seeds do not overlap; otherwise it is not distinguishable with the seeds run. Pure functions over
``medsyn.report.train_sizes.size_table``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from medsyn.layout import ALL_TRAIN
from medsyn.report.train_sizes import GROUP_KINDS, pick, sizes

GATE = "releasable (every seed passes the privacy gate)"


def size_phrase(train_rows: str, split: dict | None = None) -> str:
    """``25 train rows`` (``groups`` with a spec group_column), ``all 240 train rows`` (the count from split.json)."""
    split = split or {}
    unit = "groups" if split.get("grouped_by") else "rows"
    if str(train_rows) != ALL_TRAIN:
        return f"{train_rows} train {unit}"
    total = (split.get("group_counts") or {}).get("train") if unit == "groups" else split.get("train_rows")
    return f"all {total} train {unit}" if total is not None else f"all train {unit}"


def size_tick(train_rows: str, split: dict | None = None) -> str:
    """A short axis or column label: ``25``, ``all (240)``."""
    if str(train_rows) != ALL_TRAIN:
        return str(train_rows)
    split = split or {}
    total = (split.get("group_counts") or {}).get("train") if split.get("grouped_by") else split.get("train_rows")
    return f"all ({total})" if total is not None else "all"


def number(row, col: str) -> float:
    value = row.get(col) if row is not None else None
    return float(value) if value is not None and not pd.isna(value) else math.nan


def score_text(row) -> str:
    """``fidelity 0.712 [0.690, 0.734]``; intervals clipped to [0, 1] like the report's tables."""
    lo, hi = number(row, "fidelity_score.ci_low"), number(row, "fidelity_score.ci_high")
    interval = "" if math.isnan(lo) or math.isnan(hi) else f" [{max(lo, 0.0):.3f}, {min(hi, 1.0):.3f}]"
    return f"fidelity {number(row, 'fidelity_score'):.3f}{interval}"


def separated(a, b) -> bool:
    """True when both 95% fidelity intervals exist and do not overlap."""
    a_lo, a_hi = number(a, "fidelity_score.ci_low"), number(a, "fidelity_score.ci_high")
    b_lo, b_hi = number(b, "fidelity_score.ci_low"), number(b, "fidelity_score.ci_high")
    if any(math.isnan(v) for v in (a_lo, a_hi, b_lo, b_hi)):
        return False
    return a_lo > b_hi or b_lo > a_hi


def verdict(a, b) -> str:
    """How far apart two groups' fidelity lies, and whether the seeds run can tell them apart."""
    diff = abs(number(a, "fidelity_score") - number(b, "fidelity_score"))
    if separated(a, b):
        return f"by {diff:.3f}, outside both 95% intervals (they do not overlap)"
    n = int(min(number(a, "n_seeds"), number(b, "n_seeds")))
    seeds = f"{n} seed" + ("" if n == 1 else "s")
    if n < 2:
        return f"by {diff:.3f}, with no interval from {seeds}: not distinguishable with {seeds}"
    return f"by {diff:.3f}, inside the 95% intervals (they overlap): not distinguishable with {seeds}"


def _contribution(row) -> str:
    if row.get("pull") is None or pd.isna(row.get("pull")) or math.isnan(number(row, "contribution")):
        return ""
    return f"; the model's contribution over its recipe's pull ({row['pull']}) is {number(row, 'contribution'):+.3f}"


def name(row) -> str:
    """A group's name in prose: a baseline by its generator name, an LLM group by its label."""
    return str(row["generator"]) if row["kind"] == "baseline" else str(row["label"])


def _gate_failing_above(c: "Comparison") -> str:
    """The best LLM table ignoring the gate, when it is not the releasable one: said, not hidden."""
    if c.llm_any is None or c.llm is None or c.llm_any["label"] == c.llm["label"]:
        return ""
    return (f" ({name(c.llm_any)} scores higher, {score_text(c.llm_any)}, but passes the gate on only "
            f"{int(c.llm_any['releasable_seeds'])} of {int(c.llm_any['n_seeds'])} seeds)")


def _ignoring_gate(row) -> str:
    """The best group ignoring the gate, with how many of its seeds pass it (for a size where none passes)."""
    if row is None:
        return ""
    return (f" (the best ignoring the gate, {name(row)}, {score_text(row)}, passes it on "
            f"{int(row['releasable_seeds'])} of {int(row['n_seeds'])} seeds)")


@dataclass(frozen=True)
class Comparison:
    """The picks of one dataset at one train size (rows of the size table, or None)."""
    dataset: str
    train_rows: str
    llm: pd.Series | None  # best releasable LLM table
    llm_any: pd.Series | None  # best LLM table ignoring the gate
    classical: pd.Series | None  # best releasable classical generator
    classical_any: pd.Series | None

    @property
    def comparable(self) -> bool:
        return self.llm is not None and self.classical is not None

    @property
    def wins(self) -> bool:
        return self.comparable and number(self.llm, "fidelity_score") > number(self.classical, "fidelity_score")

    @property
    def clear(self) -> bool:
        return self.comparable and separated(self.llm, self.classical)


def compare(table: pd.DataFrame, dataset: str, train_rows: str) -> Comparison:
    return Comparison(dataset, str(train_rows), *(pick(table, dataset, train_rows, name) for name in (
        "best_llm_releasable", "best_llm_any", "best_classical_releasable", "best_classical_any")))


def size_sentence(c: Comparison, phrase: str) -> str:
    """What one train size shows, in one sentence."""
    if c.llm_any is None:
        return f"With {phrase}, no LLM table was generated."
    if c.classical_any is None:
        return f"With {phrase}, no classical generator was run to compare with."
    if c.llm is None:
        best = c.classical if c.classical is not None else c.classical_any
        return (f"With {phrase}, no LLM table passes the privacy gate on every seed; the best ignoring the gate, "
                f"{name(c.llm_any)} ({score_text(c.llm_any)}), would be "
                f"{'above' if number(c.llm_any, 'fidelity_score') > number(best, 'fidelity_score') else 'at or below'} "
                f"the best classical generator, {name(best)} ({score_text(best)}).")
    if c.classical is None:
        return (f"With {phrase}, no classical generator passes the privacy gate on every seed"
                f"{_ignoring_gate(c.classical_any)}, so none is there to beat; the best releasable LLM table is {name(c.llm)} ({score_text(c.llm)}).")
    if c.wins:
        return (f"With {phrase}, {name(c.llm)} ({score_text(c.llm)}, releasable) beats the best classical "
                f"generator, {name(c.classical)} ({score_text(c.classical)}), {verdict(c.llm, c.classical)}"
                f"{_contribution(c.llm)}{_gate_failing_above(c)}.")
    return (f"With {phrase}, the best classical generator, {name(c.classical)} ({score_text(c.classical)}), is at "
            f"or above the best releasable LLM table, {name(c.llm)} ({score_text(c.llm)}), "
            f"{verdict(c.llm, c.classical)}{_contribution(c.llm)}{_gate_failing_above(c)}.")


def _clear_count(wins: list[Comparison]) -> str:
    if len(wins) == 1:
        return ("the difference lies outside both 95% intervals" if wins[0].clear
                else "the difference lies inside the 95% intervals: not distinguishable with the seeds run")
    clear = sum(c.clear for c in wins)
    return (f"{clear} of these {len(wins)} differences lie outside both 95% intervals, {len(wins) - clear} inside "
            f"them (not distinguishable with the seeds run)")


def join_words(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def dataset_reading(table: pd.DataFrame, dataset: str, split: dict | None = None) -> str:
    """One paragraph over every train size of ``dataset``: the answer first, then each size in order."""
    comparisons = [compare(table, dataset, n) for n in sizes(table, dataset)]
    phrases = {c.train_rows: size_phrase(c.train_rows, split) for c in comparisons}
    if all(c.llm_any is None for c in comparisons):
        best = [f"with {phrases[c.train_rows]} "
                + (f"{name(c.classical)} ({score_text(c.classical)})" if c.classical is not None else
                   f"none{_ignoring_gate(c.classical_any)}")
                for c in comparisons]
        return ("No LLM table was generated for this dataset: there is no LLM table to compare with the classical "
                "generators. The best classical generator whose every seed passes the privacy gate: "
                + "; ".join(best) + ".")
    wins = [c for c in comparisons if c.wins]
    if not wins:
        lead = f"At no train size does an LLM table beat the best classical generator while {GATE}."
    else:
        lead = (f"An LLM table beats the best classical generator while {GATE} with "
                f"{join_words([phrases[c.train_rows] for c in wins])}"
                + (f", not with {join_words([phrases[c.train_rows] for c in comparisons if not c.wins])}"
                   if len(wins) < len(comparisons) else ", every train size run")
                + f"; {_clear_count(wins)}.")
    alone = [phrases[c.train_rows] for c in comparisons if c.llm is not None and c.classical is None]
    if alone:  # no win to count, but a reader must not take "no win" for "a classical generator is as good"
        lead += (f" With {join_words(alone)}, though, an LLM table passes the privacy gate on every seed and no classical "
                 f"generator does.")
    return " ".join([lead] + [size_sentence(c, phrases[c.train_rows]) for c in comparisons])


def across_reading(table: pd.DataFrame, splits: dict[str, dict] | None = None) -> str:
    """One paragraph across datasets: every dataset x train size where an LLM table beats the best classical
    generator while releasable, or plainly that there is none."""
    splits = splits or {}
    datasets = sorted(table["dataset"].unique())
    comparisons = [compare(table, d, n) for d in datasets for n in sizes(table, d)]
    n_pairs = (f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''} "
               f"({len(comparisons)} dataset x train size pairs)")
    if all(c.llm_any is None for c in comparisons):
        return f"No LLM table was generated on any of the {n_pairs}: there is no LLM table to compare."
    compared = sum(c.comparable for c in comparisons)
    alone = sum(c.llm is not None and c.classical is None for c in comparisons)
    basis = (f" Both a releasable LLM table and a releasable classical generator exist in {compared} of the "
             f"{len(comparisons)} pairs" + (f"; in {alone} more only an LLM table is releasable." if alone else "."))
    wins = [c for c in comparisons if c.wins]
    if not wins:
        return (f"Across {n_pairs}, at no train size does an LLM table beat the best classical generator while "
                f"{GATE}." + basis)
    where = [f"{c.dataset} with {size_phrase(c.train_rows, splits.get(c.dataset))} "
             f"({'outside both 95% intervals' if c.clear else 'not distinguishable'})" for c in wins]
    return (f"Across {n_pairs}, an LLM table beats the best classical generator while {GATE} in {len(wins)}: "
            f"{join_words(where)}" + (f"; {_clear_count(wins)}." if len(wins) > 1 else ".") + basis)


def _cell(row) -> dict:
    lo, hi = number(row, "fidelity_score.ci_low"), number(row, "fidelity_score.ci_high")
    releasable = str(row["releasable"]).lower() == "true"
    best = [who for who, flag in (("best classical", "best_classical_releasable"), ("best LLM", "best_llm_releasable"))
            if str(row[flag]).lower() == "true"]
    contribution = number(row, "contribution")
    privacy = number(row, "privacy_score")
    return {"privacy": "–" if math.isnan(privacy) else f"{privacy:.3f}",
            "value": "–" if math.isnan(number(row, "fidelity_score")) else f"{number(row, 'fidelity_score'):.3f}",
            "interval": "" if math.isnan(lo) or math.isnan(hi) else f"[{max(lo, 0.0):.3f}, {min(hi, 1.0):.3f}]",
            "releasable": f"{int(row['releasable_seeds'])}/{int(row['n_seeds'])}",
            "bad": not releasable and row["group_kind"] != "reference", "best": ", ".join(best),
            "contribution": "" if math.isnan(contribution) else f"{contribution:+.3f} over {row['pull']}"}


def table_rows(table: pd.DataFrame, dataset: str) -> tuple[list[str], list[dict]]:
    """(train sizes in order, rows): each generator group with one cell per size (None where it was not run)."""
    rows = table[table["dataset"] == dataset]
    order = sizes(rows)
    groups = rows.drop_duplicates("label")[["label", "group_kind"]]
    groups = groups.assign(_g=groups["group_kind"].map(GROUP_KINDS.index)).sort_values(["_g", "label"])
    out = []
    for label, kind in zip(groups["label"], groups["group_kind"]):
        mine = {str(r["train_rows"]): r for _, r in rows[rows["label"] == label].iterrows()}
        out.append({"label": label, "group": kind, "cells": [_cell(mine[n]) if n in mine else None for n in order]})
    return order, out


_ROW_CLASS = {"reference": "reference", "llm": "candidate", "imported": "candidate"}  # else a baseline row


def section(table: pd.DataFrame, titles: dict[str, str], splits: dict[str, dict], figures: dict[str, str | None],
            main: str) -> dict:
    """The report's train-size section: the reading across datasets (with more than one), and per dataset (in
    ``titles``' order) its reading, figure (a data URI or None) and the generator x train size table. ``main``: the
    train size the dataset sections show."""
    out = []
    for dataset, title in titles.items():
        order, rows = table_rows(table, dataset)
        for row in rows:
            row["css"] = _ROW_CLASS.get(row["group"], "baseline")
        out.append({"name": dataset, "title": title, "reading": dataset_reading(table, dataset, splits.get(dataset)),
                    "figure": figures.get(dataset), "ticks": [size_tick(n, splits.get(dataset)) for n in order],
                    "rows": rows})
    return {"across": across_reading(table, splits) if len(titles) > 1 else None, "datasets": out,
            "main": size_phrase(main)}
