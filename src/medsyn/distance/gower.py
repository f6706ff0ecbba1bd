"""Mixed-type row distance (Gower-style L1): rows encoded so that the L1 distance of two encodings is theirs.

Definition. ``encode(frame, spec, train)`` maps every row to a float32 vector such that the L1 (manhattan)
distance between two encoded rows is

    d(a, b) = (1 / p) * sum over the p spec columns of d_c(a_c, b_c),        d in [0, 1]

with the per-column distance ``d_c``:

* numeric (integer, float): with ``lo, hi`` = the TRAIN minimum and maximum of the column (the spec's min/max
  when train has no value there) and ``x = clip((v - lo) / (hi - lo), 0, 1)`` (x = 0 when hi == lo):
  both present -> ``|x_a - x_b|``; both missing -> 0; one missing -> exactly 1.
  Encoding for a column that allows missing values: present -> ``(x/2, (1-x)/2)``, missing -> ``(-1/4, -1/4)``
  (the two coordinates sum to |x_a - x_b| between present values and to 1/2 + 1/2 = 1 against missing).
  A column that does not allow missing values gets the single coordinate ``x``; a missing value found there
  anyway (not possible in a frame coerced to the spec) is placed at x = 0.5 (costs at most 0.5).
  Values outside the train range are clipped first, so two values beyond the train maximum are at distance 0.
* categorical / binary: equal level -> 0, different level -> 1, missing vs level -> 1, missing vs missing -> 0.
  Encoding: one-hot over the spec levels scaled by 1/2 (a mismatch moves 1/2 out of one slot and 1/2 into
  another), plus a "missing" slot when the column allows missing values. A binary column that does not allow
  missing values is the single coordinate 0/1. A value outside the spec levels (not possible in a coerced frame)
  is all zeros: 1/2 from any level, 0 from another unknown value.

Coordinates: all numeric columns first (spec order), then all categorical/binary ones (``categorical_slice``).

This is the SDMetrics DCR distance (numeric |diff| / range capped at 1, categorical 0/1, null vs value = 1) with one
fixed scaling, the train range, for every comparison: SDMetrics rescales by the range of each call's reference
table, so its train and holdout distances are on different scales.

The nearest-row search over encoded rows is ``medsyn.distance.search``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.spec import DatasetSpec

_MISSING_PAIR = -0.25  # both coordinates of a missing numeric value (see module docstring)


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _train_range(col, train: pd.DataFrame) -> tuple[float, float]:
    if col.name in train.columns and len(train):
        vals = _numeric(train[col.name])
        vals = vals[np.isfinite(vals)]
        if len(vals):
            return float(vals.min()), float(vals.max())
    return float(col.min), float(col.max)


def _numeric_width(col) -> int:
    return 2 if col.allow_missing else 1


def _categorical_width(col) -> int:
    if col.type == "binary" and not col.allow_missing:
        return 1
    return len(col.levels) + (1 if col.allow_missing else 0)


def encoded_width(spec: DatasetSpec) -> int:
    """Number of coordinates ``encode`` produces for ``spec``."""
    return sum(_numeric_width(c) if c.is_numeric else _categorical_width(c) for c in spec.columns)


def categorical_slice(spec: DatasetSpec) -> slice:
    """The coordinates of the categorical/binary columns (``encode`` puts all numeric coordinates first)."""
    start = sum(_numeric_width(c) for c in spec.columns if c.is_numeric)
    return slice(start, encoded_width(spec))


def encode(frame: pd.DataFrame, spec: DatasetSpec, train: pd.DataFrame) -> np.ndarray:
    """float32 matrix (rows of ``frame`` x ``encoded_width(spec)``): numeric coordinates first, then categorical.

    The L1 distance between two rows is the Gower-style mean over the spec columns defined in the module docstring.
    """
    n = len(frame)
    p = max(len(spec.columns), 1)
    out = np.zeros((n, encoded_width(spec)), dtype=np.float64)
    j = 0
    for col in [c for c in spec.columns if c.is_numeric]:
        lo, hi = _train_range(col, train)
        vals = _numeric(frame[col.name]) if n else np.zeros(0)
        missing = ~np.isfinite(vals)
        with np.errstate(invalid="ignore"):
            x = np.clip((vals - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros(n)
        if col.allow_missing:
            out[:, j] = np.where(missing, _MISSING_PAIR, x / 2)
            out[:, j + 1] = np.where(missing, _MISSING_PAIR, (1 - x) / 2)
        else:
            out[:, j] = np.where(missing, 0.5, x)
        j += _numeric_width(col)
    for col in [c for c in spec.columns if not c.is_numeric]:
        series = frame[col.name] if n else pd.Series([], dtype=object)
        missing = series.isna().to_numpy(dtype=bool)
        codes = pd.Categorical(series.astype(object).where(~missing, None), categories=list(col.levels)).codes
        if col.type == "binary" and not col.allow_missing:
            # level 0 -> 0, level 1 -> 1; anything else (never in a coerced frame) -> 0.5
            out[:, j] = np.where(codes < 0, 0.5, codes.astype(np.float64))
        else:
            rows = np.nonzero(codes >= 0)[0]
            out[rows, j + codes[rows]] = 0.5
            if col.allow_missing:
                out[missing, j + len(col.levels)] = 0.5
        j += _categorical_width(col)
    return (out / p).astype(np.float32)


class RowEncoder:
    """``encode`` for one row at a time, given as its canonical value texts (NA for missing): the same float32
    vector, bit for bit, without building a DataFrame (the decoder's novelty judge encodes every completed row;
    through pandas that cost ~10 ms a row). ``train`` fixes the numeric ranges, as in ``encode``."""

    def __init__(self, spec: DatasetSpec, train: pd.DataFrame, missing_text: str = "NA"):
        self.p = max(len(spec.columns), 1)
        self.width = encoded_width(spec)
        self.missing_text = missing_text
        index = {c.name: i for i, c in enumerate(spec.columns)}
        self._numeric = []  # (position in the row, first coordinate, lo, hi, allow_missing)
        j = 0
        for col in [c for c in spec.columns if c.is_numeric]:
            lo, hi = _train_range(col, train)
            self._numeric.append((index[col.name], j, lo, hi, col.allow_missing))
            j += _numeric_width(col)
        self._categorical = []  # (position, first coordinate, level -> code, binary single coordinate, missing slot)
        for col in [c for c in spec.columns if not c.is_numeric]:
            single = col.type == "binary" and not col.allow_missing
            slot = j + len(col.levels) if col.allow_missing else None
            self._categorical.append((index[col.name], j, {str(v): k for k, v in enumerate(col.levels)}, single, slot))
            j += _categorical_width(col)

    def encode(self, values: list[str]) -> np.ndarray:
        out = np.zeros(self.width, dtype=np.float64)
        missing_text = self.missing_text
        for i, j, lo, hi, allow_missing in self._numeric:
            text = values[i]
            v = float("nan") if text == missing_text else float(text)
            if v != v:
                if allow_missing:
                    out[j] = out[j + 1] = _MISSING_PAIR
                else:
                    out[j] = 0.5
                continue
            x = min(max((v - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 0.0
            if allow_missing:
                out[j], out[j + 1] = x / 2, (1 - x) / 2
            else:
                out[j] = x
        for i, j, codes, single, slot in self._categorical:
            text = values[i]
            code = -1 if text == missing_text else codes.get(text, -1)
            if single:
                out[j] = 0.5 if code < 0 else float(code)
            elif code >= 0:
                out[j + code] = 0.5
            elif text == missing_text and slot is not None:
                out[slot] = 0.5
        return (out / self.p).astype(np.float32)
