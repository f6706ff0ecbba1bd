"""Detection: can a classifier tell synthetic rows from real ones (evaluation-reference.md section 2.4)?

A gradient-boosting classifier (scikit-learn ``HistGradientBoostingClassifier``) separates real rows from synthetic
rows, cross-validated; its ROC AUC is 0.5 when it cannot. Also home of ``min_leaf``, the leaf size rule the
utility family's classifiers share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, cross_val_score
from threadpoolctl import threadpool_limits

from medsyn.evaluate.results import guard
from medsyn.spec import DatasetSpec

DETECTION_MAX_ROWS = 20_000  # per class
DETECTION_FOLDS = 3
# OpenMP threads for the detection classifier. One thread: measured on 2 busy cores, a 2-thread fit of 40k rows took
# 8-40 s (spin-waiting when the cores are shared, e.g. parallel workflow jobs) against 0.9 s single-threaded.
DETECTION_THREADS = 1


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


def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame, spec: DatasetSpec, seed: int):
    """(mean CV ROC AUC, rows per class, error) of a gradient-boosting real-vs-synthetic classifier; both classes are
    seeded subsamples of the same size (at most ``DETECTION_MAX_ROWS``).

    Identical rows (after encoding) are kept in the same fold. Without that, a synthetic copy of a real row sits in
    the training folds with the opposite label whenever its twin is tested, and the classifier "anti-learns": an
    exact copy of the train table scored AUC 0.07 with plain stratified folds on cirrhosis, instead of 0.5.
    Near-copies (train rows with a few columns changed) still anti-learn: an AUC clearly BELOW the holdout
    reference's means synthetic rows are paired with train rows, not that they are "more real than real".
    """
    n = min(len(real), len(synthetic), DETECTION_MAX_ROWS)
    if n < DETECTION_FOLDS:
        return None, n, f"needs at least {DETECTION_FOLDS} rows in each table, has {n}"
    rng = np.random.default_rng(seed)
    real_part = real.iloc[np.sort(rng.choice(len(real), n, replace=False))]
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
        auc, err = guard(lambda: float(np.mean(
            cross_val_score(clf, X, y, groups=groups, cv=cv, scoring="roc_auc", error_score="raise"))))
    return auc, n, err
