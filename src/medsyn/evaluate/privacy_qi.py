"""Singling out on quasi-identifiers: does a synthetic row point at ONE real patient? (privacy family, see
``medsyn.evaluate.privacy`` for the keys and how to read them.) With a spec ``group_column`` a patient is a group:
a key is unique when one group holds it, however many of that group's rows do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.distance import unique_rows
from medsyn.evaluate.results import Metrics

QI_METRICS = (
    "qi_unique_match_share",
    "qi_unique_match_share_train_sub",
    "qi_unique_match_share_holdout",
    "qi_singled_out_train_share",
    "qi_singled_out_holdout_share",
)


def qi_codes(frames: list[pd.DataFrame], spec, train: pd.DataFrame) -> list[np.ndarray]:
    """One integer id per row of each frame: equal ids = same quasi-identifier combination.

    Numeric quasi-identifiers are cut at the train deciles (distinct edges only), missing = bin -1; categorical
    ones by spec level (missing -1, unknown -2). Ids are comparable across the given frames.
    """
    cols = []
    for name in spec.quasi_identifiers:
        col = spec.column(name)
        parts = []
        if col.is_numeric:
            tr = pd.to_numeric(train[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            tr = tr[np.isfinite(tr)]
            edges = np.unique(np.quantile(tr, np.arange(1, 10) / 10)) if len(tr) else np.zeros(0)
            for f in frames:
                v = pd.to_numeric(f[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                b = np.searchsorted(edges, v, side="right").astype(np.int64)
                parts.append(np.where(np.isfinite(v), b, -1))
        else:
            for f in frames:
                s = f[name].astype(object)
                codes = pd.Categorical(s.where(s.notna(), None), categories=list(col.levels)).codes.astype(np.int64)
                parts.append(np.where(s.isna().to_numpy(dtype=bool), -1, np.where(codes < 0, -2, codes)))
        cols.append(np.concatenate(parts))
    sizes = [len(f) for f in frames]
    _, ids = unique_rows(np.stack(cols, axis=1))
    return np.split(ids, np.cumsum(sizes)[:-1])


def key_counts(qi: np.ndarray, groups: np.ndarray | None, n_ids: int) -> np.ndarray:
    """Per quasi-identifier key: how many real patients have it: rows, or with groups the distinct groups (the
    visits of one patient sharing a key are one patient, so the key still singles them out)."""
    if groups is None:
        return np.bincount(qi, minlength=n_ids)
    pairs = np.unique(np.stack([qi, groups], axis=1), axis=0)
    return np.bincount(pairs[:, 0], minlength=n_ids)


def qi_metrics(out: Metrics, spec, syn: pd.DataFrame, train: pd.DataFrame, hold: pd.DataFrame | None,
               tr_sub: np.ndarray | None, ho_sub: np.ndarray | None, g_tr: np.ndarray | None = None,
               g_ho: np.ndarray | None = None) -> None:
    """The ``QI_METRICS`` into ``out``; the pair needs the holdout and the equal-sized subsamples of both sets.
    ``g_tr`` / ``g_ho``: each train / holdout row's group code (None: every row is its own patient)."""
    if not spec.quasi_identifiers:
        out.fail(QI_METRICS, "the dataset spec lists no quasi_identifiers")
        return
    frames = [syn, train] + ([hold] if hold is not None else [])
    ids = qi_codes(frames, spec, train)
    n_ids = int(max(i.max() for i in ids if len(i)) + 1)
    qi_sy, qi_tr = ids[0], ids[1]
    out.put("qi_unique_match_share", float(np.mean(key_counts(qi_tr, g_tr, n_ids)[qi_sy] == 1)))
    if hold is None:
        return
    qi_ho = ids[2]
    sub_counts = key_counts(qi_tr[tr_sub], None if g_tr is None else g_tr[tr_sub], n_ids)
    ho_counts = key_counts(qi_ho[ho_sub], None if g_ho is None else g_ho[ho_sub], n_ids)
    out.put("qi_unique_match_share_train_sub", float(np.mean(sub_counts[qi_sy] == 1)))
    out.put("qi_unique_match_share_holdout", float(np.mean(ho_counts[qi_sy] == 1)))
    # patient view: of the real patients unique on their QIs, the share some synthetic row singles out
    in_syn = np.bincount(qi_sy, minlength=n_ids) > 0
    for key, counts in (("qi_singled_out_train_share", sub_counts), ("qi_singled_out_holdout_share", ho_counts)):
        unique_combos = counts == 1
        n_unique = int(unique_combos.sum())
        if n_unique:
            out.put(key, float((unique_combos & in_syn).sum() / n_unique))
        else:
            out.put(key, None, "no real row is unique on the quasi-identifiers")
