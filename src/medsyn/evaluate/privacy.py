"""Privacy family: is the synthetic table a leak of the TRAIN rows (the rows a generator saw)?

Every metric compares the synthetic rows with real rows, never the synthetic table with itself (SynLLM flaw 3:
k-anonymity or NN ratios on synthetic data alone reward collapse), and every distance metric has a real
counterpart: train (members, seen) against holdout (non-members, never seen). Distances are the Gower-style L1 of
``medsyn.distance`` (mean over columns, each in [0, 1], scaled once by the train range). Read every
number against the ``holdout`` baseline (unseen real rows) and the ``bootstrap`` baseline (copies of train).

Groups: when the spec names a ``group_column`` (rows of one patient: paired eyes, visits), the split keeps every
patient on one side and ``inputs.groups`` gives each real row's group; a MEMBER is then a group, not a row. The
membership attack scores groups, the equal-size comparison sets are equal numbers of whole groups, quasi-identifier
uniqueness counts groups and the intervals cluster synthetic rows by the group of their nearest real row (each
key below says how). Per-synthetic-row metrics (copy shares, DCR medians, NNDR, near copies, the size-adjusted
share on the full sets) are unchanged. Without a group column every row is its own member.

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
  ``inputs.seed``); with groups, of the smaller one's number of groups, drawn whole (the row counts then match
  in expectation: the split assigns groups at random). Ties count 0.5 because with identical distributions a tie
  (typically a synthetic row that duplicates rows present in both sets, distance 0) is equally likely either way,
  so fresh rows give ~0.5; a strict ``<`` (as SDMetrics) pushes them below 0.5 and hides copies of duplicated
  rows. Ideal ~0.5. Ceiling: a copy of train only counts as closer when its source row is in the subsample, so
  pure copies reach 0.5 + 0.5 * n_holdout / n_train (~0.71 with the 60/25 split), not 1.0.
* ``dcr_closer_to_train_share_size_adjusted``: the same question on the FULL train, corrected for size instead
  of subsampling. With p = share of synthetic rows whose nearest real row (train + holdout pooled) is a train row
  (a tie at distance 0 counts as the fraction of the identical real rows that are in train, any other tie as
  pi), and pi = n_train / (n_train + n_holdout) the value p takes for rows that never saw train, it is
  p(1-pi) / (p(1-pi) + (1-p)pi): 0.5 for unseen rows, 1.0 for pure copies of train.
* ``sdmetrics_dcr_closer_to_training`` / ``sdmetrics_new_row_share``: SDMetrics' DCROverfittingProtection
  ("closer to training" percentage) and NewRowSynthesis definitions on a seeded subsample, as a cross-check
  (``medsyn.evaluate.privacy_crosscheck``).
* ``nndr_median``: median of (distance to nearest train row) / (distance to 2nd nearest), 0 when the nearest
  is an exact copy (0/0 = 0). Small = a near-copy of one record rather than a point among many.
* ``near_copy_share``: share of synthetic rows whose train DCR is <= the 5th percentile of the holdout-to-train
  DCR distribution (``near_copy_threshold``; a threshold taken from real data). Unseen rows give ~0.05 (more when
  >5% of holdout rows duplicate train rows: the threshold is then 0 and "<=" counts exact matches).
* ``mia_auc``: distance membership inference. Members = a seeded sample of train rows, non-members = holdout rows,
  the same count of each (the smaller set's size); attack score = -(distance to the nearest synthetic row); ROC
  AUC. 0.5 = no leak, ~1 = copies. With groups: members = train groups, non-members = holdout groups (the
  ``n_compare`` groups of the comparison sets, each with all its rows), a group's score = the max over its rows
  (the attacker's best evidence on that patient: copying one of a patient's eyes exposes the patient).
  ``mia_tpr_at_fpr_0.1`` / ``mia_tpr_at_fpr_0.01``: the attack's true-positive rate at a 10% / 1% false-positive
  rate (ROC interpolated; no leak = 0.1 / 0.01).
* ``qi_unique_match_share``: singling out. Quasi-identifiers (``spec.quasi_identifiers``; numeric ones binned
  into train-decile bins, missing = its own bin) form a key; share of synthetic rows whose key matches exactly
  ONE full-train row, i.e. a synthetic row that points at a single real patient (with groups: rows of ONE train
  group, however many). ``qi_unique_match_share_train_sub`` and ``qi_unique_match_share_holdout``: the same
  against the equal-sized train subsample and the holdout, the fair pair (same size, only one of them seen): a
  generator that learned individual train patients scores higher on the first. Unseen real rows (the ``holdout``
  baseline) give the natural level of all three. Note that matching a train-unique key is not by itself evidence
  of copying: an unseen real row hits one about as often.
* ``qi_singled_out_train_share`` / ``qi_singled_out_holdout_share``: the patient view of the same pair. Of the
  rows of the train subsample (resp. holdout) that are unique on their key within that set, the share whose key
  occurs in the synthetic table (with groups: keys held by one group of the set). Normalising by the number of
  unique patients removes the chance difference in how many unique keys each set has; with no leak the two are
  equal in expectation, copies raise the first. With few unique patients (small tables) both are noisy: read
  against the ``holdout`` baseline.
  All QI metrics are None with an error when the spec lists no quasi-identifiers.
* ``near_copy_threshold``, ``n_synthetic``, ``n_train``, ``n_holdout``, ``n_compare`` (size of the equal-sized
  sets used by the DCR share, the MIA and the QI pair: rows, or with groups the groups in each);
  ``n_train_groups`` / ``n_holdout_groups`` (with groups only).
* 95% intervals (``medsyn.evaluate.privacy_intervals``): ``<share>_ci95_low`` / ``_ci95_high`` for the four
  exact-copy shares, the near-copy share and both DCR shares (Wilson at the effective number of rows: synthetic
  rows clustered by their nearest real row, or its group), ``mia_auc_ci95_low`` / ``_high`` (DeLong, over the
  candidates: rows or groups); ``n_effective`` (Kish's effective number of synthetic rows) and ``n_clusters``
  (distinct nearest real rows, or their groups).
  The release gate decides on the upper bounds of the DCR share and the MIA AUC.

An empty synthetic table gives None for every metric with ``"<metric>.error": "no synthetic rows"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from medsyn.evaluate import EvalInputs, privacy_crosscheck
from medsyn.distance import Base, categorical_slice, encode, nearest
from medsyn.evaluate.encoding import row_ids
from medsyn.evaluate.privacy_intervals import auc_interval, effective_size, share_interval
from medsyn.evaluate.privacy_qi import QI_METRICS, qi_metrics
from medsyn.evaluate.results import Metrics
from medsyn.spec import DatasetSpec

COPY_SHARES = ("exact_copy_train_share", "exact_copy_holdout_share", "exact_copy_examples_share",
               "exact_copy_real_share")
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
) + QI_METRICS[1:]
INTERVALS = COPY_SHARES + ("near_copy_share", "dcr_closer_to_train_share", "dcr_closer_to_train_share_size_adjusted",
                           "mia_auc")
METRICS = ("exact_copy_train_share", "exact_copy_examples_share", "exact_copy_real_share", "dcr_train_median",
           "nndr_median", "n_effective", "n_clusters") + HOLDOUT_METRICS + QI_METRICS[:1] + tuple(
    f"{m}_ci95_{side}" for m in INTERVALS for side in ("low", "high"))
NEAR_COPY_QUANTILE = 0.05


def real_part(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame,
              seed: int) -> dict:
    """Train and holdout encoded (``distance.encode``, train ranges) and prepared for the nearest-row search, and
    the near-copy threshold: the 5th percentile of the holdout rows' distances to their nearest train row."""
    part: dict = {"near_copy_threshold": None}
    if len(train) == 0:
        return part
    b_tr = Base.of(encode(train, spec, train))
    part.update({f"train_{k}": v for k, v in b_tr.arrays().items()})
    if len(holdout):
        b_ho = Base.of(encode(holdout, spec, train))
        part.update({f"holdout_{k}": v for k, v in b_ho.arrays().items()})
        ho_tr = nearest(b_ho.rows(), b_tr, k=1, group=categorical_slice(spec), query_ids=b_ho.inverse)[0][:, 0]
        part["near_copy_threshold"] = float(np.quantile(ho_tr, NEAR_COPY_QUANTILE))
    return part


