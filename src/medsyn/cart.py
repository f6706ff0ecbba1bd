"""Sequential CART as R's synthpop makes it (its default method; own code over scikit-learn trees, because the
Python ports of synthpop need pandas < 2 or the BSL-licensed ``copulas``): the ``cart`` baseline.

The first column is drawn from train; each later column from a tree fitted on the columns before it, by sending
the synthetic row down the tree and copying the value of a train row drawn from the leaf it lands in (synthpop's
minbucket: at least 5 train rows per leaf). Values are always train values, so they keep the spec's ranges,
decimals and levels, and a missing value is drawn like any other: missingness follows its predictors (cirrhosis'
non-trial patients lack the same five labs together). Trees split on missing predictor values natively.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from medsyn.spec import DatasetSpec

MIN_LEAF = 5  # synthpop's minbucket
MAX_FIT_ROWS = 50_000  # larger train tables are subsampled for fitting: seconds, not minutes, on two cores


def _encode(values: pd.Series, col) -> np.ndarray:
    """Tree input: numeric values as floats, levels as their index in the spec; missing as NaN."""
    if col.is_numeric:
        return values.astype("float64").to_numpy()
    codes = values.map({lvl: i for i, lvl in enumerate(col.levels)})
    return codes.astype("float64").to_numpy()


def _target(x: np.ndarray, numeric: bool) -> np.ndarray:
    """What a column's tree predicts: missing becomes a value of its own (below the minimum, or class -1), so the
    tree can separate rows that lack the value from those that have it."""
    present = x[~np.isnan(x)]
    if numeric:
        low = present.min() - (present.max() - present.min()) - 1 if len(present) else 0.0
        return np.where(np.isnan(x), low, x)
    return np.where(np.isnan(x), -1, x).astype(int)


def _rows_by_leaf(leaves: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train rows grouped by leaf: ``order[start[leaf]:start[leaf] + count[leaf]]`` are the rows in ``leaf``."""
    order = np.argsort(leaves, kind="stable")
    count = np.bincount(leaves, minlength=nodes)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return order, start, count


class SequentialCart:
    """Trees fitted on train (``__init__``), sampled any number of times (``sample``)."""

    def __init__(self, train: pd.DataFrame, spec: DatasetSpec, rng: np.random.Generator):
        self.spec = spec
        if len(train) > MAX_FIT_ROWS:
            train = train.iloc[np.sort(rng.choice(len(train), size=MAX_FIT_ROWS, replace=False))]
        self.train = train[spec.column_names].reset_index(drop=True)
        self.x = np.column_stack([_encode(self.train[c.name], c) for c in spec.columns])
        self.trees, self.leaf_rows = [None], [None]
        for j, col in enumerate(spec.columns[1:], start=1):
            kind = DecisionTreeRegressor if col.is_numeric else DecisionTreeClassifier
            tree = kind(min_samples_leaf=MIN_LEAF, random_state=int(rng.integers(2**31)))
            tree.fit(self.x[:, :j], _target(self.x[:, j], col.is_numeric))
            self.trees.append(tree)
            self.leaf_rows.append(_rows_by_leaf(tree.apply(self.x[:, :j]), tree.tree_.node_count))

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        rows = np.empty((n, len(self.spec.columns)), dtype=int)  # the train row each synthetic value comes from
        rows[:, 0] = rng.integers(0, len(self.train), size=n)
        out = np.full((n, len(self.spec.columns)), np.nan)
        out[:, 0] = self.x[rows[:, 0], 0]
        for j in range(1, len(self.spec.columns)):
            order, start, count = self.leaf_rows[j]
            leaves = self.trees[j].apply(out[:, :j])
            rows[:, j] = order[start[leaves] + rng.integers(0, count[leaves])]
            out[:, j] = self.x[rows[:, j], j]
        frame = pd.DataFrame({c.name: self.train[c.name].to_numpy()[rows[:, j]]
                              for j, c in enumerate(self.spec.columns)})
        return frame.astype(self.train.dtypes.to_dict())
