"""Classical baselines, generated from the train split and scored exactly like LLM runs.

  holdout    unseen real rows (drawn from the reference split): the best fidelity reachable at this size and
             the privacy level of truly new patients. Every other score is read against it.
  marginals  each column resampled independently from train: perfect marginals, no dependence at all.
  copula     a Gaussian copula fitted on train (own numpy/scipy code; the `copulas` package is BSL-licensed).
  bootstrap  train rows resampled with replacement: the privacy worst case (every row is a real patient).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from medsyn.settings import GenerationSettings
from medsyn.spec import Column, DatasetSpec

BASELINES = ("holdout", "marginals", "copula", "bootstrap")


def _rng(seed: int, name: str) -> np.random.Generator:
    from medsyn.seeds import derive_seed

    return np.random.default_rng(derive_seed("baseline", name, seed))


def holdout_baseline(reference: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return reference.iloc[np.sort(rng.choice(len(reference), size=n, replace=False))]


def marginals_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    out = {c: train[c].to_numpy()[rng.integers(0, len(train), size=n)] for c in train.columns}
    return pd.DataFrame(out, columns=train.columns).astype(train.dtypes.to_dict())


def bootstrap_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return train.iloc[rng.integers(0, len(train), size=n)]


# --- Gaussian copula --------------------------------------------------------------------------------------
# Each column gets a latent normal score from its PRESENT values: numeric values their mid-rank, categorical values
# a uniform draw inside their level's slice of the cumulative shares. A column with missing values gets a second
# latent score for "is missing", so the copula also learns which values go missing together (cirrhosis' 106
# non-trial patients lack the same five labs). The correlation matrix is estimated pairwise on complete pairs and
# made positive semi-definite; samples go back through each column's inverse marginal.


class _ColumnMarginal:
    def __init__(self, col: Column, values: pd.Series):
        self.col = col
        present = values.dropna()
        self.p_missing = 1.0 - len(present) / len(values)
        if col.is_numeric:
            self.sorted = np.sort(present.astype(float).to_numpy())
        else:
            shares = present.astype(str).value_counts(normalize=True)
            self.levels = [lvl for lvl in col.levels if lvl in shares.index]
            self.cum = np.cumsum([shares[lvl] for lvl in self.levels])

    def value_scores(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Normal scores of present values; NaN where missing."""
        missing = values.isna().to_numpy()
        u = np.full(len(values), np.nan)
        present = values[~missing]
        if self.col.is_numeric:
            u[~missing] = stats.rankdata(present.astype(float).to_numpy()) / (len(present) + 1)
        else:
            index = {lvl: i for i, lvl in enumerate(self.levels)}
            idx = present.astype(str).map(index).to_numpy(dtype=int)
            lower = np.concatenate([[0.0], self.cum[:-1]])[idx]
            u[~missing] = lower + rng.uniform(0, 1, size=len(idx)) * (self.cum[idx] - lower)
        return stats.norm.ppf(np.clip(u, 1e-6, 1 - 1e-6))

    def missing_scores(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Normal scores of 'is missing': missing rows below the p_missing quantile, present rows above it."""
        missing = values.isna().to_numpy()
        u = np.where(missing, rng.uniform(0, self.p_missing, len(values)), rng.uniform(self.p_missing, 1, len(values)))
        return stats.norm.ppf(np.clip(u, 1e-6, 1 - 1e-6))

    def from_scores(self, z_value: np.ndarray, z_missing: np.ndarray | None) -> pd.Series:
        q = stats.norm.cdf(z_value)
        missing = np.zeros(len(q), dtype=bool) if z_missing is None else stats.norm.cdf(z_missing) < self.p_missing
        if self.col.is_numeric:
            vals = np.quantile(self.sorted, q, method="linear")
            vals = np.round(vals, self.col.decimals if self.col.type == "float" else 0)
            out = pd.Series(vals, dtype="float64")
            out[missing] = np.nan
        else:
            pos = np.searchsorted(self.cum, q, side="right").clip(0, len(self.levels) - 1)
            out = pd.Series(np.array(self.levels, dtype=object)[pos], dtype=object)
            out[missing] = None
        return out


class GaussianCopula:
    """A Gaussian copula fitted on train (``fit``), sampled any number of times (``sample``)."""

    def __init__(self, train: pd.DataFrame, spec: DatasetSpec, rng: np.random.Generator):
        self.spec = spec
        self.marginals = [_ColumnMarginal(col, train[col.name]) for col in spec.columns]
        latent = {}
        for m in self.marginals:
            latent[("value", m.col.name)] = m.value_scores(train[m.col.name], rng)
            if m.p_missing > 0:
                latent[("missing", m.col.name)] = m.missing_scores(train[m.col.name], rng)
        self.keys = list(latent)
        corr = pd.DataFrame({i: latent[k] for i, k in enumerate(self.keys)}).corr(min_periods=3).to_numpy()
        corr = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(corr, 1.0)
        # nearest positive semi-definite matrix (eigenvalue clipping): pairwise estimates need not be PSD
        eigval, eigvec = np.linalg.eigh(corr)
        corr = (eigvec * np.clip(eigval, 1e-6, None)) @ eigvec.T
        d = np.sqrt(np.diag(corr))
        self.corr = corr / np.outer(d, d)

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        samples = rng.multivariate_normal(np.zeros(len(self.keys)), self.corr, size=n, method="eigh")
        column = {k: samples[:, i] for i, k in enumerate(self.keys)}
        out = pd.DataFrame(
            {m.col.name: m.from_scores(column[("value", m.col.name)], column.get(("missing", m.col.name)))
             for m in self.marginals}
        )
        for col in self.spec.columns:
            if col.type == "integer":
                out[col.name] = out[col.name].round().astype("Int64")
        return out


def copula_baseline(train: pd.DataFrame, spec: DatasetSpec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return GaussianCopula(train, spec, rng).sample(n, rng)


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
    elif name.startswith("drawn-") and recipe:
        from medsyn.recipes.outside import without_model

        frame = without_model(recipe.outside, spec.in_order(order), train, n, rng)
    elif name.startswith("steered-") and recipe:
        from medsyn.recipes.steering import pull_without_model

        frame = pull_without_model(recipe.steering, spec.in_order(order), train, n, rng)
    else:
        raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    return frame[spec.column_names].reset_index(drop=True)
