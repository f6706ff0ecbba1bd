"""Privacy family: is the synthetic table a leak of the TRAIN rows (the rows a generator saw)?

Every metric compares the synthetic rows with real rows, never the synthetic table with itself (SynLLM flaw 3:
k-anonymity or NN ratios on synthetic data alone reward collapse), and every distance metric has a real
counterpart: train (members, seen) against holdout (non-members, never seen). Distances are the Gower-style L1 of
``medsyn.evaluate.distance`` (mean over columns, each in [0, 1], scaled once by the train range). Read every
number against the ``holdout`` baseline (unseen real rows) and the ``bootstrap`` baseline (copies of train).

Keys (all floats in [0, 1] unless noted):

* ``exact_copy_train_share`` / ``exact_copy_holdout_share`` / ``exact_copy_examples_share``: share of synthetic
  rows whose full row equals (``row_keys`` equality: spec formatting, computed by ``row_ids``) some row of the FULL
  train / holdout / prompt-example table (no examples -> 0.0). Real tables contain duplicates, so unseen real
  rows score above 0 too. ``exact_copy_real_share``: the same against every real row (train, holdout and
  reference together): the copy rate of real patients, wherever the generator saw them.
* ``dcr_train_median`` / ``dcr_holdout_median``: median distance of a synthetic row to its nearest train /
  holdout row (full tables).
* ``dcr_closer_to_train_share``: share of synthetic rows strictly closer to train than to holdout, an exact tie
  counting 0.5. The two real sets must have the SAME size: the nearest of more points is closer by chance, so
  the larger set (train) is replaced by a random subsample of the smaller one's size (seeded with
  ``inputs.seed``). Ties count 0.5 because with identical distributions a tie (typically a synthetic row that
  duplicates rows present in both sets, distance 0) is equally likely either way, so fresh rows give ~0.5; a
  strict ``<`` (as SDMetrics) pushes them below 0.5 and hides copies of duplicated rows. Ideal ~0.5. Ceiling: a
  copy of train only counts as closer when its source row is in the subsample, so pure copies reach
  0.5 + 0.5 * n_holdout / n_train (~0.71 with the 60/25 split), not 1.0.
* ``dcr_closer_to_train_share_size_adjusted``: the same question on the FULL train, corrected for size instead
  of subsampling. With p = share of synthetic rows whose nearest real row (train + holdout pooled) is a train row
  (a tie at distance 0 counts as the fraction of the identical real rows that are in train, any other tie as
  pi), and pi = n_train / (n_train + n_holdout) the value p takes for rows that never saw train, it is
  p(1-pi) / (p(1-pi) + (1-p)pi): 0.5 for unseen rows, 1.0 for pure copies of train.
* ``sdmetrics_dcr_closer_to_training`` / ``sdmetrics_new_row_share``: SDMetrics' DCROverfittingProtection
  ("closer to training" percentage) and NewRowSynthesis on a seeded subsample, as a cross-check (see
  ``sdmetrics_crosscheck``).
* ``nndr_median``: median of (distance to nearest train row) / (distance to 2nd nearest), 0 when the nearest
  is an exact copy (0/0 = 0). Small = a near-copy of one record rather than a point among many.
* ``near_copy_share``: share of synthetic rows whose train DCR is <= the 5th percentile of the holdout-to-train
  DCR distribution (``near_copy_threshold``; a threshold taken from real data). Unseen rows give ~0.05 (more when
  >5% of holdout rows duplicate train rows: the threshold is then 0 and "<=" counts exact matches).
* ``mia_auc``: distance membership inference. Members = a seeded sample of train rows, non-members = holdout rows,
  the same count of each (the smaller set's size); attack score = -(distance to the nearest synthetic row); ROC
  AUC. 0.5 = no leak, ~1 = copies. ``mia_tpr_at_fpr_0.1`` / ``mia_tpr_at_fpr_0.01``: the attack's true-positive
  rate at a 10% / 1% false-positive rate (ROC interpolated; no leak = 0.1 / 0.01).
* ``qi_unique_match_share``: singling out. Quasi-identifiers (``spec.quasi_identifiers``; numeric ones binned
  into train-decile bins, missing = its own bin) form a key; share of synthetic rows whose key matches exactly
  ONE full-train row, i.e. a synthetic row that points at a single real patient. ``qi_unique_match_share_train_sub``
  and ``qi_unique_match_share_holdout``: the same against the equal-sized train subsample and the holdout, the
  fair pair (same size, only one of them seen): a generator that learned individual train patients scores
  higher on the first. Unseen real rows (the ``holdout`` baseline) give the natural level of all three. Note that
  matching a train-unique key is not by itself evidence of copying: an unseen real row hits one about as often.
* ``qi_singled_out_train_share`` / ``qi_singled_out_holdout_share``: the patient view of the same pair. Of the
  rows of the train subsample (resp. holdout) that are unique on their key within that set, the share whose key
  occurs in the synthetic table. Normalising by the number of unique patients removes the chance difference in
  how many unique keys each set has; with no leak the two are equal in expectation, copies raise the first.
  With few unique patients (small tables) both are noisy: read against the ``holdout`` baseline.
  All QI metrics are None with an error when the spec lists no quasi-identifiers.
* ``near_copy_threshold``, ``n_synthetic``, ``n_train``, ``n_holdout``, ``n_compare`` (size of the equal-sized
  sets used by the DCR share, the MIA and the QI pair).

An empty synthetic table gives None for every metric with ``"<metric>.error": "no synthetic rows"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.distance import unique_rows, categorical_slice, encode, nearest
from medsyn.spec import MISSING_TEXT

METRICS = (
    "exact_copy_train_share",
    "exact_copy_holdout_share",
    "exact_copy_examples_share",
    "exact_copy_real_share",
    "dcr_train_median",
    "dcr_holdout_median",
    "dcr_closer_to_train_share",
    "dcr_closer_to_train_share_size_adjusted",
    "nndr_median",
    "near_copy_share",
    "near_copy_threshold",
    "mia_auc",
    "mia_tpr_at_fpr_0.1",
    "mia_tpr_at_fpr_0.01",
    "qi_unique_match_share",
    "qi_unique_match_share_train_sub",
    "qi_unique_match_share_holdout",
    "qi_singled_out_train_share",
    "qi_singled_out_holdout_share",
)
HOLDOUT_METRICS = (
    "exact_copy_holdout_share",
    "dcr_holdout_median",
    "dcr_closer_to_train_share",
    "dcr_closer_to_train_share_size_adjusted",
    "near_copy_share",
    "near_copy_threshold",
    "mia_auc",
    "mia_tpr_at_fpr_0.1",
    "mia_tpr_at_fpr_0.01",
    "qi_unique_match_share_train_sub",
    "qi_unique_match_share_holdout",
    "qi_singled_out_train_share",
    "qi_singled_out_holdout_share",
)
QI_METRICS = (
    "qi_unique_match_share",
    "qi_unique_match_share_train_sub",
    "qi_unique_match_share_holdout",
    "qi_singled_out_train_share",
    "qi_singled_out_holdout_share",
)
NEAR_COPY_QUANTILE = 0.05


def _fail(out: dict, names, why: str) -> None:
    for name in names:
        out[name] = None
        out[f"{name}.error"] = why


def row_ids(frames: list[pd.DataFrame], spec) -> list[np.ndarray]:
    """One integer id per row of each frame; equal ids <=> equal ``row_keys`` (same canonical text in every column).

    The same equality as ``encoding.row_keys``, but each column's distinct values are formatted once
    (``Column.format_value``, missing = "NA") instead of once per row, so it stays fast on 100k-row tables.
    """
    sizes = [len(f) for f in frames]
    codes = []
    for col in spec.columns:
        values = pd.concat([f[col.name].astype(object) for f in frames], ignore_index=True)
        raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
        text = np.array([col.format_value(v) for v in uniques] + [MISSING_TEXT], dtype=object)
        text_codes, _ = pd.factorize(text)
        codes.append(text_codes[raw_codes])  # raw code -1 (missing) picks the appended "NA"
    if not codes:
        return [np.zeros(n, dtype=np.int64) for n in sizes]
    _, ids = unique_rows(np.stack(codes, axis=1))
    return np.split(ids, np.cumsum(sizes)[:-1])


def _copy_share(syn_ids: np.ndarray, other_ids: np.ndarray) -> float:
    if len(other_ids) == 0:
        return 0.0
    return float(np.isin(syn_ids, other_ids).mean())


def _tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """TPR of the (linearly interpolated) ROC curve at FPR = target."""
    i = int(np.searchsorted(fpr, target, side="right")) - 1  # last vertex with fpr <= target (highest tpr there)
    if i + 1 >= len(fpr) or fpr[i] == target:
        return float(tpr[i])
    w = (target - fpr[i]) / (fpr[i + 1] - fpr[i])
    return float(tpr[i] + w * (tpr[i + 1] - tpr[i]))


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


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    syn, train, hold = inputs.synthetic, inputs.train, inputs.holdout
    out: dict = {"n_synthetic": int(len(syn)), "n_train": int(len(train)), "n_holdout": int(len(hold))}
    if len(syn) == 0:
        _fail(out, METRICS, "no synthetic rows")
        return out
    if len(train) < 2:
        _fail(out, METRICS, f"needs at least 2 train rows, got {len(train)}")
        return out
    has_hold = len(hold) > 0
    rng = np.random.default_rng(inputs.seed)

    # --- exact copies (against the full tables) ---------------------------------------------------------------
    examples = inputs.examples
    lacking = [c for c in spec.column_names if c not in examples.columns] if len(examples) else []
    if lacking or len(examples) == 0:
        examples = syn.iloc[:0]
    ref = inputs.reference if len(inputs.reference) else syn.iloc[:0]
    id_sy, id_tr, id_ho, id_ex, id_ref = row_ids(
        [syn, train, hold if has_hold else syn.iloc[:0], examples, ref], spec
    )
    out["exact_copy_train_share"] = _copy_share(id_sy, id_tr)
    # any real patient (train, holdout or reference): imported runs may copy examples taken from any split
    out["exact_copy_real_share"] = _copy_share(id_sy, np.concatenate([id_tr, id_ho, id_ref]))
    if lacking:
        _fail(out, ["exact_copy_examples_share"], f"the prompt-example table lacks columns {lacking}")
    else:
        out["exact_copy_examples_share"] = _copy_share(id_sy, id_ex)
    if has_hold:
        out["exact_copy_holdout_share"] = _copy_share(id_sy, id_ho)

    # --- distances ----------------------------------------------------------------------------------------------
    group = categorical_slice(spec)
    e_tr, e_sy = encode(train, spec, train), encode(syn, spec, train)
    d2, _ = nearest(e_sy, e_tr, k=2, group=group)
    dcr_tr = d2[:, 0]
    out["dcr_train_median"] = float(np.median(dcr_tr))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(dcr_tr == 0, 0.0, dcr_tr / d2[:, 1])
    out["nndr_median"] = float(np.median(ratio))

    if has_hold:
        n_tr, n_ho = len(train), len(hold)
        e_ho = encode(hold, spec, train)
        dcr_ho = nearest(e_sy, e_ho, k=1, group=group)[0][:, 0]
        out["dcr_holdout_median"] = float(np.median(dcr_ho))

        # equal-sized comparison sets (the larger one subsampled), shared by the DCR share, MIA and QI pair
        n_cmp = min(n_tr, n_ho)
        out["n_compare"] = int(n_cmp)
        tr_sub = np.sort(rng.choice(n_tr, n_cmp, replace=False)) if n_tr > n_cmp else np.arange(n_tr)
        ho_sub = np.sort(rng.choice(n_ho, n_cmp, replace=False)) if n_ho > n_cmp else np.arange(n_ho)
        d_a = nearest(e_sy, e_tr[tr_sub], k=1, group=group)[0][:, 0] if n_tr > n_cmp else dcr_tr
        d_b = nearest(e_sy, e_ho[ho_sub], k=1, group=group)[0][:, 0] if n_ho > n_cmp else dcr_ho
        out["dcr_closer_to_train_share"] = float(np.mean(d_a < d_b) + 0.5 * np.mean(d_a == d_b))

        # size-adjusted share on the full sets
        pi = n_tr / (n_tr + n_ho)
        _, enc_ids = unique_rows(np.concatenate([e_sy, e_tr, e_ho]))  # identical encoded rows
        enc_sy, enc_tr, enc_ho = np.split(enc_ids, [len(e_sy), len(e_sy) + n_tr])
        c_tr = np.bincount(enc_tr, minlength=enc_ids.max() + 1)[enc_sy]
        c_ho = np.bincount(enc_ho, minlength=enc_ids.max() + 1)[enc_sy]
        tie = dcr_tr == dcr_ho
        zero_tie = tie & (dcr_tr == 0) & (c_tr + c_ho > 0)
        frac = np.where(zero_tie, c_tr / np.maximum(c_tr + c_ho, 1), pi)
        p = float(np.mean(np.where(tie, frac, (dcr_tr < dcr_ho).astype(float))))
        num = p * (1 - pi)
        den = num + (1 - p) * pi
        out["dcr_closer_to_train_share_size_adjusted"] = float(num / den) if den > 0 else 0.5

        # near copies: threshold from the holdout-to-train DCR distribution
        ho_tr = nearest(e_ho, e_tr, k=1, group=group)[0][:, 0]
        thr = float(np.quantile(ho_tr, NEAR_COPY_QUANTILE))
        out["near_copy_threshold"] = thr
        out["near_copy_share"] = float(np.mean(dcr_tr <= thr))

        # membership inference: equal numbers of members (train) and non-members (holdout)
        from sklearn.metrics import roc_auc_score, roc_curve

        cand = np.concatenate([e_tr[tr_sub], e_ho[ho_sub]])
        labels = np.concatenate([np.ones(n_cmp), np.zeros(n_cmp)])
        score = -nearest(cand, e_sy, k=1, group=group)[0][:, 0]
        out["mia_auc"] = float(roc_auc_score(labels, score))
        fpr, tpr, _ = roc_curve(labels, score)
        out["mia_tpr_at_fpr_0.1"] = _tpr_at_fpr(fpr, tpr, 0.1)
        out["mia_tpr_at_fpr_0.01"] = _tpr_at_fpr(fpr, tpr, 0.01)
    else:
        _fail(out, HOLDOUT_METRICS, "no holdout rows")

    # --- singling out on quasi-identifiers (against real rows) ----------------------------------------------------
    if not spec.quasi_identifiers:
        _fail(out, QI_METRICS, "the dataset spec lists no quasi_identifiers")
    else:
        frames = [syn, train] + ([hold] if has_hold else [])
        ids = qi_codes(frames, spec, train)
        n_ids = int(max(i.max() for i in ids if len(i)) + 1)
        qi_sy, qi_tr = ids[0], ids[1]
        out["qi_unique_match_share"] = float(np.mean(np.bincount(qi_tr, minlength=n_ids)[qi_sy] == 1))
        if has_hold:
            qi_ho = ids[2]
            sub_counts = np.bincount(qi_tr[tr_sub], minlength=n_ids)
            ho_counts = np.bincount(qi_ho[ho_sub], minlength=n_ids)
            out["qi_unique_match_share_train_sub"] = float(np.mean(sub_counts[qi_sy] == 1))
            out["qi_unique_match_share_holdout"] = float(np.mean(ho_counts[qi_sy] == 1))
            # patient view: of the real patients unique on their QIs, the share some synthetic row singles out
            in_syn = np.bincount(qi_sy, minlength=n_ids) > 0
            pairs = (("qi_singled_out_train_share", sub_counts), ("qi_singled_out_holdout_share", ho_counts))
            for key, counts in pairs:
                unique_combos = counts == 1
                n_unique = int(unique_combos.sum())
                if n_unique:
                    out[key] = float((unique_combos & in_syn).sum() / n_unique)
                else:
                    _fail(out, [key], "no real row is unique on the quasi-identifiers")
    out.update(sdmetrics_crosscheck(inputs))
    return out


CROSSCHECK_SYNTHETIC_ROWS = 500
CROSSCHECK_REAL_ROWS = 2000


def sdmetrics_crosscheck(inputs: EvalInputs) -> dict:
    """SDMetrics' own DCROverfittingProtection and NewRowSynthesis on a seeded subsample, beside ours.

    Ours are the headline numbers: SDMetrics' DCR is a chunked all-pairs join (seconds for 500 x 5k rows, far
    beyond the 60 s budget at 100k), it scales each call by its own reference table, and it counts ties as
    "closer to holdout". The cross-check keeps us honest about agreeing with the reference library: at most
    500 synthetic rows against at most 2,000 train and 2,000 holdout rows (``sdmetrics_rows_*`` records them).
    """
    from sdmetrics.single_table import DCROverfittingProtection, NewRowSynthesis

    from medsyn.evaluate.encoding import sdmetrics_metadata, to_sdmetrics_frame

    out: dict = {}
    keys = ("sdmetrics_dcr_closer_to_training", "sdmetrics_new_row_share")
    syn, train, hold = inputs.synthetic, inputs.train, inputs.holdout
    if len(syn) == 0 or len(hold) == 0 or len(train) < 2:
        _fail(out, keys, "needs synthetic, train and holdout rows")
        return out
    rng = np.random.default_rng(inputs.seed)

    def sample(frame, cap):
        take = np.sort(rng.choice(len(frame), min(cap, len(frame)), replace=False))
        return to_sdmetrics_frame(frame.iloc[take], inputs.spec).reset_index(drop=True)

    # Tables as SDMetrics means them (only capped): its share is not corrected for size, so a train larger than
    # the holdout is closer by chance (unseen pima rows: 0.85); read it against the holdout baseline. Subsampling
    # train to the holdout's size instead would let pure copies of train score only ~0.7.
    syn_s = sample(syn, CROSSCHECK_SYNTHETIC_ROWS)
    tr_s, ho_s = sample(train, CROSSCHECK_REAL_ROWS), sample(hold, CROSSCHECK_REAL_ROWS)
    out["sdmetrics_rows_synthetic"], out["sdmetrics_rows_real"] = len(syn_s), len(tr_s)
    meta = sdmetrics_metadata(inputs.spec)
    state = np.random.get_state()
    np.random.seed(inputs.seed % (2**32))  # SDMetrics draws from the global NumPy RNG
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            breakdown = DCROverfittingProtection.compute_breakdown(tr_s, syn_s, ho_s, meta, None)
            out["sdmetrics_dcr_closer_to_training"] = breakdown["synthetic_data_percentages"]["closer_to_training"]
            out["sdmetrics_new_row_share"] = NewRowSynthesis.compute(
                to_sdmetrics_frame(train, inputs.spec), syn_s, meta, numerical_match_tolerance=0.01
            )
    except Exception as exc:  # noqa: BLE001 - a failing cross-check is recorded, never fatal
        _fail(out, keys, f"sdmetrics failed: {type(exc).__name__}: {exc}")
    finally:
        np.random.set_state(state)
    return out
