"""The SynLLM paper's own metrics, implemented as the paper defined them (paper-defined, NOT our reading).

See ../shared/docs/synllm-reference.md sections 7.1-7.3. These numbers exist to reproduce the paper's rankings
beside ours; their defects are the point (flaws 3, 5 and 8 of that document) and are kept on purpose:

- The real reference is a random subsample of the WHOLE real table (train + holdout + reference here: the paper
  had no split) of the synthetic table's size, drawn with ``random_state=42`` (their ``util.py``).
- ``relative_mean_error`` = mean over numeric columns of |mean_real - mean_syn| / mean_real;
  ``std_difference`` = mean over numeric columns of |sd_real - sd_syn|.
- ``wasserstein_minmax.<col>`` / ``js_minmax.<col>``: each sample min-max scaled by ITS OWN min and max (flaw 5),
  Wasserstein-1 on the scaled values, JS distance (scipy ``jensenshannon``, base e) of 50-bin histograms on [0, 1]
  with 1e-10 smoothing; 0 when either column is constant. ``wasserstein_minmax`` / ``js_minmax`` are the means.
- ``ks_statistic``: mean two-sample KS statistic on raw values.
- ``correlation_distance``: Frobenius norm of Pearson(real) - Pearson(synthetic) over the numeric columns.
- ``kanon_violation_rate``: for each of the 7 non-empty subsets of the quasi-identifiers {age, gender, bmi}
  ({Age, Sex, Bilirubin} on cirrhosis), (number of groups with fewer than 5 rows) / rows of the SYNTHETIC table,
  averaged over the subsets (flaw 3: a table of one repeated row scores 0, "perfect privacy");
  ``kanon_violation_age_gender`` is the {age, gender} subset (the component of their harmonic score).
- ``nn_distance_ratio``: mean nearest-neighbour distance synthetic->synthetic divided by real->real, Euclidean on
  raw unscaled numeric columns (self excluded), after a bootstrap of each table to at most 1,000 rows (seeded
  here; theirs was unseeded). Copies of a few rows give ~0.
- ``identifiability``: synthetic rows whose text equals a row of the real subsample / unique synthetic rows.
- ``tstr_accuracy``: RandomForest(50 trees, random_state=42) trained on the synthetic table, accuracy on the
  real subsample (accuracy on an imbalanced target, flaw 10), categorical columns label-encoded. Targets as in the
  paper: diabetes, stroke, and Stage on cirrhosis (not our Status); rows missing the target are dropped.
- ``clinical_difference``: |delta_syn - delta_real|, delta = mean of the dataset's clinical column between the
  target's classes (diabetes: HbA1c by diabetes; stroke: avg_glucose_level by stroke; cirrhosis: Bilirubin,
  Status D minus C). The paper's harmonic score used the diabetes HbA1c difference; we use each dataset's analog.

The harmonic privacy-quality score needs every run of a dataset (each component is min-max normalised over the
pool), so it is computed in aggregation: ``harmonic_scores`` below, used by the ``paper_comparison`` rule.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree
from scipy.spatial.distance import jensenshannon
from sklearn.ensemble import RandomForestClassifier

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.results import Metrics

SUBSAMPLE_SEED = 42
SUMMARY_KEYS = ("relative_mean_error", "std_difference", "wasserstein_minmax", "js_minmax", "ks_statistic",
                "correlation_distance", "kanon_violation_rate", "kanon_violation_age_gender", "nn_distance_ratio",
                "identifiability", "tstr_accuracy", "clinical_difference")
NOT_COMPUTABLE = {  # why a paper metric can be None on a non-empty table
    "relative_mean_error": "no numeric column with values in both tables and a non-zero real mean",
    "std_difference": "no numeric column with 2 values in both tables",
    "wasserstein_minmax": "no values in one of the tables",
    "js_minmax": "no values in one of the tables",
    "ks_statistic": "no numeric column with values in both tables",
    "kanon_violation_rate": "none of the quasi-identifiers is a column",
    "nn_distance_ratio": "too few complete numeric rows",
    "tstr_accuracy": "the synthetic target has a single class or no rows",
    "clinical_difference": "a class of the target is missing in one of the tables",
}
NN_MAX_ROWS = 1000
K = 5
# quasi-identifiers of the paper's k-anonymity check, and the clinical difference of its consistency score
QUASI_IDENTIFIERS = {"cirrhosis": ("Age", "Sex", "Bilirubin")}
DEFAULT_QUASI_IDENTIFIERS = ("age", "gender", "bmi")
CLINICAL = {  # dataset -> (numeric column, target, level a, level b): delta = mean(col | a) - mean(col | b)
    "diabetes": ("HbA1c_level", "diabetes", "1", "0"),
    "stroke": ("avg_glucose_level", "stroke", "1", "0"),
    "cirrhosis": ("Bilirubin", "Status", "D", "C"),
}


def real_subsample(inputs: EvalInputs, n: int) -> pd.DataFrame:
    """The paper's reference: ``real.sample(n=len(synthetic), random_state=42)`` of the whole real table."""
    real = pd.concat([inputs.train, inputs.holdout, inputs.reference], ignore_index=True)
    return real.sample(n=min(n, len(real)), random_state=SUBSAMPLE_SEED).reset_index(drop=True)


