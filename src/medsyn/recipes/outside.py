"""Randomness from outside the model (``generation.outside``): the first k values of each row are drawn before
the model writes it, and forced into the row; the model completes the row under the grammar.

- ``marginal``: each of the k columns from its own train marginal (independent draws);
- ``copula``: the k columns jointly from a Gaussian copula fitted on train (``medsyn.copula.GaussianCopula``).

The k columns are the first k of the generation column order (``generation.column_order`` puts chosen columns,
e.g. the target, first). Each call has its own seeded stream of draws; a rolled-back row keeps its drawn start.

``without_model`` is the fair baseline of such a recipe: the same draws for the k columns, the model's columns
resampled independently from their train marginals. What a recipe scores above it is the model's contribution.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np
import pandas as pd

from medsyn.copula import GaussianCopula
from medsyn.recipes.rowtext import value_texts
from medsyn.seeds import derive_seed
from medsyn.settings import OutsideSettings
from medsyn.spec import DatasetSpec

METHODS = ("none", "marginal", "copula")
BLOCK = 64  # rows drawn at a time per call


def drawn_spec(spec: DatasetSpec, k: int) -> DatasetSpec:
    """The spec of the first ``k`` columns (of ``spec``'s order)."""
    return dataclasses.replace(spec, columns=spec.columns[:k])


class OutsideDraws:
    """Draws the first ``k`` columns of ``spec`` (generation order) with ``method``, fitted on ``train``."""

    def __init__(self, settings: OutsideSettings, spec: DatasetSpec, train: pd.DataFrame, fit_seed: int):
        method, k = settings.method, settings.columns
        if method not in METHODS[1:]:
            raise ValueError(f"unknown outside-draw method {method!r}; expected one of {list(METHODS[1:])}")
        if not 0 < k < len(spec.columns):
            raise ValueError(f"outside draws need 0 < columns < {len(spec.columns)} (the model writes the rest), "
                             f"got {k}")
        self.spec = drawn_spec(spec, k)
        self.method = method
        self.train = train[self.spec.column_names].reset_index(drop=True)
        self.copula = GaussianCopula(self.train, self.spec, np.random.default_rng(fit_seed)) \
            if method == "copula" else None

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        if self.copula is not None:
            return self.copula.sample(n, rng)
        columns = {c: self.train[c].to_numpy()[rng.integers(0, len(self.train), size=n)] for c in self.train}
        return pd.DataFrame(columns, columns=self.train.columns)

    def prefixes(self, seed: int) -> Iterator[str]:
        """An endless stream of row starts ``"v1,...,vk,"`` for one call (seeded by the call's seed)."""
        rng = np.random.default_rng(derive_seed("outside", seed))
        while True:
            block = self.sample(BLOCK, rng)
            for parts in zip(*value_texts(block, self.spec)):
                yield ",".join(parts) + ","


def without_model(settings: OutsideSettings, spec: DatasetSpec, train: pd.DataFrame, n: int,
                  rng: np.random.Generator) -> pd.DataFrame:
    """The recipe's draws for the first k columns with every other column resampled from its train marginal."""
    draws = OutsideDraws(settings, spec, train, fit_seed=int(rng.integers(1, 2**31 - 1)))
    drawn = draws.sample(n, rng)
    rest = [c.name for c in spec.columns[settings.columns:]]
    frame = drawn.copy()
    for name in rest:
        frame[name] = train[name].to_numpy()[rng.integers(0, len(train), size=n)]
    return frame[spec.column_names]
