"""Classical baselines, generated from the train split and scored exactly like LLM runs.

  holdout    unseen real rows (drawn from the reference split): the best fidelity reachable at this size and
             the privacy level of truly new patients. Every other score is read against it.
  marginals  each column resampled independently from train: perfect marginals, no dependence at all.
  copula     a Gaussian copula fitted on train (``medsyn.copula``).
  cart       sequential CART as R's synthpop makes it (``medsyn.cart``): the strongest classical generator in
             bench/classical_trial.py; its rows are train values recombined, so check its copies.
  bootstrap  train rows resampled with replacement: the privacy worst case (every row is a real patient).

A recipe's own baselines, the recipe without the model, are made by the recipe's code: ``drawn-<recipe>``
(``medsyn.recipes.outside.without_model``) and ``steered-<recipe>`` (``medsyn.recipes.steering.pull_without_model``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.cart import SequentialCart
from medsyn.copula import GaussianCopula
from medsyn.recipes.outside import without_model
from medsyn.recipes.steering import pull_without_model
from medsyn.seeds import derive_seed
from medsyn.settings import GenerationSettings
from medsyn.spec import DatasetSpec

BASELINES = ("holdout", "marginals", "copula", "cart", "bootstrap")


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(derive_seed("baseline", name, seed))


def holdout_baseline(reference: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return reference.iloc[np.sort(rng.choice(len(reference), size=n, replace=False))]


def marginals_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    out = {c: train[c].to_numpy()[rng.integers(0, len(train), size=n)] for c in train.columns}
    return pd.DataFrame(out, columns=train.columns).astype(train.dtypes.to_dict())


def bootstrap_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return train.iloc[rng.integers(0, len(train), size=n)]


def copula_baseline(train: pd.DataFrame, spec: DatasetSpec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return GaussianCopula(train, spec, rng).sample(n, rng)


def cart_baseline(train: pd.DataFrame, spec: DatasetSpec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return SequentialCart(train, spec, rng).sample(n, rng)


def make_baseline(
    name: str, spec: DatasetSpec, train: pd.DataFrame, reference: pd.DataFrame, n: int, seed: int,
    recipe: GenerationSettings | None = None, order: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """``recipe`` (for ``drawn-<recipe>`` and ``steered-<recipe>``): the recipe's settings, the very object its
    generation runs with, and ``order`` its generation column order (``target`` resolved). The drawn baseline
    keeps the recipe's outside draws and resamples the other columns; the steered one applies its steering to
    train's marginals instead of the model."""
    rng = _rng(seed, name)
    if name == "holdout":  # unseen real rows: as many as asked for, at most the reference split's
        frame = holdout_baseline(reference, min(n, len(reference)), rng)
    elif name == "marginals":
        frame = marginals_baseline(train[spec.column_names], n, rng)
    elif name == "bootstrap":
        frame = bootstrap_baseline(train, n, rng)
    elif name == "copula":
        frame = copula_baseline(train, spec, n, rng)
    elif name == "cart":
        frame = cart_baseline(train, spec, n, rng)
    elif name.startswith("drawn-") and recipe:
        frame = without_model(recipe.outside, spec.in_order(order), train, n, rng)
    elif name.startswith("steered-") and recipe:
        frame = pull_without_model(recipe.steering, spec.in_order(order), train, n, rng)
    else:
        raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    return frame[spec.column_names].reset_index(drop=True)
