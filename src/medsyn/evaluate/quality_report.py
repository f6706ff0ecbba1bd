"""sdmetrics' QualityReport score (Column Shapes + Column Pair Trends), with the real side of its pair trends
computed once per dataset.

The QualityReport (sdmetrics 0.32.0) scores Column Shapes as the mean of KSComplement (numerical columns) and
TVComplement (categorical), and Column Pair Trends as the mean over the column pairs whose REAL data show an
association: |Pearson r| > 0.5 for numerical pairs (CorrelationSimilarity), Cramer's V > 0.3 for every other pair
(ContingencySimilarity; numerical columns cut into the 10 ``np.histogram_bin_edges`` bins of their own table).
The overall score is the mean of the two. Which pairs count, and the real side of every pair (correlation,
joint frequencies), depend on the real table alone: ``real_part`` computes them with sdmetrics' own code,
``scores`` combines them with the synthetic table. tests/test_eval_fidelity.py checks the three scores against
``QualityReport().generate`` on real tables. Above 50,000 rows in either table sdmetrics subsamples the pair
tables with NumPy's global generator; there ``scores`` runs the report itself, seeded.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from scipy.stats.contingency import association
from sdmetrics.reports import QualityReport
from sdmetrics.reports.utils import (DEFAULT_NUM_ROWS_SUBSAMPLE, DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                                     DEFAULT_REAL_CORRELATION_THRESHOLD)
from sdmetrics.single_column import KSComplement, TVComplement

from medsyn.evaluate.encoding import sdmetrics_metadata
from medsyn.spec import DatasetSpec

QUALITY_REPORT_MAX_ROWS = 100_000  # per side; 100k vs 100k diabetes took ~1.5-2 s on 2 cores, so rarely binding
BIN_WIDTH = 64  # code space of a discretised column (np.digitize of 10 bins gives 0..11)


def _thresholds() -> tuple[float, float, int]:
    return DEFAULT_REAL_CORRELATION_THRESHOLD, DEFAULT_REAL_ASSOCIATION_THRESHOLD, DEFAULT_NUM_ROWS_SUBSAMPLE


def _discretise(values: pd.Series) -> np.ndarray | None:
    """sdmetrics' discretisation of a numerical column on its own table's bins (None when it fails)."""
    try:
        return np.digitize(values, bins=np.histogram_bin_edges(values.dropna()))
    except Exception:  # noqa: BLE001 - sdmetrics records the failure and leaves the column's pairs out
        return None


def _codes(values, vocabulary: list[str] | None) -> np.ndarray:
    """One integer per value: bin numbers as they are; categories by the real vocabulary (missing, then unseen)."""
    if vocabulary is None:
        return np.asarray(values, dtype=np.int64)
    s = pd.Series(values, dtype=object)
    codes = pd.Categorical(s.where(s.notna(), None), categories=vocabulary).codes.astype(np.int64)
    codes[codes < 0] = len(vocabulary) + 1
    codes[s.isna().to_numpy()] = len(vocabulary)
    return codes


def _joint(a: np.ndarray, b: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    keys, counts = np.unique(a * width + b, return_counts=True)
    return keys, counts / len(a)


def real_part(real_sd: pd.DataFrame, spec: DatasetSpec) -> dict:
    """Per column pair, what the pair trends take from the real table (``None``: the pair does not count)."""
    corr_threshold, assoc_threshold, _ = _thresholds()
    numeric = {c.name for c in spec.columns if c.is_numeric}
    discrete = {c: _discretise(real_sd[c]) for c in numeric}
    vocab = {c.name: sorted(real_sd[c.name].dropna().astype(str).unique().tolist())
             for c in spec.columns if not c.is_numeric}
    pairs = []
    for a, b in itertools.combinations(spec.column_names, 2):
        if a in numeric and b in numeric:
            r = _pearson(real_sd, a, b)
            pairs.append({"kind": "correlation", "real": r} if np.isfinite(r) and abs(r) > corr_threshold else None)
            continue
        if (a in numeric and discrete[a] is None) or (b in numeric and discrete[b] is None):
            pairs.append(None)
            continue
        frame = pd.DataFrame({a: discrete[a] if a in numeric else real_sd[a],
                              b: discrete[b] if b in numeric else real_sd[b]})
        counts = frame.groupby([a, b], dropna=False).size()
        table = counts.unstack(fill_value=0)  # noqa: PD010 - as sdmetrics builds it
        if table.to_numpy().sum() == 0 or min(table.shape) < 2:
            pairs.append(None)
            continue
        if association(table.values, method="cramer") <= assoc_threshold:
            pairs.append(None)
            continue
        va, vb = (None if a in numeric else vocab[a]), (None if b in numeric else vocab[b])
        width = BIN_WIDTH if vb is None else len(vb) + 2
        keys, shares = _joint(_codes(frame[a], va), _codes(frame[b], vb), width)
        pairs.append({"kind": "contingency", "keys": keys.tolist(), "shares": shares.tolist()})
    return {"pairs": pairs, "vocabulary": vocab, "real_rows": int(len(real_sd))}


def _pearson(frame: pd.DataFrame, a: str, b: str) -> float:
    """sdmetrics' Pearson r of a pair on its complete rows; NaN where it raises (a constant column, < 2 rows)."""
    both = frame[[a, b]]
    if (both.nunique() == 1).any():
        return float("nan")
    both = both.dropna()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(pearsonr(both[a], both[b])[0])
    except Exception:  # noqa: BLE001
        return float("nan")


