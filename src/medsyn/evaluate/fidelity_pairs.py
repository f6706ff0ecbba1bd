"""Fidelity of column pairs: the mixed association matrix, and sdmetrics' two pair metrics with their real side
computed once per dataset.

- ``association_diff_mean`` / ``_max``: mean / largest |A_real - A_syn| over the column pairs of the mixed
  association matrices (``medsyn.evaluate.association``).
- ``correlation_similarity`` (numeric pairs) = 1 - |rho_real - rho_syn| / 2, Spearman's rho on the pair's complete
  rows; ``contingency_similarity`` (categorical pairs) = 1 - total variation distance between the two tables'
  joint frequencies (missing is a value of its own). Both are sdmetrics' ``CorrelationSimilarity(coefficient=
  "Spearman", real_correlation_threshold=0)`` and ``ContingencySimilarity`` on the same data (tests check the
  equality); written here so that the real coefficients and frequencies come from ``real_part`` instead of being
  recomputed from the real rows for every synthetic table. ``_min`` = the worst pair.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from medsyn.evaluate.association import association_matrix
from medsyn.evaluate.encoding import categorical_columns, numeric_columns, to_sdmetrics_frame
from medsyn.evaluate.results import Metrics, guard
from medsyn.spec import DatasetSpec

NO_ROWS = "synthetic table has no rows"
PAIR_KEYS = ("association_diff_mean", "association_diff_max", "correlation_similarity", "correlation_similarity_min",
             "contingency_similarity", "contingency_similarity_min")


def _pair(a: str, b: str) -> str:
    return f"{a}|{b}"


def _constant(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Columns with exactly one distinct non-missing value (sdmetrics' test for an undefined correlation)."""
    return [c for c in columns if frame[c].nunique() == 1]


def _codes(values: pd.Series, vocabulary: list[str]) -> np.ndarray:
    """Codes over a real column's vocabulary: its index there, len(vocabulary) = missing, len + 1 = anything else
    (values the real table never has share frequency 0 there, so they may share one code)."""
    missing = values.isna().to_numpy()
    codes = pd.Categorical(values.astype(object).where(~values.isna(), None), categories=vocabulary).codes
    codes = codes.astype(np.int64)
    codes[codes < 0] = len(vocabulary) + 1
    codes[missing] = len(vocabulary)
    return codes


def _joint(a: np.ndarray, b: np.ndarray, width_b: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct joint keys, their shares) of two code columns."""
    keys, counts = np.unique(a * width_b + b, return_counts=True)
    return keys, counts / len(a)


def real_part(real: pd.DataFrame, spec: DatasetSpec) -> dict:
    """What the pair metrics need from the real table: its association matrix, the Spearman rho of every numeric
    pair, the numeric columns that are constant, and the joint frequencies of every categorical pair."""
    sd = to_sdmetrics_frame(real, spec)
    num, cat = numeric_columns(spec), categorical_columns(spec)
    spearman = {}
    for a, b in itertools.combinations(num, 2):
        both = sd[[a, b]].dropna()
        rho, _ = guard(lambda: spearmanr(both[a], both[b])[0])
        spearman[_pair(a, b)] = rho
    vocab = {c: sorted(sd[c].dropna().astype(str).unique().tolist()) for c in cat}
    pair_ids, keys, shares = [], [], []
    for i, (a, b) in enumerate(itertools.combinations(cat, 2)):
        k, s = _joint(_codes(sd[a], vocab[a]), _codes(sd[b], vocab[b]), len(vocab[b]) + 2)
        pair_ids.append(np.full(len(k), i, dtype=np.int64))
        keys.append(k)
        shares.append(s)
    return {
        "association": association_matrix(real, spec).to_numpy(),
        "spearman": spearman,
        "constant": _constant(sd, num),
        "vocabulary": vocab,
        "contingency_pair": np.concatenate(pair_ids) if pair_ids else np.zeros(0, dtype=np.int64),
        "contingency_key": np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64),
        "contingency_share": np.concatenate(shares) if shares else np.zeros(0),
    }


def _constant_error(columns: list[str], which: str) -> str:
    """sdmetrics' ConstantInputError text, word for word."""
    where = f"columns '{', '.join(columns)}'" if len(columns) > 1 else f"column '{columns[0]}'"
    return (f"ConstantInputError: The {which} in {where} contains a constant value. "
            "Correlation is undefined for constant data.")


