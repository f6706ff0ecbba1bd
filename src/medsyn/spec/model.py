"""The dataset spec as data: ``Column``, ``Rule`` and ``DatasetSpec`` (frozen dataclasses) and the spelling of a
missing value. Building one from YAML, with every check, is ``medsyn.spec.load``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from medsyn.errors import SpecError

NUMERIC_TYPES = ("integer", "float")
MISSING_TEXT = "NA"  # how a missing value is written in prompts, grammar and generated rows


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # integer | float | categorical | binary
    definition: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    decimals: int = 0
    levels: tuple[str, ...] = ()
    level_meanings: dict[str, str] = field(default_factory=dict)
    allow_missing: bool = False
    missing_codes: tuple[str, ...] = ()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level -> other spellings the parser reads
    from_date: str | None = None  # the source cells are dates in this format; the column holds their year

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    def format_value(self, value: Any) -> str:
        """Canonical text of one value, as written in prompts and generated rows."""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return MISSING_TEXT
        if self.type == "integer":
            return str(int(round(float(value))))
        if self.type == "float":
            text = f"{float(value):.{self.decimals}f}"
            # -0.004 is written 0.00, never -0.00: zero is unsigned in the grammar and the parser's canonical text
            return text[1:] if text.startswith("-") and not text.strip("-0.") else text
        return str(value)


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    description: str
    domain: str
    source: dict[str, Any]
    target: str
    columns: tuple[Column, ...]
    id_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    group_column: str | None = None  # the unit (patient) a row belongs to: dropped like an id column, split by
    quasi_identifiers: tuple[str, ...] = ()
    missing_tokens: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    drafted: dict[str, Any] = field(default_factory=dict)  # what a drafted spec assumed (empty: written by hand)
    path: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dropped_columns(self) -> tuple[str, ...]:
        """Source columns no generator or synthetic table has: the id columns, the other dropped columns and the
        group column."""
        return self.id_columns + self.drop_columns + ((self.group_column,) if self.group_column else ())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def in_order(self, first: list[str] | tuple[str, ...]) -> "DatasetSpec":
        """The same spec with the columns ``first`` moved to the front (the rest keep spec order): the column
        order rows are generated in (``generation.column_order``). An unknown name is an error naming it."""
        unknown = [name for name in first if name not in self.column_names]
        if unknown:
            raise SpecError(f"{self.path or self.name}: column_order names {unknown}, not columns of "
                            f"{self.column_names}")
        if not first:
            return self
        order = list(first) + [n for n in self.column_names if n not in first]
        return dataclasses.replace(self, columns=tuple(self.column(n) for n in order))

    def with_csv(self, csv_path: str | None) -> "DatasetSpec":
        """The same spec reading its rows from ``csv_path`` (config override)."""
        if not csv_path:
            return self
        source = {k: v for k, v in self.source.items() if k != "loader"}
        source["csv"] = csv_path
        return dataclasses.replace(self, source=source)