_BASES: dict[tuple[int, str], tuple[dict, Base]] = {}  # (id of a real part, table) -> (that part, its Base)


def _base(part: dict, table: str) -> Base:
    """The Base of train or holdout from the real part, made once per part: the tables of a batch share it and its
    KD-trees (the part is kept with it, so its id is not reused while cached)."""
    key = (id(part), table)
    if key not in _BASES or _BASES[key][0] is not part:
        if len(_BASES) >= 8:
            _BASES.clear()
        _BASES[key] = (part, Base.from_arrays({k: part[f"{table}_{k}"] for k in ("unique", "inverse")}))
    return _BASES[key][1]


def _group_codes(groups: pd.Series | None, frame: pd.DataFrame) -> np.ndarray | None:
    """Per row of ``frame``: an integer code of its group (0 .. groups - 1), or None without groups."""
    if groups is None:
        return None
    return pd.factorize(groups.loc[frame.index].to_numpy())[0]


def _units(n_rows: int, codes: np.ndarray | None) -> int:
    """How many members a set has: its rows, or its groups."""
    return n_rows if codes is None else int(codes.max()) + 1 if n_rows else 0


def _subsample(n_rows: int, codes: np.ndarray | None, n_units: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row positions of ``n_units`` members drawn without replacement (all when the set has no more): rows,
    or whole groups with all their rows."""
    if codes is None:
        return np.sort(rng.choice(n_rows, n_units, replace=False)) if n_rows > n_units else np.arange(n_rows)
    n_groups = _units(n_rows, codes)
    if n_groups <= n_units:
        return np.arange(n_rows)
    return np.flatnonzero(np.isin(codes, rng.choice(n_groups, n_units, replace=False)))


def _group_max(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The largest value of each group (groups in code order)."""
    uniq, inverse = np.unique(codes, return_inverse=True)
    out = np.full(len(uniq), -np.inf)
    np.maximum.at(out, inverse, values)
    return out


def _copies(syn_ids: np.ndarray, other_ids: np.ndarray) -> np.ndarray:
    """Per synthetic row: 1.0 when it equals a row of the other table."""
    return np.isin(syn_ids, other_ids).astype(float) if len(other_ids) else np.zeros(len(syn_ids))


def _size_adjusted(p: float, pi: float) -> float:
    """The share p of rows nearest to train, corrected for train's share pi of the pooled real rows."""
    num = p * (1 - pi)
    den = num + (1 - p) * pi
    return float(num / den) if den > 0 else 0.5


def _tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """TPR of the (linearly interpolated) ROC curve at FPR = target."""
    i = int(np.searchsorted(fpr, target, side="right")) - 1  # last vertex with fpr <= target (highest tpr there)
    if i + 1 >= len(fpr) or fpr[i] == target:
        return float(tpr[i])
    w = (target - fpr[i]) / (fpr[i + 1] - fpr[i])
    return float(tpr[i] + w * (tpr[i + 1] - tpr[i]))


def _share(out: Metrics, key: str, values: np.ndarray, clusters: np.ndarray) -> None:
    """A per-row share with its interval."""
    out.put(key, float(values.mean()))
    lo, hi = share_interval(values, clusters)
    out.put(f"{key}_ci95_low", lo)
    out.put(f"{key}_ci95_high", hi)


@dataclass
class _Nearest:
    """The synthetic rows' nearest real rows: the encoded synthetic rows (``e_sy``), the train Base with each row's
    2 nearest train rows (``d2``, ``i2``), the holdout Base with the nearest holdout row (``d_ho``, ``i_ho``; None
    without holdout rows), and each synthetic row's cluster: its nearest real row, or that row's group. ``real``:
    the real side's privacy part."""

    real: dict
    group: slice
    e_sy: np.ndarray
    b_tr: Base
    d2: np.ndarray
    i2: np.ndarray
    clusters: np.ndarray
    b_ho: Base | None = None
    d_ho: np.ndarray | None = None
    i_ho: np.ndarray | None = None

    @property
    def dcr_tr(self) -> np.ndarray:
        return self.d2[:, 0]

    @property
    def dcr_ho(self) -> np.ndarray:
        return self.d_ho[:, 0]


def _nearest_real(inputs: EvalInputs, g_tr: np.ndarray | None, g_ho: np.ndarray | None) -> _Nearest:
    """Distances of the synthetic rows to train and holdout, and the clusters of synthetic rows by their nearest
    real row (a patient is one cluster with groups)."""
    spec, syn, train, hold = inputs.spec, inputs.synthetic, inputs.train, inputs.holdout
    group = categorical_slice(spec)
    real = inputs.real_part("privacy")
    b_tr, e_sy = _base(real, "train"), encode(syn, spec, train)
    d2, i2 = nearest(e_sy, b_tr, k=2, group=group)
    dcr_tr = d2[:, 0]
    # a synthetic row's cluster: its nearest real row, or with groups that row's group (one patient, one cluster)
    clusters = i2[:, 0] if g_tr is None else g_tr[i2[:, 0]]
    if not len(hold):
        return _Nearest(real, group, e_sy, b_tr, d2, i2, clusters)
    n_tr = len(train)
    b_ho = _base(real, "holdout")
    d_ho, i_ho = nearest(e_sy, b_ho, k=1, group=group)
    dcr_ho = d_ho[:, 0]
    cl_ho = n_tr + i_ho[:, 0] if g_ho is None else _units(n_tr, g_tr) + g_ho[i_ho[:, 0]]
    clusters = np.where(dcr_tr <= dcr_ho, clusters, cl_ho)
    return _Nearest(real, group, e_sy, b_tr, d2, i2, clusters, b_ho, d_ho, i_ho)


def _exact_copies(out: Metrics, inputs: EvalInputs, clusters: np.ndarray) -> None:
    """Shares of synthetic rows equal to a train, holdout, prompt-example or any real row (the full tables)."""
    spec, syn, train, hold = inputs.spec, inputs.synthetic, inputs.train, inputs.holdout
    has_hold = len(hold) > 0
    examples = inputs.examples
    lacking = [c for c in spec.column_names if c not in examples.columns] if len(examples) else []
    if lacking or len(examples) == 0:
        examples = syn.iloc[:0]
    ref = inputs.reference if len(inputs.reference) else syn.iloc[:0]
    id_sy, id_tr, id_ho, id_ex, id_ref = row_ids(
        [syn, train, hold if has_hold else syn.iloc[:0], examples, ref], spec
    )
    _share(out, "exact_copy_train_share", _copies(id_sy, id_tr), clusters)
    # any real patient (train, holdout or reference): imported runs may copy examples taken from any split
    _share(out, "exact_copy_real_share", _copies(id_sy, np.concatenate([id_tr, id_ho, id_ref])), clusters)
    if lacking:
        why = f"the prompt-example table lacks columns {lacking}"
        out.fail(["exact_copy_examples_share", "exact_copy_examples_share_ci95_low",
                  "exact_copy_examples_share_ci95_high"], why)
    else:
        _share(out, "exact_copy_examples_share", _copies(id_sy, id_ex), clusters)
    if has_hold:
        _share(out, "exact_copy_holdout_share", _copies(id_sy, id_ho), clusters)


def _holdout_metrics(out: Metrics, near: _Nearest, inputs: EvalInputs, g_tr: np.ndarray | None,
                     g_ho: np.ndarray | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train (members) against holdout (non-members): DCR shares on equal-sized sets and size-adjusted on the full
    sets, near copies, membership inference. Returns the equal-sized subsamples (row positions of train, holdout)."""
    n_tr, n_ho = len(inputs.train), len(inputs.holdout)
    b_tr, b_ho, group, clusters = near.b_tr, near.b_ho, near.group, near.clusters
    dcr_tr, dcr_ho = near.dcr_tr, near.dcr_ho
    out.put("dcr_holdout_median", float(np.median(dcr_ho)))

    # equal-sized comparison sets (the larger one subsampled), shared by the DCR share, MIA and QI pair; with
    # groups, equal numbers of groups, each drawn whole
    n_cmp = min(_units(n_tr, g_tr), _units(n_ho, g_ho))
    out.put("n_compare", int(n_cmp))
    tr_sub = _subsample(n_tr, g_tr, n_cmp, rng)
    ho_sub = _subsample(n_ho, g_ho, n_cmp, rng)
    d_a = nearest(near.e_sy, b_tr.subset(tr_sub), k=1, group=group)[0][:, 0] if len(tr_sub) < n_tr else dcr_tr
    d_b = nearest(near.e_sy, b_ho.subset(ho_sub), k=1, group=group)[0][:, 0] if len(ho_sub) < n_ho else dcr_ho
    _share(out, "dcr_closer_to_train_share", (d_a < d_b) + 0.5 * (d_a == d_b), clusters)

    # size-adjusted share on the full sets
    pi = n_tr / (n_tr + n_ho)
    # identical real rows: at distance 0 the nearest row is one, and its Base count says how many there are
    c_tr = np.where(dcr_tr == 0, b_tr.counts[b_tr.inverse[near.i2[:, 0]]], 0)
    c_ho = np.where(dcr_ho == 0, b_ho.counts[b_ho.inverse[near.i_ho[:, 0]]], 0)
    tie = dcr_tr == dcr_ho
    zero_tie = tie & (dcr_tr == 0) & (c_tr + c_ho > 0)
    frac = np.where(zero_tie, c_tr / np.maximum(c_tr + c_ho, 1), pi)
    nearest_is_train = np.where(tie, frac, (dcr_tr < dcr_ho).astype(float))
    lo, hi = share_interval(nearest_is_train, clusters)
    out.put("dcr_closer_to_train_share_size_adjusted", _size_adjusted(float(np.mean(nearest_is_train)), pi))
    out.put("dcr_closer_to_train_share_size_adjusted_ci95_low", _size_adjusted(lo, pi))
    out.put("dcr_closer_to_train_share_size_adjusted_ci95_high", _size_adjusted(hi, pi))

    # near copies: threshold from the holdout-to-train DCR distribution (real side)
    thr = near.real["near_copy_threshold"]
    out.put("near_copy_threshold", thr)
    _share(out, "near_copy_share", (dcr_tr <= thr).astype(float), clusters)
    _membership_inference(out, near, tr_sub, ho_sub, g_tr, g_ho, n_cmp)
    return tr_sub, ho_sub


def _membership_inference(out: Metrics, near: _Nearest, tr_sub: np.ndarray, ho_sub: np.ndarray,
                          g_tr: np.ndarray | None, g_ho: np.ndarray | None, n_cmp: int) -> None:
    """The distance attack: equal numbers of members (train) and non-members (holdout), rows or groups, scored by
    their distance to the nearest synthetic row."""
    b_tr, b_ho = near.b_tr, near.b_ho
    cand = np.concatenate([b_tr.unique[b_tr.inverse[tr_sub]], b_ho.unique[b_ho.inverse[ho_sub]]])
    cand_ids = np.concatenate([b_tr.inverse[tr_sub], len(b_tr.unique) + b_ho.inverse[ho_sub]])
    score = -nearest(cand, near.e_sy, k=1, group=near.group, query_ids=cand_ids)[0][:, 0]
    if g_tr is not None:  # a group's score: its best row, the attacker's strongest evidence on that patient
        score = np.concatenate([_group_max(score[:len(tr_sub)], g_tr[tr_sub]),
                                _group_max(score[len(tr_sub):], g_ho[ho_sub])])
    labels = np.concatenate([np.ones(n_cmp), np.zeros(n_cmp)])
    out.put("mia_auc", float(roc_auc_score(labels, score)))
    lo, hi = auc_interval(score[:n_cmp], score[n_cmp:])
    out.put("mia_auc_ci95_low", lo)
    out.put("mia_auc_ci95_high", hi)
    fpr, tpr, _ = roc_curve(labels, score)
    out.put("mia_tpr_at_fpr_0.1", _tpr_at_fpr(fpr, tpr, 0.1))
    out.put("mia_tpr_at_fpr_0.01", _tpr_at_fpr(fpr, tpr, 0.01))


def compute(inputs: EvalInputs) -> dict:
    spec = inputs.spec
    syn, train, hold = inputs.synthetic, inputs.train, inputs.holdout
    out = Metrics(n_synthetic=int(len(syn)), n_train=int(len(train)), n_holdout=int(len(hold)))
    if len(syn) == 0:
        out.fail(METRICS, "no synthetic rows")
        return out
    if len(train) < 2:
        out.fail(METRICS, f"needs at least 2 train rows, got {len(train)}")
        return out
    has_hold = len(hold) > 0
    rng = np.random.default_rng(inputs.seed)
    g_tr, g_ho = _group_codes(inputs.groups, train), _group_codes(inputs.groups, hold)
    if g_tr is not None:
        out.put("n_train_groups", _units(len(train), g_tr))
        out.put("n_holdout_groups", _units(len(hold), g_ho))

    near = _nearest_real(inputs, g_tr, g_ho)
    out.put("n_effective", effective_size(near.clusters))
    out.put("n_clusters", int(len(np.unique(near.clusters))))
    _exact_copies(out, inputs, near.clusters)

    # --- distances to train -----------------------------------------------------------------------------------------
    dcr_tr = near.dcr_tr
    out.put("dcr_train_median", float(np.median(dcr_tr)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(dcr_tr == 0, 0.0, dcr_tr / near.d2[:, 1])
    out.put("nndr_median", float(np.median(ratio)))

    tr_sub = ho_sub = None
    if has_hold:
        tr_sub, ho_sub = _holdout_metrics(out, near, inputs, g_tr, g_ho, rng)
    else:
        out.fail([k for k in METRICS if k.startswith(HOLDOUT_METRICS)], "no holdout rows")

    # --- singling out on quasi-identifiers (against real rows) ----------------------------------------------------
    qi_metrics(out, spec, syn, train, hold if has_hold else None, tr_sub, ho_sub, g_tr, g_ho)
    out.update(privacy_crosscheck.compute(inputs))
    return out
