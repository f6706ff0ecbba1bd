"""Fidelity: how closely the synthetic table matches real data, column by column, pair by pair and as a whole
(evaluation-reference.md sections 2.2-2.4).

The real side is the HOLDOUT, a sample no generator has seen, not train: measured against train, a generator that
copies train rows (the ``bootstrap`` baseline, or an LLM echoing its examples) would look better than new real
patients do. Against the holdout, copies of train and unseen real rows (the ``holdout`` baseline, drawn from the
reference split) are both just real samples, and the reference is the best a generator can reach. Only when
there is no holdout (hand-built inputs) is train the real side; error texts name whichever table it is.

Every comparison is made on the REAL scale, or on bins fixed from the real data and applied unchanged to both
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
- pairs (``fidelity_pairs``): association_diff_mean, association_diff_max, correlation_similarity(_min),
  contingency_similarity(_min)
- whole table: detection_auc, detection_rows (``detection``), quality_report_score, quality_report_column_shapes,
  quality_report_column_pair_trends, quality_report_rows, quality_report_real_rows (sdmetrics' QualityReport,
  ``quality_report``)

The real side's pair statistics are computed once per dataset (``real_part``, cached by the workflow).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sdmetrics.single_column import (BoundaryAdherence, CategoryCoverage, KSComplement, MissingValueSimilarity,
                                     RangeCoverage, TVComplement)

from medsyn.evaluate import EvalInputs
from medsyn.evaluate import fidelity_pairs as pairs
from medsyn.evaluate import quality_report
from medsyn.evaluate.binning import categorical_bin_codes, numeric_bin_codes, numeric_bin_edges, observed_levels
from medsyn.evaluate.detection import detection_auc
from medsyn.evaluate.encoding import categorical_columns, numeric_columns, to_sdmetrics_frame
from medsyn.evaluate.results import Metrics, guard
from medsyn.spec import DatasetSpec

JS_SMOOTHING = 1e-6  # added to every bin's probability in both samples (then renormalised) before the JS distance
OTHER = "\x00other"  # bucket for synthetic categories never seen in the real table (cannot collide with a level)
NO_ROWS = "synthetic table has no rows"

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


def real_table(inputs: EvalInputs) -> tuple[pd.DataFrame, str]:
    """(the real table fidelity compares with, its name for error texts): the holdout, else train."""
    return (inputs.holdout, "holdout") if len(inputs.holdout) else (inputs.train, "train")


def real_part(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame,
              seed: int) -> dict:
    """The real side's pair statistics (association matrix, Spearman coefficients, contingency shares) and the
    QualityReport's real side."""
    real = holdout if len(holdout) else train
    return {**pairs.real_part(real, spec), "quality": quality_report.real_part(to_sdmetrics_frame(real, spec), spec)}


# --- per-column metrics ------------------------------------------------------------------------------------------


def _missing_values_in(real_name: str, real_empty: bool) -> str:
    return "no non-missing values in " + (real_name if real_empty else "synthetic")


def _js(real_codes: np.ndarray, syn_codes: np.ndarray, n_bins: int, real_name: str):
    if len(real_codes) == 0 or len(syn_codes) == 0:
        return None, _missing_values_in(real_name, len(real_codes) == 0)
    p = np.bincount(real_codes, minlength=n_bins) / len(real_codes) + JS_SMOOTHING
    q = np.bincount(syn_codes, minlength=n_bins) / len(syn_codes) + JS_SMOOTHING
    return guard(jensenshannon, p / p.sum(), q / q.sum(), base=2)


def _numeric_column(out: Metrics, name: str, r: pd.Series, s: pd.Series, no_rows: bool, real_name: str) -> None:
    rv, sv = r.dropna().to_numpy(float), s.dropna().to_numpy(float)
    if len(rv) == 0 or len(sv) == 0:
        empty = NO_ROWS if no_rows else _missing_values_in(real_name, len(rv) == 0)
        for metric in ("ks_complement", "wasserstein_sd", "paper_relative_mean_error", "paper_std_diff"):
            out.put(f"{metric}.{name}", None, empty)
        # a synthetic column that is always missing covers none of the real range
        out.put(f"range_coverage.{name}", 0.0 if len(rv) and np.ptp(rv) > 0 and not no_rows else None, empty)
        out.put(f"boundary_adherence.{name}", None, empty)
        out.put(f"js_distance.{name}", None, empty)
        return
    out.put(f"ks_complement.{name}", *guard(KSComplement.compute, rv, sv))
    sd_r = float(np.std(rv, ddof=1)) if len(rv) > 1 else float("nan")
    if sd_r > 0:
        w, err = guard(wasserstein_distance, rv, sv)
        out.put(f"wasserstein_sd.{name}", None if w is None else w / sd_r, err)
    else:
        out.put(f"wasserstein_sd.{name}", None, f"{real_name} standard deviation is 0 or undefined")
    if np.ptp(rv) > 0:
        out.put(f"range_coverage.{name}", *guard(RangeCoverage.compute, pd.Series(rv), pd.Series(sv)))
    else:
        out.put(f"range_coverage.{name}", None, f"{real_name} column is constant (no range to cover)")
    out.put(f"boundary_adherence.{name}",
            *guard(BoundaryAdherence.compute, pd.Series(rv), pd.Series(sv), range_is_nullable=True))
    edges = numeric_bin_edges(rv)
    rc, nb = numeric_bin_codes(rv, edges)
    sc, _ = numeric_bin_codes(sv, edges)
    out.put(f"js_distance.{name}", *_js(rc, sc, nb, real_name))
    mean_r = float(rv.mean())
    if mean_r != 0:
        out.put(f"paper_relative_mean_error.{name}", abs(float(sv.mean()) - mean_r) / abs(mean_r))
    else:
        out.put(f"paper_relative_mean_error.{name}", None, f"{real_name} mean is 0")
    sd_s = float(np.std(sv, ddof=1)) if len(sv) > 1 else float("nan")
    if sd_r > 0 and math.isfinite(sd_s):
        out.put(f"paper_std_diff.{name}", abs(sd_s - sd_r) / sd_r)
    else:
        out.put(f"paper_std_diff.{name}", None, "standard deviation is 0 or undefined (fewer than 2 values)")


