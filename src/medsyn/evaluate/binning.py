"""Bins fixed from a REAL column and applied unchanged to any sample (fidelity's JS distance, diversity's entropy).

Numeric columns: the real deciles (distinct edges only: heaped values collapse duplicates), plus one bin below the
real minimum and one above the real maximum. Categorical columns: the real levels plus one 'other' bin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_QUANTILE_BINS = 10


def numeric_bin_edges(real_values: np.ndarray, n_bins: int = N_QUANTILE_BINS) -> np.ndarray:
    """Unique real quantile edges (heaped values collapse duplicate edges)."""
    values = real_values[~np.isnan(real_values)]
    if len(values) == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))


def numeric_bin_codes(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """Bin codes of non-missing ``values`` on fixed real edges: 0 = below the real min, 1..k = the quantile bins
    (left-closed, the last one closed), k+1 = above the real max. Returns (codes, number of bins)."""
    values = values[~np.isnan(values)]
    k = max(len(edges) - 1, 1)
    inner = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, k - 1) + 1
    codes = np.where(values < edges[0], 0, np.where(values > edges[-1], k + 1, inner))
    return codes.astype(np.int64), k + 2


def categorical_bin_codes(values: pd.Series, levels: list[str]) -> tuple[np.ndarray, int]:
    """Codes of non-missing values over the real ``levels``; anything else goes to one extra 'other' bin."""
    present = values.dropna().astype(str)
    codes = pd.Categorical(present, categories=levels).codes.astype(np.int64)
    codes[codes < 0] = len(levels)
    return codes, len(levels) + 1


def observed_levels(column: pd.Series) -> list[str]:
    """The distinct non-missing values of a real column, as sorted text."""
    return sorted(column.dropna().astype(str).unique().tolist())