def _pair_score(pair: dict, a: str, b: str, syn_sd: pd.DataFrame, discrete: dict, vocab: dict) -> float:
    """One counted pair's score; NaN (left out of the mean, as sdmetrics does) where the synthetic side fails."""
    if pair["kind"] == "correlation":
        return 1 - abs(pair["real"] - _pearson(syn_sd, a, b)) / 2
    cols = []
    for c in (a, b):
        if c in discrete:
            if discrete[c] is None:
                return float("nan")
            cols.append(_codes(discrete[c], None))
        else:
            cols.append(_codes(syn_sd[c], vocab[c]))
    width = BIN_WIDTH if b in discrete else len(vocab[b]) + 2
    s_keys, s_shares = _joint(cols[0], cols[1], width)
    r_keys, r_shares = np.asarray(pair["keys"], dtype=np.int64), np.asarray(pair["shares"])
    union = np.union1d(r_keys, s_keys)
    r, s = np.zeros(len(union)), np.zeros(len(union))
    r[np.searchsorted(union, r_keys)] = r_shares
    s[np.searchsorted(union, s_keys)] = s_shares
    return float(1 - (np.abs(r - s) / 2).sum())


def _column_shapes(real_sd: pd.DataFrame, syn_sd: pd.DataFrame, spec: DatasetSpec) -> float:
    scores = []
    for col in spec.columns:
        metric = KSComplement if col.is_numeric else TVComplement
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores.append(metric.compute(real_sd[col.name], syn_sd[col.name]))
        except Exception:  # noqa: BLE001 - sdmetrics scores the column NaN and averages the others
            scores.append(np.nan)
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")


def _library_report(real_sd: pd.DataFrame, syn_sd: pd.DataFrame, spec: DatasetSpec, seed: int) -> tuple:
    """(score, column shapes, column pair trends) from ``QualityReport().generate``, its global RNG seeded."""
    table = spec.name or "table"
    state = np.random.get_state()
    np.random.seed(seed)  # ContingencySimilarity subsamples above 50k rows with the global NumPy RNG
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = QualityReport()
            report.generate({table: real_sd.reset_index(drop=True)}, {table: syn_sd.reset_index(drop=True)},
                            {"tables": {table: sdmetrics_metadata(spec)}}, verbose=False)
    finally:
        np.random.set_state(state)
    props = report.get_properties().set_index("Property")["Score"]
    return report.get_score(), props.get("Column Shapes", np.nan), props.get("Column Pair Trends", np.nan)


def scores(part: dict, real_sd: pd.DataFrame, syn_sd: pd.DataFrame, spec: DatasetSpec, seed: int) -> dict:
    """The QualityReport's scores of ``syn_sd`` against ``real_sd`` (``part`` = ``real_part(real_sd)``), rows
    capped at ``QUALITY_REPORT_MAX_ROWS`` per side by a seeded subsample."""
    rng = np.random.default_rng(seed)
    if len(real_sd) > QUALITY_REPORT_MAX_ROWS:
        real_sd = real_sd.iloc[np.sort(rng.choice(len(real_sd), QUALITY_REPORT_MAX_ROWS, replace=False))]
    if len(syn_sd) > QUALITY_REPORT_MAX_ROWS:
        syn_sd = syn_sd.iloc[np.sort(rng.choice(len(syn_sd), QUALITY_REPORT_MAX_ROWS, replace=False))]
    _, _, subsample = _thresholds()
    if max(len(real_sd), len(syn_sd)) > subsample or len(real_sd) != part["real_rows"]:
        score, shapes, trends = _library_report(real_sd, syn_sd, spec, seed)
    else:
        shapes = _column_shapes(real_sd, syn_sd, spec)
        numeric = {c.name for c in spec.columns if c.is_numeric}
        discrete = {c: _discretise(syn_sd[c]) for c in numeric}
        pair_scores = [_pair_score(p, a, b, syn_sd, discrete, part["vocabulary"])
                       for p, (a, b) in zip(part["pairs"], itertools.combinations(spec.column_names, 2)) if p]
        trends = float(np.nanmean(pair_scores)) if np.isfinite(pair_scores).any() else float("nan")
        score = float(np.nanmean([shapes, trends])) if np.isfinite([shapes, trends]).any() else float("nan")
    return {
        "quality_report_score": score,
        "quality_report_column_shapes": shapes,
        "quality_report_column_pair_trends": trends,
        "quality_report_rows": len(syn_sd),
        "quality_report_real_rows": len(real_sd),
    }