def _categorical_column(out: Metrics, name: str, r: pd.Series, s: pd.Series, no_rows: bool, real_name: str) -> None:
    rv, sv = r.dropna().astype(str), s.dropna().astype(str)
    if len(rv) == 0 or len(sv) == 0:
        empty = NO_ROWS if no_rows else _missing_values_in(real_name, len(rv) == 0)
        out.put(f"tv_complement.{name}", None, empty)
        # a synthetic column that is always missing covers none of the real categories
        out.put(f"category_coverage.{name}", 0.0 if len(rv) and not no_rows else None, empty)
        out.put(f"invented_category_share.{name}", None, empty)
        out.put(f"js_distance.{name}", None, empty)
        return
    levels = observed_levels(rv)
    seen = sv.isin(levels)
    out.put(f"invented_category_share.{name}", float(1.0 - seen.mean()))
    # counts over the real level set plus one 'other' bucket: many invented values weigh as one wrong category
    out.put(f"tv_complement.{name}", *guard(TVComplement.compute, rv, sv.where(seen, OTHER)))
    out.put(f"category_coverage.{name}", *guard(CategoryCoverage.compute, rv, sv))
    rc, nb = categorical_bin_codes(rv, levels)
    sc, _ = categorical_bin_codes(sv, levels)
    out.put(f"js_distance.{name}", *_js(rc, sc, nb, real_name))


def _aggregate(out: Metrics, spec: DatasetSpec, syn_rows: int) -> None:
    num, cat = numeric_columns(spec), categorical_columns(spec)
    for metric, (kind, better) in COLUMN_METRICS.items():
        cols = num if kind == "numeric" else cat if kind == "categorical" else spec.column_names
        worst = f"{metric}_min" if better == "higher" else f"{metric}_max"
        ok = [v for v in (out.get(f"{metric}.{c}") for c in cols) if v is not None]
        out.put(f"{metric}_n", len(ok))
        if not ok:
            why = NO_ROWS if syn_rows == 0 else f"no {kind} columns" if not cols else "not computable for any column"
            out.fail([metric, worst], why)
            continue
        arr = np.array(ok, dtype=float)
        out.put(metric, float(arr.mean()))
        out.put(worst, float(arr.min() if better == "higher" else arr.max()))


# --- whole table -------------------------------------------------------------------------------------------------

QUALITY_KEYS = ("quality_report_score", "quality_report_column_shapes", "quality_report_column_pair_trends")


# --- entry point -------------------------------------------------------------------------------------------------


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    real, real_name = real_table(inputs)
    out = Metrics()
    real_sd = to_sdmetrics_frame(real, spec)
    syn_sd = to_sdmetrics_frame(inputs.synthetic, spec)
    empty = len(syn_sd) == 0

    for col in spec.columns:
        r, s = real_sd[col.name], syn_sd[col.name]
        if col.is_numeric:
            _numeric_column(out, col.name, r, s, empty, real_name)
        else:
            _categorical_column(out, col.name, r, s, empty, real_name)
        if empty:
            out.put(f"missing_share_diff.{col.name}", None, NO_ROWS)
        else:
            sim, err = guard(MissingValueSimilarity.compute, r, s)
            out.put(f"missing_share_diff.{col.name}", None if sim is None else 1.0 - sim, err)
    _aggregate(out, spec, len(syn_sd))
    part = inputs.real_part("fidelity")
    pairs.compute(out, spec, part, inputs.synthetic, syn_sd)

    if empty:
        out.put("detection_auc", None, NO_ROWS)
        out.put("detection_rows", 0)
        out.fail(QUALITY_KEYS, NO_ROWS)
        out.put("quality_report_rows", 0)
        out.put("quality_report_real_rows", len(real_sd))
    else:
        auc, n, err = detection_auc(real, inputs.synthetic, spec, inputs.seed)
        out.put("detection_auc", auc, err)
        out.put("detection_rows", n)
        try:
            for key, value in quality_report.scores(part["quality"], real_sd, syn_sd, spec, inputs.seed).items():
                out.put(key, value, "QualityReport returned no score")
        except Exception as exc:  # noqa: BLE001
            out.fail(QUALITY_KEYS, f"{type(exc).__name__}: {exc}")
    return out
