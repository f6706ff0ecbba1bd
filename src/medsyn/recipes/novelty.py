"""Novelty at decode time: the judge of every completed row (``generation.novelty``).

A row is sent back for resampling (rolled back in place by the decoder) when it equals

- ``earlier``: a row this run already accepted (duplicates);
- ``examples``: one of the example rows the call's prompt showed;
- ``train``: any train row (an exact copy of a patient);
- ``near``: lies within the near-copy distance of a train row: a quantile (default the 5th percentile, as the
  privacy metrics' near-copy threshold) of the holdout rows' distance to their nearest train row, with the
  evaluation's own mixed-type distance (``medsyn.distance``). A higher quantile keeps rows further from
  every patient (DCR share and membership inference fall) at some cost in fidelity.

Rows are compared as the canonical text the grammar writes (the parser's form), in the generation column order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.distance import RowEncoder, categorical_slice, encode, nearest
from medsyn.recipes.rowtext import row_texts
from medsyn.settings import NoveltySettings
from medsyn.spec import MISSING_TEXT, DatasetSpec

CHECKS = ("earlier", "examples", "train", "near")


class NoveltyJudge:
    """Keeps the run's accepted rows; ``reason(row, examples)`` says why a row is not new (None: it is)."""

    def __init__(self, settings: NoveltySettings, spec: DatasetSpec, train: pd.DataFrame | None = None,
                 holdout: pd.DataFrame | None = None):
        checks, near_quantile = settings.reject, settings.near_quantile
        unknown = sorted(set(checks) - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown novelty checks {unknown}; expected some of {list(CHECKS)}")
        self.spec = spec
        self.checks = tuple(c for c in CHECKS if c in checks)
        self.accepted: set[str] = set()
        self.train_rows: set[str] = set()
        self.near_threshold: float | None = None
        if ("train" in self.checks or "near" in self.checks) and (train is None or not len(train)):
            raise ValueError("novelty checks 'train' and 'near' need the train rows")
        if "train" in self.checks:
            self.train_rows = set(row_texts(train, spec))
        if "near" in self.checks:
            self._setup_near(train, holdout, near_quantile)

    def _setup_near(self, train: pd.DataFrame, holdout: pd.DataFrame | None, quantile: float) -> None:
        if holdout is None or not len(holdout):
            raise ValueError("novelty check 'near' needs the holdout rows (its threshold comes from them)")
        self._row_encoder = RowEncoder(self.spec, train, MISSING_TEXT)  # train's ranges, as encode() scales
        self._encoded_train = encode(train, self.spec, train)
        d = nearest(encode(holdout, self.spec, train), self._encoded_train, k=1, group=categorical_slice(self.spec))
        self.near_threshold = float(np.quantile(d[0][:, 0], quantile))

    def distance_to_train(self, row: str) -> float:
        query = self._row_encoder.encode(row.split(","))
        return float(np.abs(self._encoded_train - query).sum(axis=1).min())

    def reason(self, row: str, examples: frozenset | set = frozenset()) -> str | None:
        if "earlier" in self.checks and row in self.accepted:
            return "earlier"
        if "examples" in self.checks and row in examples:
            return "examples"
        if "train" in self.checks and row in self.train_rows:
            return "train"
        if "near" in self.checks and self.distance_to_train(row) <= self.near_threshold:
            return "near"
        return None

    def accept(self, row: str) -> None:
        self.accepted.add(row)
