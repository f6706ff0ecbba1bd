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
from medsyn.evaluate.binning import categorical_bin_codes, numeric_bin_codes, numeric_bin_edges, observed_levels
from medsyn.evaluate.encoding import row_ids, to_sdmetrics_frame
from medsyn.evaluate.results import Metrics
from medsyn.spec import DatasetSpec

NO_ROWS = "synthetic table has no rows"


def _entropy(codes: np.ndarray, n_bins: int) -> float:
    counts = np.bincount(codes, minlength=n_bins)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _binned_with_missing(values: pd.Series, bins: dict) -> tuple[np.ndarray, int]:
    """Codes over the train bins (``bins``: numeric ``edges`` or categorical ``levels``), missing = the last bin."""
    missing = values.isna().to_numpy()
    if "edges" in bins:
        codes, n_bins = numeric_bin_codes(values.to_numpy(float), np.asarray(bins["edges"], dtype=float))
    else:
        codes, n_bins = categorical_bin_codes(values, bins["levels"])
    full = np.full(len(values), n_bins, dtype=np.int64)
    full[~missing] = codes
    return full, n_bins + 1


def real_part(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame,
              seed: int) -> dict:
    """Per column: the train bins and the train entropy over them (or why there is none)."""
    train_sd = to_sdmetrics_frame(train, spec)
    columns = {}
    for col in spec.columns:
        values = train_sd[col.name]
        if values.notna().sum() == 0:
            columns[col.name] = {"error": "no non-missing values in train"}
            continue
        bins = ({"edges": numeric_bin_edges(values.to_numpy(float)).tolist()} if col.is_numeric
                else {"levels": observed_levels(values)})
        codes, n_bins = _binned_with_missing(values, bins)
        h_real = _entropy(codes, n_bins)
        if h_real <= 0:
            columns[col.name] = {"error": "train column has zero entropy (constant)"}
            continue
        columns[col.name] = {**bins, "entropy": h_real}
    return {"columns": columns}


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    out = Metrics()
    n = len(inputs.synthetic)
    if n == 0:
        out.fail(["unique_row_share", "duplicate_rate"], NO_ROWS)
    else:
        unique = len(np.unique(row_ids([inputs.synthetic], spec)[0]))
        out.put("unique_row_share", unique / n)
        out.put("duplicate_rate", 1.0 - unique / n)

    real = inputs.real_part("diversity")["columns"]
    syn_sd = to_sdmetrics_frame(inputs.synthetic, spec)
    ratios = []
    for col in spec.columns:
        key = f"entropy_ratio.{col.name}"
        if n == 0:
            out.put(key, None, NO_ROWS)
            continue
        bins = real[col.name]
        if "error" in bins:
            out.put(key, None, bins["error"])
            continue
        codes, n_bins = _binned_with_missing(syn_sd[col.name], bins)
        ratio = _entropy(codes, n_bins) / bins["entropy"]
        ratios.append(ratio)
        out.put(key, ratio)
    out.put("entropy_ratio_n", len(ratios))
    why = NO_ROWS if n == 0 else "not computable for any column"
    out.put("entropy_ratio", float(np.mean(ratios)) if ratios else None, why)
    out.put("entropy_ratio_min", float(np.min(ratios)) if ratios else None, why)
    return out
