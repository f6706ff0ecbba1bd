"""Shared encodings of typed tables for metric code (kept here so every family reads data the same way)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.distance import unique_rows
from medsyn.spec import MISSING_TEXT, DatasetSpec


def numeric_columns(spec: DatasetSpec) -> list[str]:
    return [c.name for c in spec.columns if c.is_numeric]


def categorical_columns(spec: DatasetSpec) -> list[str]:
    """Categorical and binary columns (values are strings; missing is NaN)."""
    return [c.name for c in spec.columns if not c.is_numeric]


def row_keys(frame: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """One canonical string per row (spec formatting, NA for missing): equal keys = identical rows."""
    parts = []
    for col in spec.columns:
        parts.append(frame[col.name].map(lambda v, c=col: c.format_value(v) if not pd.isna(v) else MISSING_TEXT))
    if not parts:
        return pd.Series([], dtype=str)
    keys = parts[0].astype(str)
    for p in parts[1:]:
        keys = keys + "," + p.astype(str)
    return keys


def sdmetrics_metadata(spec: DatasetSpec) -> dict:
    """Single-table SDMetrics metadata: numeric columns 'numerical', everything else 'categorical'."""
    return {
        "columns": {
            c.name: {"sdtype": "numerical" if c.is_numeric else "categorical"} for c in spec.columns
        }
    }


def to_sdmetrics_frame(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Numeric as float64 (NaN missing), categorical as object strings (NaN missing)."""
    out = pd.DataFrame(index=frame.index)
    for c in spec.columns:
        if c.is_numeric:
            out[c.name] = pd.to_numeric(frame[c.name], errors="coerce").astype("float64")
        else:
            out[c.name] = frame[c.name].astype(object).where(frame[c.name].notna(), np.nan)
    return out


def row_ids(frames: list[pd.DataFrame], spec) -> list[np.ndarray]:
    """One integer id per row of each frame; equal ids <=> equal ``row_keys`` (same canonical text in every column).

    The same equality as ``encoding.row_keys``, but each column's distinct values are formatted once
    (``Column.format_value``, missing = "NA") instead of once per row, so it stays fast on 100k-row tables.
    """
    sizes = [len(f) for f in frames]
    codes = []
    for col in spec.columns:
        values = pd.concat([f[col.name].astype(object) for f in frames], ignore_index=True)
        raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
        text = np.array([col.format_value(v) for v in uniques] + [MISSING_TEXT], dtype=object)
        text_codes, _ = pd.factorize(text)
        codes.append(text_codes[raw_codes])  # raw code -1 (missing) picks the appended "NA"
    if not codes:
        return [np.zeros(n, dtype=np.int64) for n in sizes]
    _, ids = unique_rows(np.stack(codes, axis=1))
    return np.split(ids, np.cumsum(sizes)[:-1])
