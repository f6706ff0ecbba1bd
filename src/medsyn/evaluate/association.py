"""The mixed association matrix of a table: one number in [0, 1] (Spearman's rho in [-1, 1] for numeric pairs) per
column pair, for every pair type (evaluation-reference.md section 2.3, "mixed association matrix").

Spearman for numeric-numeric, correlation ratio eta for numeric-categorical, bias-corrected Cramer's V for
categorical-categorical, each on the rows where both values are present. Fidelity compares the real and the
synthetic matrix; the report draws their difference.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from medsyn.evaluate.encoding import to_sdmetrics_frame
from medsyn.spec import DatasetSpec


def _encode_for_association(frame: pd.DataFrame, spec: DatasetSpec) -> dict[str, tuple[str, np.ndarray]]:
    enc = {}
    sd = to_sdmetrics_frame(frame, spec)
    for col in spec.columns:
        if col.is_numeric:
            enc[col.name] = ("num", sd[col.name].to_numpy(float))
        else:
            codes, _ = pd.factorize(sd[col.name].astype(object).where(sd[col.name].notna(), None), sort=True)
            enc[col.name] = ("cat", codes.astype(np.int64))  # -1 = missing
    return enc


def _spearman(x: np.ndarray, y: np.ndarray, rx_full: np.ndarray | None, ry_full: np.ndarray | None) -> float:
    """Spearman's rho on pairwise-complete rows; ``r*_full`` = centred ranks of a column without missing values."""
    if rx_full is not None and ry_full is not None:
        rx, ry = rx_full, ry_full
    else:
        m = ~np.isnan(x) & ~np.isnan(y)
        if m.sum() < 2:
            return float("nan")
        rx, ry = rankdata(x[m]), rankdata(y[m])
        rx -= rx.mean()
        ry -= ry.mean()
    if len(rx) < 2:
        return float("nan")
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / den if den > 0 else 0.0  # a constant column carries no association


def _eta(x: np.ndarray, codes: np.ndarray) -> float:
    m = ~np.isnan(x) & (codes >= 0)
    if m.sum() < 2:
        return float("nan")
    xv, cv = x[m], codes[m]
    counts = np.bincount(cv)
    sums = np.bincount(cv, weights=xv)
    nz = counts > 0
    mean = xv.mean()
    ss_total = float(((xv - mean) ** 2).sum())
    if ss_total <= 0:
        return 0.0
    ss_between = float((counts[nz] * (sums[nz] / counts[nz] - mean) ** 2).sum())
    return math.sqrt(min(max(ss_between / ss_total, 0.0), 1.0))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramer's V (Bergsma 2013) on the rows where both are present."""
    m = (a >= 0) & (b >= 0)
    n = int(m.sum())
    if n < 2:
        return float("nan")
    av, bv = a[m], b[m]
    kb = int(bv.max()) + 1
    table = np.bincount(av * kb + bv, minlength=(int(av.max()) + 1) * kb).reshape(-1, kb).astype(float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, k = table.shape
    if r < 2 or k < 2:
        return 0.0
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    chi2 = n * (float((table**2 / np.outer(rows, cols)).sum()) - 1.0)
    phi2 = max(chi2 / n - (k - 1) * (r - 1) / (n - 1), 0.0) if n > 1 else 0.0
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return math.sqrt(min(phi2 / denom, 1.0)) if denom > 0 else 0.0


def association_matrix(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Symmetric mixed association matrix in [0, 1] (Spearman's rho in [-1, 1] for numeric pairs): Spearman for
    numeric-numeric, correlation ratio eta for numeric-categorical, bias-corrected Cramer's V for
    categorical-categorical; pairwise-complete rows. A column constant on those rows has association 0 (it carries
    no dependence); NaN only when fewer than 2 rows have both values."""
    names = spec.column_names
    if len(frame) == 0:
        return pd.DataFrame(np.nan, index=names, columns=names)
    enc = _encode_for_association(frame, spec)
    ranks = {}
    for name, (kind, x) in enc.items():
        if kind == "num" and not np.isnan(x).any():
            r = rankdata(x)
            ranks[name] = r - r.mean()
    values = np.eye(len(names))
    pos = {n: i for i, n in enumerate(names)}
    for a, b in itertools.combinations(names, 2):
        (ka, xa), (kb, xb) = enc[a], enc[b]
        if ka == "num" and kb == "num":
            v = _spearman(xa, xb, ranks.get(a), ranks.get(b))
        elif ka == "num":
            v = _eta(xa, xb)
        elif kb == "num":
            v = _eta(xb, xa)
        else:
            v = _cramers_v(xa, xb)
        values[pos[a], pos[b]] = values[pos[b], pos[a]] = v
    return pd.DataFrame(values, index=names, columns=names)
