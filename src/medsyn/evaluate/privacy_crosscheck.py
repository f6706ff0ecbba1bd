"""SDMetrics' own privacy definitions beside ours: DCROverfittingProtection's "closer to training" share and
NewRowSynthesis, computed exactly as sdmetrics 0.32.0 defines them, vectorised.

Why not call sdmetrics per table: its DCR is a chunked all-pairs pandas join and NewRowSynthesis runs one
``DataFrame.query`` per synthetic row (each parsed anew), together ~2-5 s for a 100-row table against the diabetes
splits, far more than the rest of the evaluation. tests/test_eval_privacy.py checks that both functions here
give sdmetrics' values on real tables, ties and missing values included, so the keys keep their meaning:

- ``sdmetrics_dcr_closer_to_training``: share of synthetic rows whose SDMetrics DCR to the train sample is
  STRICTLY smaller than to the holdout sample. SDMetrics distance = mean over columns of: numeric
  min(|a - b| / range, 1) with the range of the call's reference table (0 range: 0 if equal else 1), categorical
  0/1; missing vs value 1, both missing 0.
- ``sdmetrics_new_row_share``: share of synthetic rows with no train row matching it in every column: categorical
  equal, numeric |real - v| <= |0.01 v|, missing matches missing (against the FULL train table).

Rows: at most 500 synthetic rows against at most 2,000 train and 2,000 holdout rows for the DCR, seeded
(``sdmetrics_rows_*`` record them); as SDMetrics means them, its share is not corrected for the size of the two
real sets, so a train larger than the holdout is closer by chance (unseen pima rows: 0.85): read it against the
holdout baseline. Row-level as SDMetrics defines it, also with a spec ``group_column`` (no group view).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.evaluate import EvalInputs
from medsyn.distance import unique_rows
from medsyn.evaluate.encoding import to_sdmetrics_frame
from medsyn.evaluate.results import Metrics

CROSSCHECK_SYNTHETIC_ROWS = 500
CROSSCHECK_REAL_ROWS = 2000
NEW_ROW_TOLERANCE = 0.01
KEYS = ("sdmetrics_dcr_closer_to_training", "sdmetrics_new_row_share")


def sdmetrics_dcr(data: pd.DataFrame, reference: pd.DataFrame, spec) -> np.ndarray:
    """SDMetrics' ``calculate_dcr(data, reference)``: each data row's smallest distance to a reference row."""
    n, m = len(data), len(reference)
    total = np.zeros((n, m))
    for col in spec.columns:
        if col.is_numeric:
            a, b = data[col.name].to_numpy(dtype=float), reference[col.name].to_numpy(dtype=float)
            a_na, b_na = np.isnan(a), np.isnan(b)
            spread = np.nanmax(b) - np.nanmin(b) if (~b_na).any() else np.nan
            diff = np.abs(b[None, :] - a[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                d = (diff > 0).astype(float) if spread == 0 else np.minimum(diff / spread, 1.0)
            d[a_na[:, None] != b_na[None, :]] = 1.0  # missing vs value
            d[a_na[:, None] & b_na[None, :]] = 0.0  # both missing
        else:  # equal text (missing = code -1, equal to missing only) -> 0, else 1
            codes, _ = pd.factorize(pd.concat([data[col.name], reference[col.name]], ignore_index=True).astype(object))
            d = (codes[:n, None] != codes[None, n:]).astype(float)
        total += d
    return (total / len(spec.columns)).min(axis=1)


def new_row_share(real: pd.DataFrame, synthetic: pd.DataFrame, spec, tolerance: float = NEW_ROW_TOLERANCE) -> float:
    """SDMetrics' NewRowSynthesis score: share of synthetic rows that no real row matches (module docstring)."""
    num = [c.name for c in spec.columns if c.is_numeric]
    cat = [c.name for c in spec.columns if not c.is_numeric]
    both = pd.concat([real[num + cat], synthetic[num + cat]], ignore_index=True)
    # the exact part of a match: categorical values and where the numeric values are missing
    exact = [pd.factorize(both[c].astype(object), use_na_sentinel=False)[0] for c in cat]
    exact += [both[c].isna().to_numpy().astype(np.int64) for c in num]
    _, key = unique_rows(np.stack(exact, axis=1)) if exact else (None, np.zeros(len(both), dtype=np.int64))
    key_r, key_s = key[: len(real)], key[len(real):]
    values = both[num].to_numpy(dtype=float)
    val_r, val_s = values[: len(real)], values[len(real):]
    order = np.argsort(key_r, kind="stable")
    starts = np.searchsorted(key_r[order], key_s, side="left")
    ends = np.searchsorted(key_r[order], key_s, side="right")
    new = 0
    for i in range(len(synthetic)):
        cand = val_r[order[starts[i]:ends[i]]]
        v = val_s[i]
        present = ~np.isnan(v)
        ok = np.abs(cand[:, present] - v[present]) <= np.abs(tolerance * v[present])
        if not (len(cand) and ok.all(axis=1).any()):
            new += 1
    return new / len(synthetic)


def samples(inputs: EvalInputs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The seeded synthetic, train and holdout samples of the DCR cross-check, as sdmetrics frames."""
    rng = np.random.default_rng(inputs.seed)

    def sample(frame, cap):
        take = np.sort(rng.choice(len(frame), min(cap, len(frame)), replace=False))
        return to_sdmetrics_frame(frame.iloc[take], inputs.spec).reset_index(drop=True)

    syn_s = sample(inputs.synthetic, CROSSCHECK_SYNTHETIC_ROWS)
    return syn_s, sample(inputs.train, CROSSCHECK_REAL_ROWS), sample(inputs.holdout, CROSSCHECK_REAL_ROWS)


def compute(inputs: EvalInputs) -> Metrics:
    out = Metrics()
    syn, train, hold = inputs.synthetic, inputs.train, inputs.holdout
    if len(syn) == 0 or len(hold) == 0 or len(train) < 2:
        out.fail(KEYS, "needs synthetic, train and holdout rows")
        return out
    syn_s, tr_s, ho_s = samples(inputs)
    out.put("sdmetrics_rows_synthetic", len(syn_s))
    out.put("sdmetrics_rows_real", len(tr_s))
    closer = sdmetrics_dcr(syn_s, tr_s, inputs.spec) < sdmetrics_dcr(syn_s, ho_s, inputs.spec)
    out.put("sdmetrics_dcr_closer_to_training", float(closer.sum() / len(closer)))
    out.put("sdmetrics_new_row_share", new_row_share(to_sdmetrics_frame(train, inputs.spec), syn_s, inputs.spec))
    return out
