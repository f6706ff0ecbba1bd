"""A whole table -> a drafted dataset spec: each column drafted (``columns``), then the roles the columns play:
identifiers, the group (patient) column, quasi-identifiers and the target.

The roles, in order:
- an identifier (dropped, ``id_columns``): a column named like one (``names.named_like_identifier``) whose values
  are unique per row, or whole numbers unique per row that count up one by one (a row number);
- a group column (``group_column``): a column named like an identifier whose values repeat, i.e. several rows
  belong to one patient (visits, eyes, admissions), with at least ``MIN_GROUPS`` values and at most
  ``MAX_GROUP_ROWS`` rows a value on average; the split then keeps each group's rows together;
- quasi-identifiers: columns named like age, sex, race/ethnicity, geography, birth or marital status, and dates
  (kept as their year);
- the target: the one given (``dataset_options.<id>.target``), else the last binary or low-cardinality column
  named like an outcome (``names.OUTCOME_WORDS``), else the last column if it is binary or low-cardinality, else
  the last binary column, else the last low-cardinality one. A numeric target becomes categorical.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from medsyn.csv_input import CsvCells
from medsyn.draft import names
from medsyn.draft.columns import ColumnDraft, draft_column, order_levels
from medsyn.errors import SpecError

MAX_TARGET_LEVELS = 10
# A repeated identifier is a group (patient) column only with enough groups to split and few rows each: a visit
# number (1, 2, 3 for every patient) repeats too, but is no patient.
MIN_GROUPS = 20
MAX_GROUP_ROWS = 50


@dataclass
class Draft:
    """A drafted spec (``spec``, the dataset spec mapping) with the evidence for each decision."""

    spec: dict
    columns: list[ColumnDraft]
    target_reason: str
    roles: dict[str, str] = field(default_factory=dict)  # column -> why it is an id / group / dropped column
    notes: list[str] = field(default_factory=list)  # things the user must check


def _is_classlike(draft: ColumnDraft) -> bool:
    if draft.entry is None:
        return False
    if draft.kind in ("binary", "categorical"):
        return len(draft.entry["levels"]) <= MAX_TARGET_LEVELS
    return draft.kind == "integer" and draft.n_distinct <= MAX_TARGET_LEVELS and "from_date" not in draft.entry


def _as_target(draft: ColumnDraft, cells) -> None:
    """A numeric low-cardinality target becomes categorical (the split stratifies on it; utility classifies it)."""
    if draft.kind != "integer":
        return
    counts = cells.str.strip().value_counts()
    counts = counts[[t for t in counts.index if t not in draft.missing_seen]]
    levels, how = order_levels(counts)
    draft.entry = {k: v for k, v in draft.entry.items() if k not in ("min", "max")}
    draft.entry.update(type="binary" if len(levels) == 2 else "categorical", levels=levels)
    draft.evidence = f"{draft.entry['type']} (numbers as levels, the target): {len(levels)} levels, {how}"


def _choose_target(drafts: list[ColumnDraft], given: str | None, origin: str) -> tuple[ColumnDraft, str]:
    by_name = {d.name: d for d in drafts}
    if given:
        if given not in by_name:
            close = difflib.get_close_matches(given, list(by_name), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise SpecError(f"{origin}: target '{given}' is not a column of the CSV{hint} (columns: {list(by_name)})")
        chosen = by_name[given]
        if not _is_classlike(chosen):
            what = chosen.drop_reason or f"{chosen.n_distinct} distinct values of type {chosen.kind}"
            raise SpecError(f"{origin}: target '{given}' must be binary or have at most {MAX_TARGET_LEVELS} levels "
                            f"(the split stratifies on it): {what}")
        return chosen, "given (dataset_options target)"
    classlike = [d for d in drafts if _is_classlike(d)]
    outcome = [d for d in classlike if names.named_like_outcome(d.name)]
    if outcome:
        return outcome[-1], "guessed: the last binary or low-cardinality column named like an outcome"
    if classlike and classlike[-1] is drafts[-1]:
        return drafts[-1], "guessed: the last column (binary or low-cardinality)"
    binary = [d for d in classlike if d.kind == "binary"]
    if binary:
        return binary[-1], "guessed: the last binary column (no column is named like an outcome)"
    if classlike:
        return classlike[-1], "guessed: the last low-cardinality column (no column is named like an outcome)"
    raise SpecError(f"{origin}: no column can be the target (none is binary or has at most {MAX_TARGET_LEVELS} "
                    "levels); set dataset_options.<id>.target, or add a class column to the CSV")


def _roles(drafts: list[ColumnDraft], n_rows: int) -> tuple[list[str], str | None, dict[str, str]]:
    """id columns, the group column and why each plays its role."""
    ids, group, why = [], None, {}
    for d in drafts:
        named_id = names.named_like_identifier(d.name)
        if named_id and d.unique_per_row:
            ids.append(d.name)
            why[d.name] = "identifier: named like one, unique per row"
        elif named_id and group is None and MIN_GROUPS <= d.n_distinct and d.n_distinct * MAX_GROUP_ROWS >= n_rows:
            group = d.name
            why[d.name] = (f"group: named like an identifier, {d.n_distinct} values repeated over the rows: the rows "
                           "of one group stay on one side of the split")
        elif d.consecutive_integers:
            ids.append(d.name)
            why[d.name] = "identifier: a row number (whole numbers from 0 or 1, unique per row, counting up by one)"
    return ids, group, why


def draft_table(cells: CsvCells, dataset: str, csv_path: str, target: str | None = None) -> Draft:
    """The drafted spec of a CSV read by ``medsyn.csv_input.read_csv_cells``."""
    frame = cells.frame.rename(columns=lambda c: str(c).strip())
    origin = str(csv_path)
    drafts = [draft_column(name, frame[name]) for name in frame.columns]
    ids, group, roles = _roles(drafts, len(frame))
    candidates = [d for d in drafts if d.name not in ids and d.name != group]
    chosen, target_reason = _choose_target(candidates, target, origin)
    _as_target(chosen, frame[chosen.name])
    kept = [d for d in candidates if d.entry is not None]
    dropped = {d.name: d.drop_reason for d in candidates if d.entry is None}
    if len(kept) < 2:
        raise SpecError(f"{origin}: fewer than two usable columns ({[d.name for d in kept]}); dropped: {dropped}")
    for d in kept:
        d.entry["definition"] = names.readable(d.name) + (" (year)" if "from_date" in d.entry else "")
        unit = names.unit_from_name(d.name)
        if unit and d.kind in ("integer", "float") and "from_date" not in d.entry:
            d.entry["unit"] = unit
    qis = [d.name for d in kept if d is not chosen and (names.quasi_identifier_kind(d.name) or
                                                        "from_date" in d.entry)]
    tokens = sorted({t for d in candidates for t in d.missing_seen if t})
    spec = {
        "name": dataset,
        "title": dataset.replace("_", " ").capitalize(),
        "description": (f"Drafted by medsyn from {origin}: {len(frame)} rows, {len(frame.columns)} columns "
                        f"({len(kept)} kept)."),
        "domain": "medical research",
        "source": {"csv": origin},
        "target": chosen.name,
        "id_columns": ids,
        **({"group_column": group} if group else {}),
        "drop_columns": list(dropped),
        "quasi_identifiers": qis,
        "missing_tokens": tokens,
        "columns": [_ordered_entry(d.entry) for d in kept],
        "rules": [],
    }
    roles.update({name: f"dropped: {reason}" for name, reason in dropped.items()})
    notes = [f"{d.name}: {d.check}" for d in kept if d.check]
    draft = Draft(spec=spec, columns=drafts, target_reason=target_reason, roles=roles, notes=notes)
    spec["drafted"] = drafted_block(draft, cells, origin)
    return draft


_KEY_ORDER = ("name", "type", "unit", "min", "max", "decimals", "levels", "allow_missing", "missing_codes",
              "from_date", "definition")


def _ordered_entry(entry: dict) -> dict:
    return {key: entry[key] for key in _KEY_ORDER if key in entry}


def drafted_block(draft: Draft, cells: CsvCells, origin: str) -> dict:
    """What the drafted spec assumed, for the report and the reviewer: the spec's ``drafted`` key."""
    missing = []
    for d in draft.columns:
        if d.entry is not None and d.missing_cells:
            seen = ", ".join(f"{t!r} x{n}" if t else f"empty x{n}" for t, n in d.missing_seen.items())
            codes = d.entry.get("missing_codes")
            missing.append(f"{d.name}: {seen}" + (f"; code {codes[0]} read as missing" if codes else ""))
    return {
        "from": origin,
        "read": cells.describe(),
        "target": f"{draft.spec['target']} ({draft.target_reason})",
        "roles": dict(draft.roles),
        "missing": missing,
        "checks": list(draft.notes),
    }
