"""Diversity and collapse (evaluation-reference.md section 2.9): does the synthetic table repeat itself?

Keys: unique_row_share, duplicate_rate, entropy_ratio.<column>, entropy_ratio (mean over columns),
entropy_ratio_min, entropy_ratio_n (columns in the mean); a None value has a ``<key>.error`` string beside it.

entropy_ratio = Shannon entropy of the synthetic column over bins fixed from TRAIN (train deciles plus a bin below
the train min and one above the train max for numeric columns; train levels plus one 'other' bin for categorical
ones; missing is one more bin in both) divided by the train column's entropy over the same bins. A constant
synthetic column scores 0; values above 1 mean the synthetic column is spread more evenly than the real one.
Read every number against the holdout reference: the Kaggle diabetes table itself repeats 3,854 rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.encoding import row_keys, to_sdmetrics_frame
from medsyn.evaluate.fidelity import categorical_bin_codes, numeric_bin_codes, numeric_bin_edges, train_levels


def _entropy(codes: np.ndarray, n_bins: int) -> float:
    counts = np.bincount(codes, minlength=n_bins)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _binned_with_missing(values: pd.Series, numeric: bool, train: pd.Series) -> tuple[np.ndarray, int]:
    """Codes over the train bins, with missing as the last bin."""
    missing = values.isna().to_numpy()
    if numeric:
        codes, n_bins = numeric_bin_codes(values.to_numpy(float), numeric_bin_edges(train.to_numpy(float)))
    else:
        codes, n_bins = categorical_bin_codes(values, train_levels(train))
    full = np.full(len(values), n_bins, dtype=np.int64)
    full[~missing] = codes
    return full, n_bins + 1


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    out: dict[str, object] = {}

    def put(key, value, error=None):
        out[key] = value
        if value is None:
            out[f"{key}.error"] = error or "not computable"

    n = len(inputs.synthetic)
    if n == 0:
        put("unique_row_share", None, "synthetic table has no rows")
        put("duplicate_rate", None, "synthetic table has no rows")
    else:
        unique = int(row_keys(inputs.synthetic, spec).nunique())
        put("unique_row_share", unique / n)
        put("duplicate_rate", 1.0 - unique / n)

    train_sd = to_sdmetrics_frame(inputs.train, spec)
    syn_sd = to_sdmetrics_frame(inputs.synthetic, spec)
    ratios = []
    for col in spec.columns:
        key = f"entropy_ratio.{col.name}"
        if n == 0:
            put(key, None, "synthetic table has no rows")
            continue
        train = train_sd[col.name]
        if train.notna().sum() == 0:
            put(key, None, "no non-missing values in train")
            continue
        rc, n_bins = _binned_with_missing(train, col.is_numeric, train)
        h_real = _entropy(rc, n_bins)
        if h_real <= 0:
            put(key, None, "train column has zero entropy (constant)")
            continue
        sc, _ = _binned_with_missing(syn_sd[col.name], col.is_numeric, train)
        ratio = _entropy(sc, n_bins) / h_real
        ratios.append(ratio)
        put(key, ratio)
    put("entropy_ratio_n", len(ratios))
    why = "synthetic table has no rows" if n == 0 else "not computable for any column"
    put("entropy_ratio", float(np.mean(ratios)) if ratios else None, why)
    put("entropy_ratio_min", float(np.min(ratios)) if ratios else None, why)
    return out
