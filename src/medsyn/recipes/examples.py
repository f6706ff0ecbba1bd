"""Example rows per call (``generation.examples``): fresh ones for every call, optionally stratified by the target
or chosen where the rows generated so far fall short of train (TabGen-ICL's residual-aware selection).

Every draw is seeded by (dataset, run seed, call index), so a call's examples depend on its index and, for the
residual selection, on the rows accepted before its group: both are the same on a rerun or a resume.

Residual selection, simplified from TabGen-ICL (arXiv 2502.16414): for each call, one column is picked at random;
train rows are split by its levels (or ``RESIDUAL_BINS`` quantile bins of a numeric column, missing values a bin of
their own); the bin whose train share most exceeds its share among the generated rows is the region covered worst,
and the call's examples are drawn from it (the rest at random when it holds too few rows).

Neighbour selection: each call shows one train patient drawn at random (stratified by the target when asked) and
its ``n - 1`` nearest train rows under the evaluation's Gower-style distance (``medsyn.distance``). A
call's examples then share one region of the joint distribution, so what the model continues them with carries
that region's dependence between columns (age with pregnancies, BMI with skin fold), while the anchors, drawn at
random call after call, cover train as a whole. The rows stay the model's: it sees patients, not statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.distance import encode
from medsyn.seeds import derive_seed
from medsyn.settings import ExampleSettings
from medsyn.spec import DatasetSpec

RESIDUAL_BINS = 10


class ExampleSource:
    """Draws ``n`` example rows of ``train`` (in spec order; the index is the train row id) for each call."""

    def __init__(self, settings: ExampleSettings, train: pd.DataFrame, spec: DatasetSpec, n: int, run_seed: int):
        self.train = train
        self.spec = spec
        self.n = min(n, len(train))
        self.run_seed = run_seed
        self.stratify = settings.stratify
        self.residual = settings.residual
        self.neighbors = settings.neighbors
        self._encoded = None  # train rows under the distance encoding, built at the first neighbour draw
        self._strata_cache = None  # (classes, shares, positions) of the stratified draw, built at its first use

    def _rng(self, call: int) -> np.random.Generator:
        return np.random.default_rng(derive_seed("examples", self.spec.name, self.run_seed, "call", call))

    def for_call(self, call: int, generated: pd.DataFrame | None = None) -> pd.DataFrame:
        """The call's examples; ``generated``: the rows accepted so far (residual selection only)."""
        rng = self._rng(call)
        if self.n <= 0:
            return self.train.iloc[:0]
        if self.residual and generated is not None and len(generated):
            positions = self._residual(rng, generated)
        elif self.neighbors:
            positions = self._neighbors(rng)
        elif self.stratify:
            positions = self._stratified(rng)
        else:
            positions = rng.choice(len(self.train), size=self.n, replace=False)
        return self.train.iloc[np.sort(positions)]

    def _neighbors(self, rng: np.random.Generator) -> np.ndarray:
        """A random anchor (its class drawn with the train shares when stratified) and its n - 1 nearest rows."""
        if self._encoded is None:
            self._encoded = encode(self.train, self.spec, self.train)
        if self.stratify:
            target = self.train[self.spec.target].astype(object).where(self.train[self.spec.target].notna(), "NA")
            codes, classes = pd.factorize(target, sort=True)
            cls = rng.choice(len(classes), p=np.bincount(codes, minlength=len(classes)) / len(codes))
            anchor = int(rng.choice(np.flatnonzero(codes == cls)))
        else:
            anchor = int(rng.integers(len(self.train)))
        distance = np.abs(self._encoded - self._encoded[anchor]).sum(axis=1)
        distance[anchor] = -1.0  # the anchor first, also when it has exact twins
        # stable sort: ties (twins, equal distances) in train order, so a rerun draws the same rows
        return np.argsort(distance, kind="stable")[: self.n]

    def _stratified(self, rng: np.random.Generator) -> np.ndarray:
        """Class counts in proportion to the train shares (largest remainders, ties drawn), rows drawn per class."""
        classes, shares, class_members = self._strata()
        counts = np.floor(shares * self.n).astype(int)
        left = self.n - counts.sum()
        if left:
            frac = shares * self.n - counts
            extra = rng.choice(len(classes), size=left, replace=False, p=frac / frac.sum())
            counts[extra] += 1
        picks = []
        for members, k in zip(class_members, counts):
            picks.append(rng.choice(members, size=min(k, len(members)), replace=False))
        return np.concatenate(picks)

    def _strata(self) -> tuple[list, np.ndarray, list[np.ndarray]]:
        """(classes, their train shares, each class's train positions), built once per run: every call reads
        them (comparing a 60k-row target per class and call cost ~20 ms a call)."""
        if self._strata_cache is None:
            target = self.train[self.spec.target].astype(object).where(self.train[self.spec.target].notna(), "NA")
            classes = sorted(target.unique(), key=str)
            shares = np.array([(target == c).mean() for c in classes])
            members = [np.flatnonzero((target == c).to_numpy()) for c in classes]
            self._strata_cache = (classes, shares, members)
        return self._strata_cache

    def _bins(self, column, train_values: pd.Series, other: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        if column.is_numeric:
            values = pd.to_numeric(train_values, errors="coerce")
            edges = np.unique(np.nanquantile(values, np.linspace(0, 1, RESIDUAL_BINS + 1)[1:-1]))

            def code(v):
                v = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float)
                return np.where(np.isnan(v), -1, np.searchsorted(edges, v, side="right"))
        else:
            index = {lvl: i for i, lvl in enumerate(column.levels)}

            def code(v):
                return np.array([index.get(x, -1) if isinstance(x, str) else -1 for x in v.astype(object)])
        return code(train_values), code(other)

    def _residual(self, rng: np.random.Generator, generated: pd.DataFrame) -> np.ndarray:
        column = self.spec.columns[rng.integers(len(self.spec.columns))]
        train_codes, gen_codes = self._bins(column, self.train[column.name], generated[column.name])
        bins = np.unique(train_codes)
        deficit = np.array([np.mean(train_codes == b) - np.mean(gen_codes == b) for b in bins])
        worst = bins[rng.choice(np.flatnonzero(deficit == deficit.max()))]
        members = np.flatnonzero(train_codes == worst)
        picks = rng.choice(members, size=min(self.n, len(members)), replace=False)
        if len(picks) < self.n:
            rest = np.setdiff1d(np.arange(len(self.train)), picks)
            picks = np.concatenate([picks, rng.choice(rest, size=self.n - len(picks), replace=False)])
        return picks
