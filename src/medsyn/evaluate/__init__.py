"""Evaluation of one synthetic table against the real splits, by metric family.

Every family module exposes ``compute(inputs: EvalInputs) -> dict`` returning a FLAT mapping
``"<metric>" | "<metric>.<column or pair or rule>" -> float | int | str | None`` (None = not computable, with a
"<metric>.error" string next to it saying why). The evaluate step prefixes keys with the family name and writes
them all to one metrics.json. Families never edit the data they are given.

Reading rule: no number stands alone. The same code scores LLM runs, the baselines (``holdout`` = unseen real
rows, ``marginals``, ``copula``, ``bootstrap``) and imported tables, so every metric is read against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

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
