"""Dataset specs from YAML: schema validation, then every check the schema cannot express, each error naming the
file and the key at fault (``load_spec``, ``spec_from_dict``).

A spec (``config/datasets/<name>.yaml``) says where the real table comes from and what each column means.
Everything downstream (type coercion, prompts, grammar, parsing, evaluation) reads the spec, never
the raw file's guesses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from medsyn import paths
from medsyn.errors import SpecError
from medsyn.spec.model import MISSING_TEXT, NUMERIC_TYPES, Column, DatasetSpec, Rule
from medsyn.spec.rules import check_rules


def _schema() -> dict:
    with open(paths.schema("dataset")) as fh:
        return yaml.safe_load(fh)


def _canonical_level(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _aliases(raw: dict, levels: tuple[str, ...], where: str) -> dict[str, tuple[str, ...]]:
    """Declared ``aliases: {level: [spelling, ...]}``: every key a level, no spelling another level's or twice."""
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {lvl.lower(): lvl for lvl in levels}
    for level, spellings in raw.items():
        level = _canonical_level(level)
        if level not in levels:
            raise SpecError(f"{where}: aliases names '{level}', which is not one of the levels {list(levels)}")
        out[level] = tuple(str(_canonical_level(a)).strip() for a in spellings)
        for alias in out[level]:
            other = seen.get(alias.lower())
            if other is not None and other != level:
                raise SpecError(f"{where}: alias '{alias}' of '{level}' is already '{other}' (a level or an alias)")
            seen[alias.lower()] = level
    return out


def spec_from_dict(data: dict, origin: str = "<dict>") -> DatasetSpec:
    """Validate a parsed spec and build it; every error names ``origin`` and the key at fault."""
    try:
        jsonschema.validate(data, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise SpecError(f"{origin}: invalid dataset spec at '{where}': {exc.message}") from None
    columns = [_column(raw, origin) for raw in data["columns"]]
    _check_column_lists(data, columns, origin)
    rules = []
    for raw in data.get("rules", []):
        params = {k: v for k, v in raw.items() if k not in ("id", "kind", "text")}
        rules.append(Rule(id=raw["id"], kind=raw["kind"], text=raw["text"], params=params))
    check_rules(rules, columns, origin)

    return DatasetSpec(
        name=data["name"],
        title=data["title"],
        description=data.get("description", ""),
        domain=data.get("domain", "medical research"),
        source=dict(data["source"]),
        target=data["target"],
        columns=tuple(columns),
        id_columns=tuple(data.get("id_columns", [])),
        drop_columns=tuple(data.get("drop_columns", [])),
        group_column=data.get("group_column"),
        quasi_identifiers=tuple(data.get("quasi_identifiers", [])),
        missing_tokens=tuple(str(t) for t in data.get("missing_tokens", [])),
        rules=tuple(rules),
        drafted=dict(data.get("drafted") or {}),
        path=origin,
    )


def _check_range(raw: dict, origin: str) -> None:
    """A numeric column's plausible range (min, max) and a float's decimals."""
    name = raw["name"]
    for key in ("min", "max"):
        if key not in raw:
            raise SpecError(f"{origin}: numeric column '{name}' needs '{key}' (plausible range)")
    if raw["min"] > raw["max"]:
        raise SpecError(f"{origin}: column '{name}' has min {raw['min']} > max {raw['max']}")
    if raw["type"] == "float" and "decimals" not in raw:
        raise SpecError(f"{origin}: float column '{name}' needs 'decimals'")


def _check_levels(name: str, ctype: str, levels: tuple[str, ...], origin: str) -> None:
    """A categorical or binary column's levels: present, two for binary, distinct, writable as one CSV field."""
    if not levels:
        raise SpecError(f"{origin}: {ctype} column '{name}' needs 'levels'")
    if ctype == "binary" and len(levels) != 2:
        raise SpecError(f"{origin}: binary column '{name}' needs exactly 2 levels, got {list(levels)}")
    if len(set(levels)) != len(levels):
        raise SpecError(f"{origin}: column '{name}' lists a level twice: {list(levels)}")
    for level in levels:
        if any(ch in level for ch in ',\n"') or level.strip() != level or level == MISSING_TEXT:
            raise SpecError(
                f"{origin}: column '{name}' level {level!r} must not contain commas, quotes, newlines, "
                f"outer spaces or be '{MISSING_TEXT}'"
            )


def _column(raw: dict, origin: str) -> Column:
    """One ``columns:`` entry, checked and built."""
    name = raw["name"]
    ctype = raw["type"]
    levels = tuple(_canonical_level(v) for v in raw.get("levels", []))
    if ctype in NUMERIC_TYPES:
        _check_range(raw, origin)
    else:
        _check_levels(name, ctype, levels, origin)
    if raw.get("aliases") and ctype in NUMERIC_TYPES:
        raise SpecError(f"{origin}: column '{name}': aliases are spellings of levels (categorical, binary only)")
    aliases = _aliases(raw.get("aliases") or {}, levels, f"{origin}: column '{name}'")
    if raw.get("from_date") and ctype != "integer":
        raise SpecError(f"{origin}: column '{name}': from_date (a date's year) needs type: integer")
    if raw.get("missing_codes") and not raw.get("allow_missing"):
        raise SpecError(f"{origin}: column '{name}' has missing_codes but not allow_missing: true")
    return Column(
        name=name,
        type=ctype,
        definition=raw["definition"],
        unit=raw.get("unit"),
        min=raw.get("min"),
        max=raw.get("max"),
        decimals=int(raw.get("decimals", 0)),
        levels=levels,
        level_meanings={str(k): str(v) for k, v in (raw.get("level_meanings") or {}).items()},
        allow_missing=bool(raw.get("allow_missing", False)),
        missing_codes=tuple(_canonical_level(v) for v in raw.get("missing_codes", [])),
        aliases=aliases,
        from_date=raw.get("from_date"),
    )


def _check_column_lists(data: dict, columns: list[Column], origin: str) -> None:
    """The names the spec lists beside its columns: distinct columns, a categorical target, quasi-identifiers among
    the columns; id, dropped and group columns not among them."""
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise SpecError(f"{origin}: column names listed twice: {dupes}")
    if data["target"] not in names:
        raise SpecError(f"{origin}: target '{data['target']}' is not one of the columns {names}")
    if data["target"] in [c.name for c in columns if c.is_numeric]:
        raise SpecError(f"{origin}: target '{data['target']}' must be categorical or binary")
    for key in ("quasi_identifiers",):
        for name in data.get(key, []):
            if name not in names:
                raise SpecError(f"{origin}: {key} lists '{name}', which is not a column")
    for key in ("id_columns", "drop_columns"):
        for name in data.get(key, []):
            if name in names:
                raise SpecError(f"{origin}: {key} lists '{name}', which must not also be listed under columns")
    group = data.get("group_column")
    if group in names:
        raise SpecError(f"{origin}: group_column '{group}' must not also be listed under columns (it is dropped "
                        "like an id column and only used to split)")
    if group in data.get("id_columns", []):
        raise SpecError(f"{origin}: group_column '{group}' must not also be listed under id_columns (it is "
                        "dropped like one already)")


def load_spec(path: str | Path) -> DatasetSpec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"dataset spec not found: {path}")
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a dataset spec must be a mapping, got {type(data).__name__}")
    spec = spec_from_dict(data, origin=str(path))
    if spec.name != path.stem:
        raise SpecError(f"{path}: 'name: {spec.name}' must equal the file name '{path.stem}'")
    return spec
