"""Fidelity: how closely the synthetic table matches real data, column by column, pair by pair and as a whole
(evaluation-reference.md sections 2.2-2.4).

The real side is the HOLDOUT, a sample no generator has seen, not train: measured against train, a generator that
copies train rows (the ``bootstrap`` baseline, or an LLM echoing its examples) would look better than new real
patients do. Against the holdout, copies of train and unseen real rows (the ``holdout`` baseline, drawn from the
reference split) are both just real samples, and the reference is the best a generator can reach. (Named
``train`` in the code below for historical reasons: it is whatever real table ``compute`` compares with.)

Every comparison is made on the REAL scale, or on bins fixed from the train data and applied unchanged to both
samples. SynLLM min-max scaled each sample by its own range (synllm-reference.md flaw 5), which hides any shift or
rescaling and scores a constant column as perfect; nothing here does that. Its mean/sd ratios are kept, labelled
``paper_*``, so the two readings can be put side by side.

Keys (all flat; per column ``<metric>.<column>``; ``<metric>`` = mean over the columns where it is computable,
``<metric>_min``/``_max`` = the worst column, ``<metric>_n`` = how many columns entered the mean; a None value has a
``<key>.error`` string next to it):

- numeric columns: ks_complement, wasserstein_sd, range_coverage, boundary_adherence, paper_relative_mean_error,
  paper_std_diff
- categorical/binary columns: tv_complement, category_coverage, invented_category_share
- all columns: js_distance, missing_share_diff
- pairs: association_diff_mean, association_diff_max (mixed association matrix, see ``association_matrix``),
  correlation_similarity(_min) (numeric pairs), contingency_similarity(_min) (categorical pairs)
- whole table: detection_auc, detection_rows, quality_report_score, quality_report_column_shapes,
  quality_report_column_pair_trends, quality_report_rows, quality_report_real_rows
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from typing import Callable

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import rankdata, wasserstein_distance

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.encoding import categorical_columns, numeric_columns, sdmetrics_metadata, to_sdmetrics_frame
from medsyn.spec import DatasetSpec

N_QUANTILE_BINS = 10  # numeric bins: train deciles, plus one bin below the train min and one above the train max
JS_SMOOTHING = 1e-6  # added to every bin's probability in both samples (then renormalised) before the JS distance
DETECTION_MAX_ROWS = 20_000  # per class
DETECTION_FOLDS = 3
# OpenMP threads for the detection classifier. One thread: measured on 2 busy cores, a 2-thread fit of 40k rows took
# 8-40 s (spin-waiting when the cores are shared, e.g. parallel workflow jobs) against 0.9 s single-threaded.
DETECTION_THREADS = 1
QUALITY_REPORT_MAX_ROWS = 100_000  # per side; 100k vs 100k diabetes took ~1.5-2 s on 2 cores, so rarely binding
OTHER = "\x00other"  # bucket for synthetic categories never seen in train (cannot collide with a spec level)

# metric -> (kind of columns, direction of "better"); the aggregate key is _min for higher-better, _max otherwise
COLUMN_METRICS: dict[str, tuple[str, str]] = {
    "ks_complement": ("numeric", "higher"),
    "wasserstein_sd": ("numeric", "lower"),
    "range_coverage": ("numeric", "higher"),
    "boundary_adherence": ("numeric", "higher"),
    "paper_relative_mean_error": ("numeric", "lower"),
    "paper_std_diff": ("numeric", "lower"),
    "tv_complement": ("categorical", "higher"),
    "category_coverage": ("categorical", "higher"),
    "invented_category_share": ("categorical", "lower"),
    "js_distance": ("all", "lower"),
    "missing_share_diff": ("all", "lower"),
}


class _Out:
    """Collects the flat result; a None (or NaN) value gets a ``<key>.error`` string beside it."""

    def __init__(self) -> None:
        self.d: dict[str, object] = {}

    def put(self, key: str, value, error: str | None = None) -> None:
        if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
            value = None
        if isinstance(value, np.generic):
            value = value.item()
        self.d[key] = value
        if value is None:
            self.d[f"{key}.error"] = error or "not computable"


def _guard(fn: Callable, *args, **kwargs):
    """(value, error): exceptions and NaN become (None, reason); sdmetrics/scipy warnings are silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a metric that cannot be computed must not stop the others
        return None, f"{type(exc).__name__}: {exc}"
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(float(value))):
        return None, "not computable (undefined for these values)"
    return float(value), None


