"""Evaluation of one synthetic table against the real splits, by metric family.

Every family module exposes ``compute(inputs: EvalInputs) -> dict`` returning a FLAT mapping
``"<metric>" | "<metric>.<column or pair or rule>" -> float | int | str | None`` (None = not computable, with a
"<metric>.error" string next to it saying why: ``medsyn.evaluate.results`` owns that convention). The evaluate
step prefixes keys with the family name and writes them all to one metrics.json. Families never edit the data
they are given.

Work that depends on the real splits alone (train-on-real models, real rule rates, holdout-to-train distances,
real pair statistics) is a family's ``real_part``: computed once per dataset and split by the workflow
(``medsyn.evaluate.real_side``) and handed to every evaluation as ``EvalInputs.real``; without it, a family
computes its part on the spot, with the same code, so the numbers are the same either way.

Reading rule: no number stands alone. The same code scores LLM runs, the baselines (``holdout`` = unseen real
rows, ``marginals``, ``copula``, ``bootstrap``) and imported tables, so every metric is read against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from medsyn.evaluate.real_side import RealSide, build_part
from medsyn.spec import DatasetSpec


@dataclass
class EvalInputs:
    spec: DatasetSpec
    train: pd.DataFrame  # real rows shown to generators (typed per spec: numeric float/Int64, categorical str, NaN missing)
    holdout: pd.DataFrame  # real rows never shown: privacy non-members, utility test set
    reference: pd.DataFrame  # a second unseen real sample (what the ``holdout`` baseline draws from)
    synthetic: pd.DataFrame  # the table under evaluation, same columns and dtypes
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows shown in the prompt (empty for baselines)
    seed: int = 0
    real: RealSide | None = None  # the real side computed once per dataset (None: each family computes its part)
    # the group (patient) of every real row, indexed by row_id (spec group_column; None: every row is its own
    # unit). Only the privacy family reads it: it counts a group as one member (medsyn.evaluate.privacy)
    groups: pd.Series | None = None

    def real_part(self, family: str) -> dict:
        """The real-side part of ``family``: from ``real`` when given, else computed now (seeded with ``seed``)."""
        if self.real is not None:
            return self.real.part(family)
        return build_part(family, self.spec, self.train, self.holdout, self.reference, self.seed)
