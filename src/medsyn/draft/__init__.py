"""Drafting a dataset spec from a CSV, so a user's own table runs with no spec written by hand.

``draft_spec(csv, dataset)`` reads the file (``medsyn.csv_input``), drafts every column (``columns``) and the roles
the columns play (``table``), renders YAML with one comment per guess (``render``) and checks that the result
loads as a spec. The workflow's ``draft_spec`` rule and ``python -m medsyn.draft`` both call it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from medsyn import layout
from medsyn.csv_input import read_csv_cells
from medsyn.draft.render import render
from medsyn.draft.table import Draft, draft_table
from medsyn.spec import DatasetSpec, spec_from_dict


def draft_spec(csv: str | Path, dataset: str, target: str | None = None,
               keep_path: str | None = None) -> tuple[str, Draft, DatasetSpec]:
    """(the spec's YAML text, the draft with its evidence, the loaded spec) for the CSV at ``csv``."""
    cells = read_csv_cells(csv)
    draft = draft_table(cells, dataset, str(csv), target=target)
    text = render(draft, keep_path or layout.spec_file(dataset))
    spec = spec_from_dict(yaml.safe_load(text), origin=f"the spec drafted from {csv}")
    return text, draft, spec


def summary(draft: Draft, out: str) -> str:
    """A few lines for the terminal and the log: where the spec is, the target, what was dropped, what to check."""
    spec = draft.spec
    types: dict[str, int] = {}
    for entry in spec["columns"]:
        types[entry["type"]] = types.get(entry["type"], 0) + 1
    lines = [f"drafted spec {out}: {len(spec['columns'])} columns ("
             + ", ".join(f"{n} {t}" for t, n in types.items()) + ")",
             f"  target: {spec['target']} ({draft.target_reason})"]
    lines += [f"  {name}: {why}" for name, why in draft.roles.items()]
    lines += [f"  CHECK {note}" for note in draft.notes]
    return "\n".join(lines)


__all__ = ["Draft", "draft_spec", "summary"]