# --- shared binning (also used by the diversity family) ---------------------------------------------------------


def numeric_bin_edges(train_values: np.ndarray, n_bins: int = N_QUANTILE_BINS) -> np.ndarray:
    """Unique train quantile edges (heaped values collapse duplicate edges)."""
    values = train_values[~np.isnan(train_values)]
    if len(values) == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))


def numeric_bin_codes(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """Bin codes of non-missing ``values`` on fixed train edges: 0 = below the train min, 1..k = the train quantile
    bins (left-closed, the last one closed), k+1 = above the train max. Returns (codes, number of bins)."""
    values = values[~np.isnan(values)]
    k = max(len(edges) - 1, 1)
    inner = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, k - 1) + 1
    codes = np.where(values < edges[0], 0, np.where(values > edges[-1], k + 1, inner))
    return codes.astype(np.int64), k + 2


def categorical_bin_codes(values: pd.Series, levels: list[str]) -> tuple[np.ndarray, int]:
    """Codes of non-missing values over the train ``levels``; anything else goes to one extra 'other' bin."""
    present = values.dropna().astype(str)
    codes = pd.Categorical(present, categories=levels).codes.astype(np.int64)
    codes[codes < 0] = len(levels)
    return codes, len(levels) + 1


def train_levels(train_col: pd.Series) -> list[str]:
    return sorted(train_col.dropna().astype(str).unique().tolist())


# --- per-column metrics ------------------------------------------------------------------------------------------


def _js(real_codes: np.ndarray, syn_codes: np.ndarray, n_bins: int):
    if len(real_codes) == 0 or len(syn_codes) == 0:
        return None, "no non-missing values in " + ("train" if len(real_codes) == 0 else "synthetic")
    p = np.bincount(real_codes, minlength=n_bins) / len(real_codes) + JS_SMOOTHING
    q = np.bincount(syn_codes, minlength=n_bins) / len(syn_codes) + JS_SMOOTHING
    return _guard(jensenshannon, p / p.sum(), q / q.sum(), base=2)


def _numeric_column(out: _Out, name: str, r: pd.Series, s: pd.Series, no_rows: bool) -> None:
    from sdmetrics.single_column import BoundaryAdherence, KSComplement, RangeCoverage

    rv, sv = r.dropna().to_numpy(float), s.dropna().to_numpy(float)
    if len(rv) == 0 or len(sv) == 0:
        empty = "synthetic table has no rows" if no_rows else "no non-missing values in " + (
            "train" if len(rv) == 0 else "synthetic")
        for metric in ("ks_complement", "wasserstein_sd", "paper_relative_mean_error", "paper_std_diff"):
            out.put(f"{metric}.{name}", None, empty)
        # a synthetic column that is always missing covers none of the real range
        out.put(f"range_coverage.{name}", 0.0 if len(rv) and np.ptp(rv) > 0 and not no_rows else None, empty)
        out.put(f"boundary_adherence.{name}", None, empty)
        out.put(f"js_distance.{name}", None, empty)
        return
    out.put(f"ks_complement.{name}", *_guard(KSComplement.compute, rv, sv))
    sd_r = float(np.std(rv, ddof=1)) if len(rv) > 1 else float("nan")
    if sd_r > 0:
        w, err = _guard(wasserstein_distance, rv, sv)
        out.put(f"wasserstein_sd.{name}", None if w is None else w / sd_r, err)
    else:
        out.put(f"wasserstein_sd.{name}", None, "train standard deviation is 0 or undefined")
    if np.ptp(rv) > 0:
        out.put(f"range_coverage.{name}", *_guard(RangeCoverage.compute, pd.Series(rv), pd.Series(sv)))
    else:
        out.put(f"range_coverage.{name}", None, "train column is constant (no range to cover)")
    out.put(f"boundary_adherence.{name}",
            *_guard(BoundaryAdherence.compute, pd.Series(rv), pd.Series(sv), range_is_nullable=True))
    edges = numeric_bin_edges(rv)
    rc, nb = numeric_bin_codes(rv, edges)
    sc, _ = numeric_bin_codes(sv, edges)
    out.put(f"js_distance.{name}", *_js(rc, sc, nb))
    mean_r = float(rv.mean())
    if mean_r != 0:
        out.put(f"paper_relative_mean_error.{name}", abs(float(sv.mean()) - mean_r) / abs(mean_r))
    else:
        out.put(f"paper_relative_mean_error.{name}", None, "train mean is 0")
    sd_s = float(np.std(sv, ddof=1)) if len(sv) > 1 else float("nan")
    if sd_r > 0 and math.isfinite(sd_s):
        out.put(f"paper_std_diff.{name}", abs(sd_s - sd_r) / sd_r)
    else:
        out.put(f"paper_std_diff.{name}", None, "standard deviation is 0 or undefined (fewer than 2 values)")


