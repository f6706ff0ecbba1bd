"""One field's text -> the column's canonical value, or the reason it is refused.

Read, in this order (the first reading that succeeds wins; nothing is guessed):
- the value itself: a number in range, a level in any case, spacing, '_' / '-' or markdown escaping
  ('never_smoked', 'Govt\\_job'), a level alias (see ``LevelTable``), a missing word where the column allows it;
- a trailing sentence period ('1.');
- an annotated value, ``A (B)`` or ``A = B`` ('1 (Yes)', 'No (0)', 'never (60%)', '0 = No stroke'): read when A
  reads and B agrees with it (the same level, the level's meaning, a percentage from the prompt's statistics or
  the column's unit); when B names another level the value is ``ambiguous_value``;
- a number with a unit ('62.7 years', '28.5 kg/m²', '6.2%', '140 mg/dL'): read when the unit is a spelling of the
  column's unit, ``wrong_unit`` when it is another unit (never converted);
- a value led by its own column's name ('Stage 4', 'BMI 28.5').
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from medsyn.parse.keys import KeyResolver
from medsyn.spec import MISSING_TEXT, Column, DatasetSpec

MISSING_WORDS = {"", "na", "n/a", "nan", "none", "null", "unknown_value", "?"}
_STRIP_CHARS = " \t\"'`*"
_NEGATIVE = ("0", "no", "n", "false")
_POSITIVE = ("1", "yes", "y", "true")
_PAIRS = ({"0", "1"}, {"n", "y"}, {"no", "yes"}, {"false", "true"})
_NOT_AN_ALIAS = {"no", "not", "non", "yes", "none", "other", "unknown"}  # first words that must not stand for a level
_PERCENT = re.compile(r"^\d+(?:\.\d+)?\s*%$")
_ANNOTATED = (re.compile(r"^(.+?)\s*\(([^()]+)\)$"), re.compile(r"^([^=]+?)\s*=\s*([^=]+)$"))
_WITH_UNIT = re.compile(r"^([-+\u2212]?\d+(?:\.\d+)?)\s*([^\d\s].*)$")
_MINUS = "\u2212"  # the Unicode minus sign (typeset text): read as '-' in a number

# Spellings of one unit, after ``unit_key`` (lower case, no spaces, '²' -> 2, 'µ' -> u, 'liter' -> l).
_UNIT_GROUPS = (
    {"years", "year", "yrs", "yr", "y", "yearsold", "yearold", "yo", "y/o"},
    {"days", "day", "d"},
    {"months", "month", "mo"},
    {"weeks", "week", "wk"},
    {"s", "sec", "secs", "second", "seconds"},
    {"%", "percent"},
    {"kg/m2"},
    {"mg/dl"},
    {"g/dl"},
    {"ug/dl"},
    {"ug/day", "ug/d"},
    {"u/l", "iu/l"},
    {"u/ml"},
    {"1000/ml"},
    {"mmol/l"},
    {"mmhg", "mm/hg"},
    {"kg"}, {"lb", "lbs"}, {"cm"}, {"m"},
)
_KNOWN_UNITS = set().union(*_UNIT_GROUPS)


def unit_key(text: str) -> str:
    text = text.strip().strip(".,;()[]").lower().replace(" ", "")
    for a, b in (("²", "2"), ("^2", "2"), ("µ", "u"), ("μ", "u"), ("mcg", "ug"), ("liter", "l"), ("litre", "l")):
        text = text.replace(a, b)
    return text


def _unit_spellings(unit: str | None) -> set[str]:
    if not unit:
        return set()
    key = unit_key(unit)
    for group in _UNIT_GROUPS:
        if key in group:
            return set(group)
    return {key}


def level_key(text: str) -> str:
    """'Govt\\_job', 'govt job', 'Govt-Job' -> 'govt job': the form levels and aliases are compared in."""
    return re.sub(r"[\s_\-]+", " ", text.replace("\\", "")).strip().lower()


_AMBIGUOUS = object()  # a derived alias that would stand for two levels: refused, never guessed


class LevelTable:
    """Text -> level for one categorical or binary column.

    Tiers (a higher tier's key is never overridden): the levels in ``level_key`` form; aliases declared in the
    spec (``aliases:``); level meanings ('female' -> 'F', 'never smoked' -> 'never'); for a binary column whose
    levels are a no/yes pair (0/1, N/Y, No/Yes) every spelling of no and yes; then derived aliases: a level's
    initial ('M' -> 'Male') and the first word of a multi-word level ('Govt' -> 'Govt_job', 'never' -> 'never
    smoked'), each only when no other level of the column has the same one (else that alias is ambiguous).
    """

    def __init__(self, col: Column):
        self.col = col
        self.keys: dict[str, tuple[object, str]] = {}  # level_key text -> (level or _AMBIGUOUS, tier)
        self._memo: dict[str, tuple[object, str]] = {}  # field text -> lookup result (values repeat across a run)
        self._add_tier("level", ((level_key(level), level) for level in col.levels))
        self._add_tier("declared_alias", ((level_key(a), level) for level, aliases in col.aliases.items()
                                          for a in aliases))
        self._add_tier("meaning", ((level_key(m), level) for level, m in col.level_meanings.items()
                                   if level in col.levels))
        pair = self.no_yes_pair()
        if pair:
            self._add_tier("yes_no", ((word, level) for words, level in ((_NEGATIVE, pair[0]), (_POSITIVE, pair[1]))
                                      for word in words))
        derived = []
        for level in col.levels:
            words = level_key(level).split(" ")
            if not level.replace(".", "").isdigit() and len(level) > 1:
                derived.append((words[0][0], level))
            if len(words) > 1 and len(words[0]) >= 3 and words[0] not in _NOT_AN_ALIAS:
                derived.append((words[0], level))
        self._add_tier("derived_alias", derived)

    def _add_tier(self, tier: str, pairs) -> None:
        """Keys of one tier: a key already known from a higher tier stays; one that two levels share here is
        ambiguous."""
        found: dict[str, set[str]] = {}
        for key, level in pairs:
            found.setdefault(key, set()).add(level)
        for key, levels in found.items():
            if key not in self.keys:
                self.keys[key] = (levels.pop() if len(levels) == 1 else _AMBIGUOUS, tier)

    def no_yes_pair(self) -> tuple[str, str] | None:
        if self.col.type != "binary":
            return None
        by_key = {lvl.lower(): lvl for lvl in self.col.levels}
        for pair in _PAIRS:
            if set(by_key) == pair:
                no = next(k for k in by_key if k in _NEGATIVE)
                yes = next(k for k in by_key if k in _POSITIVE)
                return by_key[no], by_key[yes]
        return None

    def lookup(self, text: str) -> tuple[str | None | object, str]:
        """(level, tier): the level, None when unknown, or ``_AMBIGUOUS``; the tier that matched."""
        if text not in self._memo:
            if len(self._memo) > 50000:  # bounded: distinct garbage must not grow it without limit
                self._memo.clear()
            self._memo[text] = self._lookup(text)
        return self._memo[text]

    def _lookup(self, text: str) -> tuple[str | None | object, str]:
        found = self.keys.get(level_key(text))
        if found is None and text.endswith(".0"):  # '1.0' for a level '1'
            text = text[:-2]
            found = self.keys.get(level_key(text))
        if found is None:
            return None, ""
        level, tier = found
        if tier == "level" and isinstance(level, str) and level.lower() != text.lower():
            tier = "spelling"  # 'never_smoked', 'Govt\\_job', 'self employed'
        return level, tier


@dataclass(frozen=True)
class Reading:
    value: str | None  # canonical text ("NA" = missing) or None when refused
    reason: str = ""  # why refused
    tags: tuple[str, ...] = ()  # format classes used to read it ('annotation', 'unit', 'alias', 'key_prefix')


class ValueReader:
    """Reads field text for the columns of one spec."""

    def __init__(self, spec: DatasetSpec, keys: KeyResolver):
        self.spec = spec
        self.keys = keys
        self.levels = {c.name: LevelTable(c) for c in spec.columns if not c.is_numeric}
        self.units = {c.name: _unit_spellings(c.unit) for c in spec.columns}

    def read(self, col: Column, text: str) -> Reading:
        escaped = "\\" in text
        text = clean(text)
        found = self._plain(col, text)
        if found.value is None:
            for attempt in (self._period, self._annotated, self.with_unit, self._key_prefixed):
                other = attempt(col, text)
                if other is not None:
                    found = other
                    break
        if escaped and found.value is not None:
            return Reading(found.value, "", found.tags + ("markdown",))  # 'Govt\\_job'
        return found

    # -- readings -------------------------------------------------------------------------------------------

    def _plain(self, col: Column, text: str) -> Reading:
        if text.lower() in MISSING_WORDS or text in self.spec.missing_tokens:
            return Reading(MISSING_TEXT) if col.allow_missing else Reading(None, "missing_not_allowed")
        if col.is_numeric:
            try:
                value = float(text.replace(" ", "").replace(_MINUS, "-"))
            except ValueError:
                return Reading(None, "not_a_number")
            if not math.isfinite(value):
                return Reading(None, "not_a_number")
            if col.type == "integer" and value != round(value):
                return Reading(None, "not_an_integer")
            if value < col.min or value > col.max:
                return Reading(None, "out_of_range")
            return Reading(col.format_value(value))
        found, tier = self.levels[col.name].lookup(text)
        if found is _AMBIGUOUS:
            return Reading(None, "ambiguous_value")
        if found is None:
            return Reading(None, "unknown_category")
        return Reading(found, "", () if tier == "level" else (tier,))

    def _period(self, col: Column, text: str) -> Reading | None:
        if text.endswith(".") and len(text) > 1:
            found = self._plain(col, text[:-1].rstrip())
            if found.value is not None:
                return Reading(found.value, "", found.tags + ("punctuation",))  # '1.' ending a sentence
        return None

    def _annotated(self, col: Column, text: str) -> Reading | None:
        for pattern in _ANNOTATED:
            m = pattern.match(text)
            if not m:
                continue
            main, note = clean(m.group(1)), clean(m.group(2))
            found = self._plain(col, main)
            if found.value is None:
                found = self.with_unit(col, main)
                if found is None or found.value is None:
                    continue
            agrees = self._agrees(col, found.value, note)
            if agrees is None:
                return Reading(None, "ambiguous_value")
            if agrees == "wrong_unit":
                return Reading(None, "wrong_unit")
            return Reading(found.value, "", tuple(dict.fromkeys(found.tags + ("annotation",))))
        return None

    def _agrees(self, col: Column, value: str, note: str) -> str | None:
        """'ok' when the note agrees with the value read, 'wrong_unit', or None (conflict or unrecognised)."""
        if _PERCENT.match(note) and unit_key(col.unit or "") != "%":
            return "ok"  # 'never (60%)': the prompt's statistics, not a value
        key = unit_key(note)
        if key in self.units[col.name]:
            return "ok"
        if col.is_numeric and key in _KNOWN_UNITS:
            return "wrong_unit"
        other = self._plain(col, note)
        if other.value is not None:
            return "ok" if other.value == value else None
        return None

    def with_unit(self, col: Column, text: str) -> Reading | None:
        if not col.is_numeric:
            return None
        m = _WITH_UNIT.match(text)
        if not m:
            return None
        key = unit_key(m.group(2))
        if key in self.units[col.name]:
            found = self._plain(col, m.group(1))
            return Reading(found.value, found.reason, found.tags + ("unit",))
        if key in _KNOWN_UNITS:
            return Reading(None, "wrong_unit")
        return None

    def _key_prefixed(self, col: Column, text: str) -> Reading | None:
        words = text.split()
        for n in range(1, min(4, len(words))):
            if self.keys.column(" ".join(words[:n]).rstrip(":=")) == col.name:
                rest = " ".join(words[n:]).lstrip(":= ").strip()
                if rest:
                    found = self.read(col, rest)
                    if found.value is not None:
                        return Reading(found.value, "", found.tags + ("key_prefix",))
                return None
        return None


def clean(text: str) -> str:
    """A field without quotes, backticks, bold markers and markdown escapes around or inside it."""
    text = text.strip(_STRIP_CHARS)
    if "\\" in text:
        text = text.replace("\\_", "_").replace("\\-", "-")
    return " ".join(text.split()) if " " in text or "\t" in text else text
