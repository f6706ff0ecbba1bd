"""What marginal steering counts (``medsyn.recipes.steering``): the value texts of each column, train's (the target)
and the run's (the running share), by whole text and by every prefix, with the bin each value falls in; and, for
conditional steering, each column's parent and those counts per parent bin (``Chain``). The decoder's bias and the
model-free pull (``pull_without_model``) read the same counts."""

from __future__ import annotations

import bisect
import math
from collections import Counter

import numpy as np
import pandas as pd

from medsyn.spec import MISSING_TEXT, DatasetSpec

PSEUDO_ROWS = 10.0  # weight of the target in the running share: the bias grows as generated rows accumulate
FLOOR = 1e-3  # shares below this count as this (log of zero)
LEVEL_PREFIX_CHARS = 4  # how far into the next field a separator-spanning token is looked up
PARENT_BINS = 5  # quantile bins of a numeric parent column (conditional steering)
MIN_PARENT_ROWS = 20  # train rows a parent bin needs before the pull is conditional on it


class PrefixCounts:
    """Counts of value texts, by whole text and by every prefix (so shares of a prefix are O(1) lookups)."""

    def __init__(self):
        self.exact: Counter = Counter()
        self.prefix: Counter = Counter()
        self.total = 0

    def add(self, text: str, n: int = 1) -> None:
        self.exact[text] += n
        for k in range(len(text) + 1):
            self.prefix[text[:k]] += n
        self.total += n


class ColumnCounts:
    def __init__(self, col, texts: list[str], bins: int):
        self.col = col
        self.target = PrefixCounts()
        for text, n in Counter(texts).items():
            self.target.add(text, n)
        self.generated = PrefixCounts()
        # the values steered over: train's value texts, and for a categorical column every level (a level train
        # never shows gets target share 0, so the bias pushes away from it once the model writes it)
        levels = [] if col.is_numeric else list(col.levels) + ([MISSING_TEXT] if col.allow_missing else [])
        self.support = sorted(set(self.target.exact) | set(levels))
        self.bin_of: dict[str, int] = {}
        if col.is_numeric and bins == 0:  # every distinct value its own bin: steered to the last digit
            self.bin_of = {text: i for i, text in enumerate(self.support)}
        elif col.is_numeric:
            values = np.array([float(t) for t in texts if t != MISSING_TEXT])
            edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])) if len(values) else []
            for text in self.support:
                self.bin_of[text] = -1 if text == MISSING_TEXT else int(np.searchsorted(edges, float(text), "right"))
        else:
            self.bin_of = {text: i for i, text in enumerate(self.support)}
        # characters a numeric value is written with: tokens of one of them are candidates at every undecided
        # point, also those leading where train has no value (the model's "100" for an age): target share 0
        signed = col.is_numeric and col.min < 0
        self.alphabet = sorted(set("0123456789.") | ({"N"} if col.allow_missing else set())
                               | ({"-"} if signed else set())) if col.is_numeric else []
        # what a token that closes the previous field may carry of this one: a level's first characters; of a
        # number only its sign (digits are separate tokens in the tokenizers we run, but SmolLM2 has ",-")
        if col.is_numeric:
            self.openers = ["-"] if signed else []
        else:
            self.openers = list(dict.fromkeys(level[:m] for level in self.support
                                              for m in range(1, min(len(level), LEVEL_PREFIX_CHARS) + 1)))

    def starting_with(self, partial: str) -> list[str]:
        """The support's values that start with ``partial``, in support order: one contiguous run of the sorted
        list, found by bisection (the decoder asks per token; a scan of every value cost ~0.3 ms)."""
        support = self.support
        start = end = bisect.bisect_left(support, partial)
        while end < len(support) and support[end].startswith(partial):
            end += 1
        return support[start:end]

    def decided(self, partial: str) -> bool:
        """Whether the field's text so far leaves train values of one bin (or level) only."""
        bins = {self.bin_of[t] for t in self.starting_with(partial)}
        return len(bins) <= 1

    def unseen(self, partial: str, continuation: str, ends: bool) -> bool:
        """Whether train has values starting with ``partial`` but none that continue with ``continuation``."""
        text = partial + continuation
        return self.target.prefix[partial] > 0 and (self.target.exact[text] if ends else self.target.prefix[text]) == 0

    def log_ratio(self, partial: str, continuation: str, ends: bool, target: PrefixCounts | None = None,
                  generated: PrefixCounts | None = None) -> float:
        """log target share - log running share of the values after ``partial`` that continue with
        ``continuation`` (and end there, if ``ends``); the counts are the marginal ones unless given (a parent
        bin's)."""
        target = self.target if target is None else target
        generated = self.generated if generated is None else generated
        text = partial + continuation
        base_t = target.prefix[partial]
        if base_t == 0:
            return 0.0
        t = (target.exact[text] if ends else target.prefix[text]) / base_t
        g = generated.exact[text] if ends else generated.prefix[text]
        r = (g + PSEUDO_ROWS * t) / (generated.prefix[partial] + PSEUDO_ROWS)
        return math.log(max(t, FLOOR)) - math.log(max(r, FLOOR))