def _categorical_column(out: _Out, name: str, r: pd.Series, s: pd.Series, no_rows: bool) -> None:
    from sdmetrics.single_column import CategoryCoverage, TVComplement

    rv, sv = r.dropna().astype(str), s.dropna().astype(str)
    if len(rv) == 0 or len(sv) == 0:
        empty = "synthetic table has no rows" if no_rows else "no non-missing values in " + (
            "train" if len(rv) == 0 else "synthetic")
        out.put(f"tv_complement.{name}", None, empty)
        # a synthetic column that is always missing covers none of the real categories
        out.put(f"category_coverage.{name}", 0.0 if len(rv) and not no_rows else None, empty)
        out.put(f"invented_category_share.{name}", None, empty)
        out.put(f"js_distance.{name}", None, empty)
        return
    levels = train_levels(rv)
    seen = sv.isin(levels)
    out.put(f"invented_category_share.{name}", float(1.0 - seen.mean()))
    # counts over the real level set plus one 'other' bucket: many invented values weigh as one wrong category
    out.put(f"tv_complement.{name}", *_guard(TVComplement.compute, rv, sv.where(seen, OTHER)))
    out.put(f"category_coverage.{name}", *_guard(CategoryCoverage.compute, rv, sv))
    rc, nb = categorical_bin_codes(rv, levels)
    sc, _ = categorical_bin_codes(sv, levels)
    out.put(f"js_distance.{name}", *_js(rc, sc, nb))


def _aggregate(out: _Out, spec: DatasetSpec, syn_rows: int) -> None:
    num, cat = numeric_columns(spec), categorical_columns(spec)
    for metric, (kind, better) in COLUMN_METRICS.items():
        cols = num if kind == "numeric" else cat if kind == "categorical" else spec.column_names
        worst = f"{metric}_min" if better == "higher" else f"{metric}_max"
        values = {c: out.d.get(f"{metric}.{c}") for c in cols}
        ok = {c: v for c, v in values.items() if v is not None}
        out.put(f"{metric}_n", len(ok))
        if not ok:
            why = ("synthetic table has no rows" if syn_rows == 0
                   else f"no {kind} columns" if not cols else "not computable for any column")
            out.put(metric, None, why)
            out.put(worst, None, why)
            continue
        arr = np.array(list(ok.values()), dtype=float)
        out.put(metric, float(arr.mean()))
        out.put(worst, float(arr.min() if better == "higher" else arr.max()))


# --- pairwise ----------------------------------------------------------------------------------------------------


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


