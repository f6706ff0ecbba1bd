"""95% intervals for the privacy shares and the MIA AUC.

Shares (copy shares, DCR shares, near-copy share) are means of one value in [0, 1] per synthetic row, but the rows
are not independent evidence: 60 copies of one row say as much about the generator as that one row. The rows are
therefore grouped into CLUSTERS by their nearest real row (train and holdout pooled; identical rows share it),
and the share gets the Wilson score interval at the clusters' effective number of rows
(Kish: n_eff = n^2 / sum of squared cluster sizes; n_eff = n when every row has its own nearest real row, 1 when
all rows share one). Rows of one cluster give the same answer to "closer to train than to holdout?" (their nearest
real row decides it) and nearly always to "a copy?", so they count once: the interval is the one n_eff
independent rows would give. A bootstrap over the clusters estimates the same variance but collapses to a single
point when there is one cluster (every resample is the same table); the Wilson interval stays honest there
(n_eff = 1: [0.21, 1] for a share of 1) and never leaves [0, 1]. With a spec ``group_column`` the cluster is the
GROUP of the nearest real row: rows near two visits of one patient are evidence about one patient.

The MIA AUC is a statistic of the real candidates (members = train rows, non-members = holdout rows, scored by
their distance to the synthetic table; with groups, train and holdout groups), so its interval is DeLong's, over
the candidates.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

Z95 = 1.959963984540054  # standard normal quantile 0.975


def effective_size(clusters: np.ndarray) -> float:
    """Kish's effective number of rows of clustered rows: n^2 / sum of squared cluster sizes."""
    if len(clusters) == 0:
        return 0.0
    sizes = np.unique(clusters, return_counts=True)[1].astype(float)
    return float(len(clusters) ** 2 / (sizes**2).sum())


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share ``p`` observed on ``n`` (possibly fractional, effective) rows."""
    if n <= 0:
        return 0.0, 1.0
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def share_interval(values: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """Interval of the mean of per-row ``values`` in [0, 1], rows grouped by ``clusters`` (module docstring)."""
    return wilson(float(np.mean(values)), effective_size(clusters))


def auc_interval(member_scores: np.ndarray, nonmember_scores: np.ndarray, z: float = Z95) -> tuple[float, float]:
    """DeLong's interval of the ROC AUC P(member score > non-member score) + 0.5 P(equal), clipped to [0, 1]."""
    m, n = len(member_scores), len(nonmember_scores)
    if m < 2 or n < 2:
        return 0.0, 1.0
    both = rankdata(np.concatenate([member_scores, nonmember_scores]))
    v10 = (both[:m] - rankdata(member_scores)) / n  # per member: share of non-members it beats
    v01 = 1 - (both[m:] - rankdata(nonmember_scores)) / m  # per non-member: share of members that beat it
    auc = float(v10.mean())
    se = math.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    return max(0.0, auc - z * se), min(1.0, auc + z * se)
