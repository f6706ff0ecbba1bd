"""The real side of the evaluation: everything that depends on the real splits alone, computed once per dataset and
split, stored as two files and read by every evaluation job of that dataset.

Each metric family that has such work exposes ``real_part(spec, train, holdout, reference, seed) -> dict`` (a
pure function of the real splits; ``seed`` seeds the train-on-real models). Parts hold JSON values (numbers,
strings, lists, string-keyed mappings; no NaN) and numpy arrays.

File format (no pickle anywhere):

- ``real_side.json``: ``{"format": 1, "dataset", "seed", "families", "sources": {split: sha256 of its CSV},
  "parts": {family: {name: value | {"npz": key}}}}``;
- ``real_side.npz``: the arrays (``numpy.savez_compressed``, plain numeric dtypes), under the keys the JSON names
  (``<family>.<name>``); read with ``allow_pickle=False``.

No part needs the group ids of a spec ``group_column``: the parts are row-level (the privacy part's near-copy
threshold is each holdout row's distance to train, and the grouped split already keeps a patient's other rows out
of train); the evaluation hands the groups to the privacy family directly (``EvalInputs.groups``).

``sources`` ties the files to the split they were computed from: ``check_sources`` refuses a real side whose
split files have changed since (Snakemake reruns it first; the check catches hand-made mix-ups).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medsyn.atomic import atomic_path
from medsyn.errors import MedsynError
from medsyn.models import sha256_file
from medsyn.spec import DatasetSpec

FORMAT = 1
# families with real-side work -> their module (others have none: their real_part is never asked for)
PARTS = {
    "fidelity": "medsyn.evaluate.fidelity",
    "clinical": "medsyn.evaluate.clinical",
    "privacy": "medsyn.evaluate.privacy",
    "utility": "medsyn.evaluate.utility",
    "diversity": "medsyn.evaluate.diversity",
}


class RealSideError(MedsynError):
    """A real-side file is missing a part, is of another format, or was computed from other split files."""


@dataclass
class RealSide:
    parts: dict[str, dict]
    info: dict  # format, dataset, seed, families, sources

    def part(self, family: str) -> dict:
        if family not in self.parts:
            raise RealSideError(
                f"the real side of dataset '{self.info.get('dataset')}' has no part for family '{family}' "
                f"(it holds {sorted(self.parts)}); rebuild it with that family in evaluation.families")
        return self.parts[family]


def _json_roundtrip(value):
    """The value as JSON gives it back (lists for tuples, ...), so a part computed now equals a loaded one."""
    return json.loads(json.dumps(value, allow_nan=False))


def build_part(family: str, spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame,
               reference: pd.DataFrame, seed: int) -> dict:
    module = importlib.import_module(PARTS[family])
    part = module.real_part(spec, train, holdout, reference, seed)
    return {k: v if isinstance(v, np.ndarray) else _json_roundtrip(v) for k, v in part.items()}


def build(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame, seed: int,
          families, sources: dict[str, str] | None = None) -> RealSide:
    """The parts of ``families`` (those with real-side work) from the three real splits."""
    wanted = [f for f in families if f in PARTS]
    parts = {f: build_part(f, spec, train, holdout, reference, seed) for f in wanted}
    info = {"format": FORMAT, "dataset": spec.name, "seed": int(seed), "families": wanted,
            "rows": {"train": len(train), "holdout": len(holdout), "reference": len(reference)},
            "sources": sources or {}}
    return RealSide(parts, info)


def sha256(path: str | Path) -> str:
    return sha256_file(Path(path))


def save(real: RealSide, json_path: str | Path, npz_path: str | Path) -> None:
    """Both files, each written atomically."""
    arrays, parts = {}, {}
    for family, part in real.parts.items():
        parts[family] = {}
        for name, value in part.items():
            if isinstance(value, np.ndarray):
                if value.dtype == object:
                    raise TypeError(f"real side {family}.{name}: object arrays would need pickle")
                key = f"{family}.{name}"
                arrays[key] = value
                parts[family][name] = {"npz": key}
            else:
                parts[family][name] = value
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    with atomic_path(json_path) as tmp:
        Path(tmp).write_text(json.dumps({**real.info, "parts": parts}, allow_nan=False) + "\n")


def load(json_path: str | Path, npz_path: str | Path) -> RealSide:
    data = json.loads(Path(json_path).read_text())
    if data.get("format") != FORMAT:
        raise RealSideError(f"{json_path}: real-side format {data.get('format')}, this code reads {FORMAT}; rebuild it")
    with np.load(npz_path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    parts = {}
    for family, part in data.pop("parts").items():
        parts[family] = {}
        for name, value in part.items():
            is_array = isinstance(value, dict) and set(value) == {"npz"}
            parts[family][name] = arrays[value["npz"]] if is_array else value
    return RealSide(parts, data)


def check_sources(real: RealSide, splits: dict[str, str | Path]) -> None:
    """Raise unless the real side was computed from exactly these split files (sha256)."""
    for name, path in splits.items():
        recorded = real.info.get("sources", {}).get(name)
        if recorded != sha256(path):
            raise RealSideError(
                f"the real side of dataset '{real.info.get('dataset')}' was not computed from {path} "
                f"(sha256 differs from the one it records); rerun the real_side rule for that dataset")