def _pairwise(out: _Out, inputs: EvalInputs, train_sd: pd.DataFrame, syn_sd: pd.DataFrame) -> None:
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    spec = inputs.spec
    if len(syn_sd) == 0:
        for key in ("association_diff_mean", "association_diff_max", "correlation_similarity",
                    "correlation_similarity_min", "contingency_similarity", "contingency_similarity_min"):
            out.put(key, None, "synthetic table has no rows")
        return
    a_real = association_matrix(inputs.train, spec).to_numpy()
    a_syn = association_matrix(inputs.synthetic, spec).to_numpy()
    iu = np.triu_indices(len(spec.column_names), k=1)
    diff = np.abs(a_real[iu] - a_syn[iu])
    diff = diff[np.isfinite(diff)]
    if len(diff):
        out.put("association_diff_mean", float(diff.mean()))
        out.put("association_diff_max", float(diff.max()))
    else:
        why = "fewer than 2 columns" if len(iu[0]) == 0 else "no pair has 2 rows with both values in both tables"
        out.put("association_diff_mean", None, why)
        out.put("association_diff_max", None, why)

    def pair_scores(metric, cols, **kwargs):
        scores, errors = [], []
        for a, b in itertools.combinations(cols, 2):
            v, err = _guard(metric.compute, train_sd[[a, b]], syn_sd[[a, b]], **kwargs)
            (scores.append(v) if v is not None else errors.append(f"{a}|{b}: {err}"))
        return scores, errors

    for key, metric, cols, kwargs in (
        ("correlation_similarity", CorrelationSimilarity, numeric_columns(spec),
         {"coefficient": "Spearman", "real_correlation_threshold": 0}),
        ("contingency_similarity", ContingencySimilarity, categorical_columns(spec), {}),
    ):
        scores, errors = pair_scores(metric, cols, **kwargs)
        if scores:
            out.put(key, float(np.mean(scores)))
            out.put(f"{key}_min", float(np.min(scores)))
        else:
            why = "fewer than 2 such columns" if len(cols) < 2 else "; ".join(errors[:5])
            out.put(key, None, why)
            out.put(f"{key}_min", None, why)


# --- whole table -------------------------------------------------------------------------------------------------


