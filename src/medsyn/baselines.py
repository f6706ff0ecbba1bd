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

from medsyn.spec import Column, DatasetSpec

BASELINES = ("holdout", "marginals", "copula", "bootstrap")


def _rng(seed: int, name: str) -> np.random.Generator:
    from medsyn.seeds import derive_seed

    return np.random.default_rng(derive_seed("baseline", name, seed))


def holdout_baseline(reference: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    n = min(n, len(reference))
    return reference.iloc[np.sort(rng.choice(len(reference), size=n, replace=False))]


def marginals_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    out = {c: train[c].to_numpy()[rng.integers(0, len(train), size=n)] for c in train.columns}
    return pd.DataFrame(out, columns=train.columns).astype(train.dtypes.to_dict())


def bootstrap_baseline(train: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return train.iloc[rng.integers(0, len(train), size=n)]


# --- Gaussian copula --------------------------------------------------------------------------------------
# Each column maps to a uniform score u in (0, 1): missing values take the bottom of the unit interval (so the
# copula also learns which values go missing together, e.g. cirrhosis' non-trial patients), present numeric
# values their mid-rank, categorical values a uniform draw inside their level's slice of the cumulative shares.
# Normal scores of u give a correlation matrix; samples go back through each column's inverse.


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

    def to_uniform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        missing = values.isna().to_numpy()
        u = np.empty(len(values))
        u[missing] = rng.uniform(0, self.p_missing, size=missing.sum()) if self.p_missing else 0.5
        present = values[~missing]
        if self.col.is_numeric:
            ranks = stats.rankdata(present.astype(float).to_numpy()) / (len(present) + 1)
        else:
            idx = np.array([self.levels.index(v) for v in present.astype(str)])
            lower = np.concatenate([[0.0], self.cum[:-1]])[idx]
            ranks = lower + rng.uniform(0, 1, size=len(idx)) * (self.cum[idx] - lower)
        u[~missing] = self.p_missing + (1 - self.p_missing) * ranks
        return np.clip(u, 1e-6, 1 - 1e-6)

    def from_uniform(self, u: np.ndarray) -> pd.Series:
        missing = u < self.p_missing
        q = (u[~missing] - self.p_missing) / (1 - self.p_missing)
        if self.col.is_numeric:
            vals = np.quantile(self.sorted, q, method="linear")
            vals = np.round(vals, self.col.decimals if self.col.type == "float" else 0)
            out = pd.Series(np.nan, index=range(len(u)), dtype="float64")
        else:
            vals = np.array(self.levels, dtype=object)[np.searchsorted(self.cum, q, side="right").clip(0, len(self.levels) - 1)]
            out = pd.Series(None, index=range(len(u)), dtype=object)
        out[~missing] = vals
        return out


def copula_baseline(train: pd.DataFrame, spec: DatasetSpec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    marginals = [_ColumnMarginal(col, train[col.name]) for col in spec.columns]
    z = np.column_stack([stats.norm.ppf(m.to_uniform(train[m.col.name], rng)) for m in marginals])
    corr = np.corrcoef(z, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    # nearest positive semi-definite matrix (eigenvalue clipping) so sampling never fails
    eigval, eigvec = np.linalg.eigh(corr)
    corr = (eigvec * np.clip(eigval, 1e-8, None)) @ eigvec.T
    samples = rng.multivariate_normal(np.zeros(len(marginals)), corr, size=n, method="eigh")
    u = stats.norm.cdf(samples)
    out = pd.DataFrame({m.col.name: m.from_uniform(u[:, i]) for i, m in enumerate(marginals)})
    for col in spec.columns:
        if col.type == "integer":
            out[col.name] = out[col.name].round().astype("Int64")
    return out


def make_baseline(
    name: str, spec: DatasetSpec, train: pd.DataFrame, reference: pd.DataFrame, n: int, seed: int
) -> pd.DataFrame:
    rng = _rng(seed, name)
    if name == "holdout":
        frame = holdout_baseline(reference, n, rng)
    elif name == "marginals":
        frame = marginals_baseline(train[spec.column_names], n, rng)
    elif name == "bootstrap":
        frame = bootstrap_baseline(train, n, rng)
    elif name == "copula":
        frame = copula_baseline(train, spec, n, rng)
    else:
        raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    return frame[spec.column_names].reset_index(drop=True)