def _minmax(v: np.ndarray) -> np.ndarray | None:
    lo, hi = np.nanmin(v), np.nanmax(v)
    return None if hi == lo else (v - lo) / (hi - lo)


def minmax_distances(real: np.ndarray, syn: np.ndarray) -> tuple[float, float]:
    """(Wasserstein-1, JS distance) after scaling each sample by its own min and max (the paper's flaw 5)."""
    r, s = real[~np.isnan(real)], syn[~np.isnan(syn)]
    if len(r) == 0 or len(s) == 0:
        return np.nan, np.nan
    rs, ss = _minmax(r), _minmax(s)
    if rs is None or ss is None:
        return 0.0, 0.0
    w = float(stats.wasserstein_distance(rs, ss))
    bins = np.linspace(0, 1, 51)
    hr = np.histogram(rs, bins=bins)[0] + 1e-10
    hs = np.histogram(ss, bins=bins)[0] + 1e-10
    return w, float(jensenshannon(hr / hr.sum(), hs / hs.sum()))


def kanon_violation(frame: pd.DataFrame, columns: list[str], k: int = K) -> float:
    """(groups with fewer than k rows) / rows, on one table (their ``avg_privacy_violation`` for one subset)."""
    if len(frame) == 0:
        return np.nan
    sizes = frame[columns].astype(str).groupby(columns, dropna=False).size()
    return float((sizes < k).sum() / len(frame))


def _nn_mean(x: np.ndarray) -> float:
    if len(x) < 2:
        return np.nan
    d, _ = cKDTree(x).query(x, k=2)
    return float(d[:, 1].mean())


def nn_distance_ratio(real: np.ndarray, syn: np.ndarray, seed: int) -> float:
    rng = np.random.default_rng(seed)

    def boot(x):
        return x[rng.integers(0, len(x), size=min(len(x), NN_MAX_ROWS))] if len(x) else x

    r, s = _nn_mean(boot(real)), _nn_mean(boot(syn))
    return float(s / r) if r and np.isfinite(r) and np.isfinite(s) else np.nan


def _row_text(frame: pd.DataFrame) -> pd.Series:
    return frame.astype(str).agg(",".join, axis=1)


def _encode(frame: pd.DataFrame, cols: list[str], levels: dict[str, list[str]]) -> np.ndarray:
    out = []
    for c in cols:
        if c in levels:
            mapping = {lvl: i for i, lvl in enumerate(levels[c])}
            out.append(frame[c].astype(str).map(mapping).fillna(-1).to_numpy(float))
        else:
            v = pd.to_numeric(frame[c], errors="coerce").astype(float)  # Int64 with missing -> float NaN
            out.append(v.fillna(v.mean() if v.notna().any() else 0).to_numpy(float))
    return np.column_stack(out) if out else np.zeros((len(frame), 0))


TSTR_TARGET = {"cirrhosis": "Stage"}  # the paper's TSTR target where it is not the spec's


def tstr_accuracy(real: pd.DataFrame, syn: pd.DataFrame, spec) -> float:
    target = TSTR_TARGET.get(spec.name, spec.target)
    syn = syn[syn[target].notna()]
    real = real[real[target].notna()]
    if len(syn) < 2 or syn[target].astype(str).nunique() < 2 or len(real) == 0:
        return np.nan
    features = [c.name for c in spec.columns if c.name != target]
    levels = {c.name: list(c.levels) for c in spec.columns if not c.is_numeric}
    model = RandomForestClassifier(n_estimators=50, random_state=SUBSAMPLE_SEED)
    model.fit(_encode(syn, features, levels), syn[target].astype(str))
    return float((model.predict(_encode(real, features, levels)) == real[target].astype(str).to_numpy()).mean())