def _detection_matrix(frames: list[pd.DataFrame], spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """Numeric as float (NaN kept), categoricals as shared ordinal codes (NaN kept) flagged as categorical when they
    fit HistGradientBoosting's 255 category bins."""
    both = pd.concat(frames, ignore_index=True)
    cols, is_cat = [], []
    for col in spec.columns:
        v = both[col.name]
        if col.is_numeric:
            cols.append(pd.to_numeric(v, errors="coerce").astype("float64").to_numpy())
            is_cat.append(False)
        else:
            codes, uniques = pd.factorize(v.astype(object).where(v.notna(), None), sort=True)
            cols.append(np.where(codes < 0, np.nan, codes).astype(float))
            is_cat.append(len(uniques) <= 255)
    return np.column_stack(cols), np.array(is_cat)


def min_leaf(n_train_rows: int) -> int:
    """Leaf size that lets gradient boosting split small tables (sklearn's 20 only from 200 training rows up)."""
    return int(max(2, min(20, n_train_rows // 10)))


def detection_auc(train: pd.DataFrame, synthetic: pd.DataFrame, spec: DatasetSpec, seed: int):
    """(mean CV ROC AUC, rows per class, error) of a gradient-boosting real-vs-synthetic classifier.

    Identical rows (after encoding) are kept in the same fold. Without that, a synthetic copy of a real row sits in
    the training folds with the opposite label whenever its twin is tested, and the classifier "anti-learns": an
    exact copy of the train table scored AUC 0.07 with plain stratified folds on cirrhosis, instead of 0.5.
    Near-copies (train rows with a few columns changed) still anti-learn: an AUC clearly BELOW the holdout
    reference's means synthetic rows are paired with train rows, not that they are "more real than real".
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    n = min(len(train), len(synthetic), DETECTION_MAX_ROWS)
    if n < DETECTION_FOLDS:
        return None, n, f"needs at least {DETECTION_FOLDS} rows in each table, has {n}"
    rng = np.random.default_rng(seed)
    real_part = train.iloc[np.sort(rng.choice(len(train), n, replace=False))]
    syn_part = synthetic.iloc[np.sort(rng.choice(len(synthetic), n, replace=False))]
    X, is_cat = _detection_matrix([real_part, syn_part], spec)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    groups = pd.factorize(pd.util.hash_pandas_object(pd.DataFrame(X), index=False))[0]
    # StratifiedGroupKFold balances classes exactly but loops over groups (2 s for 40k); above a few thousand rows
    # the shuffled GroupKFold is balanced to within a percent
    if 2 * n <= 5000:
        cv = StratifiedGroupKFold(n_splits=DETECTION_FOLDS, shuffle=True, random_state=seed)
    else:
        cv = GroupKFold(n_splits=DETECTION_FOLDS, shuffle=True, random_state=seed)
    clf = HistGradientBoostingClassifier(
        random_state=seed,
        categorical_features=is_cat if is_cat.any() else None,
        # sklearn's default min_samples_leaf=20 cannot split a 20-row table: every small run would score 0.5
        min_samples_leaf=min_leaf(2 * n * (DETECTION_FOLDS - 1) // DETECTION_FOLDS),
    )
    with threadpool_limits(limits=DETECTION_THREADS, user_api="openmp"):
        auc, err = _guard(lambda: float(np.mean(
            cross_val_score(clf, X, y, groups=groups, cv=cv, scoring="roc_auc", error_score="raise"))))
    return auc, n, err


def quality_report(train_sd: pd.DataFrame, syn_sd: pd.DataFrame, spec: DatasetSpec, seed: int) -> dict:
    """sdmetrics QualityReport (Column Shapes + Column Pair Trends), seeded; rows capped per side."""
    from sdmetrics.reports import QualityReport

    rng = np.random.default_rng(seed)
    if len(train_sd) > QUALITY_REPORT_MAX_ROWS:
        train_sd = train_sd.iloc[np.sort(rng.choice(len(train_sd), QUALITY_REPORT_MAX_ROWS, replace=False))]
    if len(syn_sd) > QUALITY_REPORT_MAX_ROWS:
        syn_sd = syn_sd.iloc[np.sort(rng.choice(len(syn_sd), QUALITY_REPORT_MAX_ROWS, replace=False))]
    table = spec.name or "table"
    state = np.random.get_state()
    np.random.seed(seed)  # ContingencySimilarity subsamples above 50k rows with the global NumPy RNG
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = QualityReport()
            report.generate({table: train_sd.reset_index(drop=True)}, {table: syn_sd.reset_index(drop=True)},
                            {"tables": {table: sdmetrics_metadata(spec)}}, verbose=False)
    finally:
        np.random.set_state(state)
    props = report.get_properties().set_index("Property")["Score"]
    return {
        "quality_report_score": report.get_score(),
        "quality_report_column_shapes": props.get("Column Shapes", np.nan),
        "quality_report_column_pair_trends": props.get("Column Pair Trends", np.nan),
        "quality_report_rows": len(syn_sd),
        "quality_report_real_rows": len(train_sd),
    }


# --- entry point -------------------------------------------------------------------------------------------------


def compute(inputs: EvalInputs) -> dict:
    if len(inputs.holdout):
        # compare with unseen real rows (see the module docstring); the helpers below call that side "train"
        inputs = dataclasses.replace(inputs, train=inputs.holdout)
    spec = inputs.spec
    out = _Out()
    train_sd = to_sdmetrics_frame(inputs.train, spec)
    syn_sd = to_sdmetrics_frame(inputs.synthetic, spec)
    empty = len(syn_sd) == 0

    for col in spec.columns:
        r, s = train_sd[col.name], syn_sd[col.name]
        if col.is_numeric:
            _numeric_column(out, col.name, r, s, empty)
        else:
            _categorical_column(out, col.name, r, s, empty)
        if empty:
            out.put(f"missing_share_diff.{col.name}", None, "synthetic table has no rows")
        else:
            from sdmetrics.single_column import MissingValueSimilarity

            sim, err = _guard(MissingValueSimilarity.compute, r, s)
            out.put(f"missing_share_diff.{col.name}", None if sim is None else 1.0 - sim, err)
    _aggregate(out, spec, len(syn_sd))
    _pairwise(out, inputs, train_sd, syn_sd)

    if empty:
        out.put("detection_auc", None, "synthetic table has no rows")
        out.put("detection_rows", 0)
        for key in ("quality_report_score", "quality_report_column_shapes", "quality_report_column_pair_trends"):
            out.put(key, None, "synthetic table has no rows")
        out.put("quality_report_rows", 0)
        out.put("quality_report_real_rows", len(train_sd))
    else:
        auc, n, err = detection_auc(inputs.train, inputs.synthetic, spec, inputs.seed)
        out.put("detection_auc", auc, err)
        out.put("detection_rows", n)
        try:
            for key, value in quality_report(train_sd, syn_sd, spec, inputs.seed).items():
                out.put(key, value, "QualityReport returned no score")
        except Exception as exc:  # noqa: BLE001
            for key in ("quality_report_score", "quality_report_column_shapes", "quality_report_column_pair_trends"):
                out.put(key, None, f"{type(exc).__name__}: {exc}")
    return out.d