def parent_binner(col, texts: list[str]):
    """Value text -> coarse bin key of a parent column: the level (or NA) itself, a numeric value's quantile bin."""
    if not col.is_numeric:
        return lambda text: text
    values = np.array([float(t) for t in texts if t != MISSING_TEXT])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, PARENT_BINS + 1)[1:-1])) if len(values) else np.array([])

    def key(text: str):
        if text == MISSING_TEXT:
            return -1
        try:
            return int(np.searchsorted(edges, float(text), "right"))
        except ValueError:  # a field still being written ("4." or "")
            return None
    return key


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    joint = pd.crosstab(a, b).to_numpy(dtype=float)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


class Chain:
    """Conditional steering's parents and counts: for each column after the first, the earlier column it is pulled
    given (highest mutual information of the coarse bins on train) and its train / generated value counts per
    parent bin."""

    def __init__(self, spec: DatasetSpec, texts: list[list[str]]):
        self.binners = [parent_binner(col, t) for col, t in zip(spec.columns, texts)]
        keys = [np.array([str(binner(t)) for t in column]) for binner, column in zip(self.binners, texts)]
        self.parents: list[int | None] = [None]
        for j in range(1, len(spec.columns)):
            scores = [mutual_information(keys[i], keys[j]) for i in range(j)]
            self.parents.append(int(np.argmax(scores)))
        self.target: list[dict] = [{} for _ in spec.columns]
        self.generated: list[dict] = [{} for _ in spec.columns]
        for j, parent in enumerate(self.parents):
            if parent is None:
                continue
            by_bin: dict = {}
            for parent_text, text in zip(texts[parent], texts[j]):
                by_bin.setdefault(self.binners[parent](parent_text), Counter())[text] += 1
            for key, counts in by_bin.items():
                if sum(counts.values()) >= MIN_PARENT_ROWS:
                    target = self.target[j][key] = PrefixCounts()
                    for text, n in counts.items():
                        target.add(text, n)
                    self.generated[j][key] = PrefixCounts()

    def key(self, column: int, fields: list[str]):
        """The parent bin of ``column`` in a row whose fields so far are ``fields`` (None: no conditional pull)."""
        parent = self.parents[column]
        if parent is None or parent >= len(fields):
            return None
        return self.key_of(column, fields[parent])

    def key_of(self, column: int, parent_text: str):
        """The parent bin of ``column`` given its parent's value text (None: too few train rows in it)."""
        key = self.binners[self.parents[column]](parent_text)
        return key if key in self.target[column] else None

    def observe(self, fields: list[str]) -> None:
        for j, text in enumerate(fields):
            key = self.key(j, fields)
            if key is not None:
                self.generated[j][key].add(text)

    def counts(self, column: int, key):
        return (self.target[column][key], self.generated[column][key]) if key is not None else (None, None)
