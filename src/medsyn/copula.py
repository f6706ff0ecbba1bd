"""A Gaussian copula fitted on train (own numpy/scipy code; the `copulas` package is BSL-licensed): the
``copula`` baseline, and the joint draws of a recipe's outside columns (``medsyn.recipes.outside``).

Each column gets a latent normal score from its PRESENT values: numeric values their mid-rank, categorical values
a uniform draw inside their level's slice of the cumulative shares. A column with missing values gets a second
latent score for "is missing", so the copula also learns which values go missing together (cirrhosis' 106
non-trial patients lack the same five labs). The correlation matrix is estimated pairwise on complete pairs and
made positive semi-definite; samples go back through each column's inverse marginal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from medsyn.spec import Column, DatasetSpec


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