def _correlation_similarity(part: dict, syn_sd: pd.DataFrame, a: str, b: str) -> tuple[float | None, str | None]:
    constant = [c for c in (a, b) if c in part["constant"]]
    if constant:
        return None, _constant_error(constant, "real data")
    constant = _constant(syn_sd, [a, b])
    if constant:
        return None, _constant_error(constant, "synthetic data")
    rho_real = part["spearman"][_pair(a, b)]
    if rho_real is None or rho_real == 0:  # sdmetrics: |rho_real| <= threshold 0 gives no score
        return None, "not computable (undefined for these values)"
    both = syn_sd[[a, b]].dropna()
    rho_syn, err = guard(lambda: spearmanr(both[a], both[b])[0])
    if rho_syn is None:
        return None, err
    return 1 - abs(rho_real - rho_syn) / 2, None


def _contingency_similarities(part: dict, syn_sd: pd.DataFrame, cat: list[str]) -> list[float]:
    vocab = part["vocabulary"]
    codes = {c: _codes(syn_sd[c], vocab[c]) for c in cat}
    scores = []
    for i, (a, b) in enumerate(itertools.combinations(cat, 2)):
        mine = part["contingency_pair"] == i
        r_keys, r_shares = part["contingency_key"][mine], part["contingency_share"][mine]
        s_keys, s_shares = _joint(codes[a], codes[b], len(vocab[b]) + 2)
        union = np.union1d(r_keys, s_keys)
        r = np.zeros(len(union))
        s = np.zeros(len(union))
        r[np.searchsorted(union, r_keys)] = r_shares
        s[np.searchsorted(union, s_keys)] = s_shares
        scores.append(float(1 - (np.abs(r - s) / 2).sum()))
    return scores


def compute(out: Metrics, spec: DatasetSpec, part: dict, synthetic: pd.DataFrame, syn_sd: pd.DataFrame) -> None:
    """Adds the pair keys (module docstring) to ``out``; ``part`` = ``real_part`` of the real table."""
    if len(syn_sd) == 0:
        out.fail(PAIR_KEYS, NO_ROWS)
        return
    a_real = part["association"]
    a_syn = association_matrix(synthetic, spec).to_numpy()
    iu = np.triu_indices(len(spec.column_names), k=1)
    diff = np.abs(a_real[iu] - a_syn[iu])
    diff = diff[np.isfinite(diff)]
    if len(diff):
        out.put("association_diff_mean", float(diff.mean()))
        out.put("association_diff_max", float(diff.max()))
    else:
        why = "fewer than 2 columns" if len(iu[0]) == 0 else "no pair has 2 rows with both values in both tables"
        out.fail(["association_diff_mean", "association_diff_max"], why)

    num, cat = numeric_columns(spec), categorical_columns(spec)
    scores, errors = [], []
    for a, b in itertools.combinations(num, 2):
        v, err = _correlation_similarity(part, syn_sd, a, b)
        (scores.append(v) if v is not None else errors.append(f"{a}|{b}: {err}"))
    results = {"correlation_similarity": (scores, errors, num),
               "contingency_similarity": (_contingency_similarities(part, syn_sd, cat), [], cat)}
    for key, (scores, errors, cols) in results.items():
        if scores:
            out.put(key, float(np.mean(scores)))
            out.put(f"{key}_min", float(np.min(scores)))
        else:
            out.fail([key, f"{key}_min"], "fewer than 2 such columns" if len(cols) < 2 else "; ".join(errors[:5]))
