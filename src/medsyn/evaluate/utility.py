"""ML utility: train-on-synthetic / test-on-real (TSTR) against train-on-real / test-on-real (TRTR).

One classifier recipe predicts the spec's target: scikit-learn ``HistGradientBoostingClassifier`` (native
categorical support, missing values kept as NaN, ``class_weight="balanced"``, ``max_iter=100``, no early
stopping, one OpenMP thread: see ``N_THREADS``). Categorical and binary features are ordinal-coded over the spec's
levels, then any other value seen (sorted), and declared categorical to the model (so codes carry no order). It is
fitted on the synthetic table (TSTR, ``random_state=inputs.seed``) and on real train (TRTR), each subsampled
(seeded) to at most ``MAX_TRAIN_ROWS`` rows, and both are tested on the same real holdout. Rows with a missing
target are dropped.

TRTR and the encoded holdout depend on the real splits only: they are the family's ``real_part``, computed once
per dataset and split (seeded with the split's seed) and shared by every table of that dataset. A synthetic table
with a categorical value the real tables never have (impossible for tables coerced to the spec) re-encodes the
holdout so its codes stay aligned; TRTR keeps the real tables' codes.

Keys: ``tstr_roc_auc``, ``trtr_roc_auc``, ``roc_auc_gap`` (= trtr - tstr; positive = synthetic loses utility),
the same triple for ``balanced_accuracy`` and ``macro_f1`` (plain accuracy is never reported: targets are
imbalanced, SynLLM flaw 10), ``train_rows_used.tstr`` / ``train_rows_used.trtr`` (rows actually fitted on),
``test_rows``, ``n_classes`` and, for binary targets, ``positive_class``.

ROC AUC: binary targets use the probability of the positive class = the spec's SECOND level (``levels[1]``:
'1' for diabetes/stroke/pima, 'M' for breast_cancer). Multiclass targets (cirrhosis Status C/CL/D) use the
one-vs-rest macro AUC over the classes present in the holdout; a class the model never saw gets probability 0.
Macro-F1 averages over the classes present in the holdout (a class never predicted scores 0).

A degenerate training table (fewer than ``MIN_TRAIN_ROWS`` rows with a target, or a single target class) gives
None for its metrics with ``<metric>.error`` saying why; nothing raises.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score
from threadpoolctl import threadpool_limits

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.detection import min_leaf
from medsyn.evaluate.results import Metrics
from medsyn.spec import DatasetSpec

MAX_TRAIN_ROWS = 20_000
MIN_TRAIN_ROWS = 10
MAX_ITER = 100
# OpenMP threads per fit. One: evaluate jobs run side by side under Snakemake, and libgomp's spin-waiting on an
# oversubscribed CPU is catastrophic (measured on 2 busy cores, 100k diabetes: 1.8 s with 1 thread, 38 s with 2).
N_THREADS = 1
METRICS = ("roc_auc", "balanced_accuracy", "macro_f1")


class _Degenerate(Exception):
    pass


def _target(frame: pd.DataFrame, target: str) -> pd.Series:
    values = frame[target].astype(object)
    return values.where(values.notna(), None).map(lambda v: None if v is None else str(v))


def _class_order(spec: DatasetSpec, *targets: pd.Series) -> list[str]:
    """Spec level order, then any extra observed label (sorted)."""
    levels = list(spec.column(spec.target).levels)
    seen = set()
    for t in targets:
        seen.update(v for v in t.dropna().unique())
    return levels + sorted(seen - set(levels))


def _extra_levels(spec: DatasetSpec, frames: list[pd.DataFrame]) -> dict[str, list[str]]:
    """Per categorical feature: the values seen in ``frames`` that are not spec levels, sorted."""
    out = {}
    for col in spec.columns:
        if col.name == spec.target or col.is_numeric:
            continue
        extra = set()
        for f in frames:
            if col.name in f.columns:
                extra.update(str(v) for v in f[col.name].dropna().unique())
        out[col.name] = sorted(extra - set(col.levels))
    return out


class FeatureEncoder:
    """Numeric -> float64 (NaN kept); categorical -> integer codes over the spec levels, then the other values seen
    (``extra``: per column, sorted), NaN kept."""

    def __init__(self, spec: DatasetSpec, extra: dict[str, list[str]]):
        self.features = [c.name for c in spec.columns if c.name != spec.target]
        self.numeric = {c.name for c in spec.columns if c.is_numeric}
        self.codes: dict[str, dict[str, int]] = {}
        for col in spec.columns:
            if col.name == spec.target or col.is_numeric:
                continue
            levels = list(col.levels) + list(extra.get(col.name, []))
            self.codes[col.name] = {lvl: i for i, lvl in enumerate(levels)}
        self.categorical_mask = np.array([name not in self.numeric for name in self.features], dtype=bool)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for name in self.features:
            if name not in frame.columns:
                cols.append(np.full(len(frame), np.nan))
            elif name in self.numeric:
                cols.append(pd.to_numeric(frame[name], errors="coerce").astype("float64").to_numpy())
            else:
                mapping = self.codes[name]
                cols.append(
                    frame[name].map(lambda v, m=mapping: np.nan if pd.isna(v) else m.get(str(v), np.nan))
                    .astype("float64").to_numpy()
                )
        if not cols:
            return np.empty((len(frame), 0))
        return np.column_stack(cols)


def _subsample(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    if len(frame) <= MAX_TRAIN_ROWS:
        return frame
    return frame.sample(n=MAX_TRAIN_ROWS, random_state=seed)


def _fit_and_score(
    train: pd.DataFrame, y_train: pd.Series, x_test: np.ndarray, y_test: np.ndarray, enc: FeatureEncoder,
    test_classes: list[str], seed: int, label: str,
) -> dict[str, float]:
    keep = y_train.notna()
    train, y_train = train[keep], y_train[keep]
    if len(train) < MIN_TRAIN_ROWS:
        raise _Degenerate(f"{label} table has too few rows with a target ({len(train)} < {MIN_TRAIN_ROWS})")
    if y_train.nunique() < 2:
        only = y_train.iloc[0]
        raise _Degenerate(f"{label} target has a single class ('{only}')")
    x_train = enc.transform(train)
    # a feature missing in every training row carries nothing to learn (and sklearn's binning crashes on it)
    usable = ~np.all(np.isnan(x_train), axis=0)
    x_train, x_test = x_train[:, usable], x_test[:, usable]
    categorical = enc.categorical_mask[usable]
    model = HistGradientBoostingClassifier(
        # sklearn's default min_samples_leaf=20 cannot split a 20-row synthetic table: TSTR would always be 0.5
        min_samples_leaf=min_leaf(len(train)),
        max_iter=MAX_ITER,
        early_stopping=False,
        class_weight="balanced",
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )
    with warnings.catch_warnings(), threadpool_limits(limits=N_THREADS):
        warnings.simplefilter("ignore")
        model.fit(x_train, y_train.to_numpy(dtype=object))
        proba = model.predict_proba(x_test)
        pred = model.predict(x_test)
    classes = [str(c) for c in model.classes_]
    full = np.zeros((len(x_test), len(test_classes)))
    for j, c in enumerate(test_classes):
        if c in classes:
            full[:, j] = proba[:, classes.index(c)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(test_classes) == 2:
            auc = roc_auc_score(y_test == test_classes[1], full[:, 1])
        else:
            sums = full.sum(axis=1, keepdims=True)
            full = np.where(sums > 0, full / np.where(sums > 0, sums, 1), 1.0 / len(test_classes))
            # sklearn wants the labels sorted; the macro average does not depend on their order (a spec's levels
            # may be in natural order: Low, Medium, High)
            ordered = sorted(test_classes)
            cols = [test_classes.index(c) for c in ordered]
            auc = roc_auc_score(y_test, full[:, cols], multi_class="ovr", average="macro", labels=ordered)
        bal = balanced_accuracy_score(y_test, pred.astype(str))
        f1 = f1_score(y_test, pred.astype(str), labels=test_classes, average="macro", zero_division=0)
    return {"roc_auc": float(auc), "balanced_accuracy": float(bal), "macro_f1": float(f1)}


def _test_set(spec: DatasetSpec, holdout: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """(holdout rows with a target, their target, the classes present in order)."""
    y_all = _target(holdout, spec.target)
    hold, y = holdout[y_all.notna()], y_all[y_all.notna()]
    order = _class_order(spec, y)
    return hold, y, [c for c in order if c in set(y)]


def _fit_side(frame: pd.DataFrame, spec: DatasetSpec, x_test, y_test, enc, test_classes, seed: int, label: str):
    """(scores or None, error or None, rows fitted on) of one training table."""
    frame = frame.reset_index(drop=True)  # positional: a synthetic index may repeat
    y = _target(frame, spec.target)
    sub = _subsample(frame[y.notna()], seed)
    try:
        return _fit_and_score(sub, y.loc[sub.index], x_test, y_test, enc, test_classes, seed, label), None, len(sub)
    except _Degenerate as exc:
        return None, str(exc), len(sub)


def real_part(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame,
              seed: int) -> dict:
    """The test set (encoded holdout), the encoder's extra levels and the train-on-real (TRTR) scores, seeded
    with ``seed``."""
    hold, y_hold, test_classes = _test_set(spec, holdout)
    part = {"test_rows": int(len(hold)), "test_classes": test_classes,
            "extra": _extra_levels(spec, [train, holdout])}
    if len(test_classes) < 2:
        why = f"real holdout target has {len(test_classes)} class(es) among {len(hold)} rows; nothing to test on"
        return {**part, "no_test": why}
    enc = FeatureEncoder(spec, part["extra"])
    x_test = enc.transform(hold)
    y_test = y_hold.to_numpy(dtype=str)
    trtr, error, rows = _fit_side(train, spec, x_test, y_test, enc, test_classes, seed, "real train")
    return {**part, "no_test": None, "x_test": x_test,
            "y_test": np.array([test_classes.index(v) for v in y_test], dtype=np.int64),
            "trtr": trtr, "trtr_error": error, "trtr_rows": int(rows)}


def compute(inputs: EvalInputs) -> dict:
    """Flat TSTR/TRTR metrics (see the module docstring)."""
    spec = inputs.spec
    real = inputs.real_part("utility")
    out = Metrics()
    test_classes = real["test_classes"]
    out.put("test_rows", real["test_rows"])
    out.put("n_classes", len(test_classes))
    if len(spec.column(spec.target).levels) == 2:
        out.put("positive_class", spec.column(spec.target).levels[1])

    results: dict[str, dict[str, float] | None] = {}
    errors: dict[str, str] = {}
    if real["no_test"]:
        for side in ("tstr", "trtr"):
            results[side], errors[side] = None, real["no_test"]
            out.put(f"train_rows_used.{side}", 0)
    else:
        extra = _extra_levels(spec, [inputs.train, inputs.holdout, inputs.synthetic])
        enc = FeatureEncoder(spec, extra)
        x_test = real["x_test"]
        if extra != real["extra"]:  # values the real tables never have: codes move, encode the holdout again
            x_test = enc.transform(_test_set(spec, inputs.holdout)[0])
        y_test = np.array(test_classes, dtype=object)[real["y_test"]].astype(str)
        results["tstr"], error, rows = _fit_side(inputs.synthetic, spec, x_test, y_test, enc, test_classes,
                                                 inputs.seed, "synthetic")
        if error:
            errors["tstr"] = error
        out.put("train_rows_used.tstr", rows)
        results["trtr"] = real["trtr"]
        if real["trtr_error"]:
            errors["trtr"] = real["trtr_error"]
        out.put("train_rows_used.trtr", real["trtr_rows"])
    for metric in METRICS:
        for side in ("tstr", "trtr"):
            res = results.get(side)
            out.put(f"{side}_{metric}", res[metric] if res else None, errors.get(side))
        if results.get("tstr") and results.get("trtr"):
            out.put(f"{metric}_gap", results["trtr"][metric] - results["tstr"][metric])
        else:
            out.put(f"{metric}_gap", None, "; ".join(errors[s] for s in ("tstr", "trtr") if s in errors))
    return out