def _class_delta(frame: pd.DataFrame, col: str, target: str, a: str, b: str) -> float:
    t = frame[target].astype(str)
    v = pd.to_numeric(frame[col], errors="coerce")
    return float(v[t == a].mean() - v[t == b].mean())


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    syn = inputs.synthetic.reset_index(drop=True)
    out = Metrics(definition="paper-defined (SynLLM, arXiv 2508.08529)")
    n = len(syn)
    if n == 0:
        out.put("n_reference", 0)
        out.fail(SUMMARY_KEYS, "synthetic table has no rows")
        return out
    real = real_subsample(inputs, n)
    out["n_reference"] = len(real)
    numeric = [c.name for c in spec.columns if c.is_numeric]

    rme, sdd, ws, jss, kss = [], [], [], [], []
    for col in numeric:
        r = pd.to_numeric(real[col], errors="coerce").to_numpy(float)
        s = pd.to_numeric(syn[col], errors="coerce").to_numpy(float)
        r, s = r[~np.isnan(r)], s[~np.isnan(s)]
        if len(r) == 0 or len(s) == 0:
            continue
        mr = r.mean()
        if mr != 0:
            rme.append(abs(mr - s.mean()) / mr)
        sdd.append(abs(r.std(ddof=1) - s.std(ddof=1)) if len(r) > 1 and len(s) > 1 else np.nan)
        w, js = minmax_distances(r, s)
        out[f"wasserstein_minmax.{col}"] = w
        out[f"js_minmax.{col}"] = js
        ws.append(w)
        jss.append(js)
        kss.append(float(stats.ks_2samp(r, s).statistic))
    out["relative_mean_error"] = float(np.mean(rme)) if rme else None
    out["std_difference"] = float(np.nanmean(sdd)) if sdd and not np.all(np.isnan(sdd)) else None
    out["wasserstein_minmax"] = float(np.nanmean(ws)) if ws else None
    out["js_minmax"] = float(np.nanmean(jss)) if jss else None
    out["ks_statistic"] = float(np.mean(kss)) if kss else None

    if len(numeric) >= 2:
        cr = real[numeric].apply(pd.to_numeric, errors="coerce").corr().to_numpy()
        cs = syn[numeric].apply(pd.to_numeric, errors="coerce").corr().to_numpy()
        diff = np.nan_to_num(cr - cs)  # a constant synthetic column has no correlation: counted as 0 difference
        out["correlation_distance"] = float(np.linalg.norm(diff, "fro"))

    qi = [c for c in QUASI_IDENTIFIERS.get(spec.name, DEFAULT_QUASI_IDENTIFIERS) if c in syn.columns]
    rates = [kanon_violation(syn, list(sub)) for r_ in range(1, len(qi) + 1) for sub in itertools.combinations(qi, r_)]
    out["kanon_violation_rate"] = float(np.mean(rates)) if rates else None
    if len(qi) >= 2:
        out["kanon_violation_age_gender"] = kanon_violation(syn, qi[:2])

    rn = real[numeric].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(float)
    sn = syn[numeric].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(float)
    out["nn_distance_ratio"] = nn_distance_ratio(rn, sn, inputs.seed)

    unique_syn = set(_row_text(syn))
    real_rows = set(_row_text(real))
    out["identifiability"] = len(unique_syn & real_rows) / len(unique_syn)
    out["tstr_accuracy"] = tstr_accuracy(real, syn, spec)

    clinical = CLINICAL.get(spec.name)
    if clinical and clinical[0] in syn.columns and clinical[1] in syn.columns:
        d_real = _class_delta(real, *clinical)
        d_syn = _class_delta(syn, *clinical)
        out["clinical_difference"] = abs(d_syn - d_real) if np.isfinite(d_real) and np.isfinite(d_syn) else None
    for key, value in list(out.items()):
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            out.put(key, None, NOT_COMPUTABLE.get(key.split(".")[0], "not computable for this table"))
    return out


# -- the harmonic privacy-quality score (needs every run of a dataset) ---------------------------------------

# (metric key, higher is better?) of the latest definition (reference section 7.3); missing components are skipped
PRIVACY_COMPONENTS = [("paper.kanon_violation_age_gender", False), ("paper.nn_distance_ratio", True),
                      ("paper.identifiability", False)]
QUALITY_COMPONENTS = [("paper.wasserstein_minmax.age", False), ("paper.wasserstein_minmax.bmi", False),
                      ("paper.correlation_distance", False), ("paper.tstr_accuracy", True),
                      ("paper.clinical_difference", False)]
AGE_COLUMN = {"cirrhosis": "Age"}


def minmax_normalise(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """Min-max over the pool, flipped so higher is better; a constant component gets 0.5 (as in their notebook)."""
    v = pd.to_numeric(values, errors="coerce")
    lo, hi = v.min(), v.max()
    if not np.isfinite(lo) or hi == lo:
        norm = pd.Series(0.5, index=v.index).where(v.notna())
    else:
        norm = (v - lo) / (hi - lo)
    return norm if higher_is_better else 1 - norm


def harmonic_scores(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """P, Q and H = 2PQ/(P+Q) for every row (run) of ``table``, all of one dataset: the pool of the min-max.

    ``table`` has the ``paper.*`` metric columns (metrics.tsv). Returns columns paper_privacy_score,
    paper_quality_score, paper_harmonic_score (index aligned with ``table``). A run missing a component is
    averaged over the components it has (as their notebook did).
    """
    def score(components):
        parts = []
        for key, higher in components:
            key = key.replace(".age", f".{AGE_COLUMN.get(dataset, 'age')}")
            if key in table.columns and pd.to_numeric(table[key], errors="coerce").notna().any():
                parts.append(minmax_normalise(table[key], higher))
        return pd.concat(parts, axis=1).mean(axis=1) if parts else pd.Series(np.nan, index=table.index)

    p, q = score(PRIVACY_COMPONENTS), score(QUALITY_COMPONENTS)
    h = (2 * p * q / (p + q)).where((p + q) > 0, 0.0).where(p.notna() & q.notna())
    return pd.DataFrame({"paper_privacy_score": p, "paper_quality_score": q, "paper_harmonic_score": h})
