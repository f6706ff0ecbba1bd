"""One column's cells -> its spec entry (type, range, decimals, levels, missing values), or why it is dropped.

The rules, in order (each decision is written beside the column in the drafted spec):

1. Missing cells: empty cells and the tokens of ``MISSING_TOKENS`` ('NA', 'N/A', '?', 'Unknown', ...).
2. A column with no value left is dropped (all missing); one with a single value is dropped (constant).
3. Numbers (every value reads as a number, none written with a leading zero like '007', which is a code):
   - a sentinel code (-1, -9, 99, 999, ... lying further from the other values than their whole range) is read
     as missing (``missing_codes``); zeros far below the other values are NOT guessed missing but flagged for
     the user to decide (Pima's "0 = not measured" is the classic case, and a zero can be real);
   - two distinct values: binary; whole numbers: integer; else float with the decimals that 99% of the values
     are written with (longer values are rounded, and the log says how many); more than 4 decimals are a
     computed value's full precision (0.30000000000000004, an age centred on 48), not a measurement: then the
     decimals that keep 4 significant digits of the typical (median) value, at least 1 and at most 6;
   - the range is the observed minimum and maximum (no margin): the grammar then cannot invite values no patient
     has; widen it by hand where values outside it are plausible.
4. Dates (every value parses in one of ``DATE_FORMATS``): the year, an integer column (``from_date``); a full
   date is an identifier under HIPAA's Safe Harbor rule, its year is not.
5. Text: up to ``MAX_LEVELS`` distinct values: binary (two) or categorical, levels in natural order when they
   have one (numbers, 'Stage I'..'Stage IV', low < medium < high), else by frequency; more values: dropped
   (free text, a code or an identifier), as is a column whose values contain commas, quotes or line breaks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MISSING_TOKENS = ("", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "?", "Unknown", "unknown", "UNKNOWN",
                  "missing", "Missing", "-", ".", "#N/A")
MAX_LEVELS = 30
MAX_DECIMALS = 6
MEASURED_DECIMALS = 4  # more decimals than this on 99% of the values: computed, not measured (see _numeric)
SENTINELS = (-1, -9, -99, -999, -9999, 99, 999, 9999, 99999)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S", "%d-%b-%Y", "%d %b %Y", "%b %d %Y")
_LEADING_ZERO = re.compile(r"^[-+]?0\d")
_INTEGER_TEXT = re.compile(r"^[-+]?\d+$")
_RATIO_TEXT = re.compile(r"^\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?$")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_ORDINAL_WORDS = {"none": 0, "very low": 1, "low": 2, "mild": 2, "normal": 3, "medium": 4, "moderate": 4,
                  "intermediate": 4, "high": 6, "severe": 6, "very high": 7, "critical": 8}


@dataclass
class ColumnDraft:
    name: str
    entry: dict | None  # the spec's column entry; None when the column is dropped
    evidence: str  # one line: what the data showed and what was decided
    drop_reason: str = ""
    missing_cells: int = 0
    missing_seen: dict[str, int] = field(default_factory=dict)  # missing token -> cells
    check: str = ""  # something the user must decide (flagged, not guessed)
    n_distinct: int = 0
    unique_per_row: bool = False
    consecutive_integers: bool = False

    @property
    def kind(self) -> str:
        return self.entry["type"] if self.entry else "dropped"


def _fmt_number(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.0f}"


def _plain(x: float, decimals: int) -> float | int:
    return int(x) if decimals == 0 else round(x, decimals)


def _decimals(texts: pd.Index, counts: np.ndarray) -> tuple[int, int]:
    """(decimals 99% of the values are written with, the most any value has)."""
    written = np.array([len(t.split(".", 1)[1]) if "." in t and "e" not in t.lower() else 0 for t in texts])
    order = np.argsort(written)
    share = np.cumsum(counts[order]) / counts.sum()
    enough = int(written[order][np.searchsorted(share, 0.99)])
    return min(enough, MAX_DECIMALS), int(written.max())


def _sentinel(values: np.ndarray) -> float | None:
    """A code such as 999 or -1 lying further from the other values than their whole range."""
    for code in SENTINELS:
        rest = values[values != code]
        if len(rest) < 2 or len(rest) == len(values):
            continue
        lo, hi = float(rest.min()), float(rest.max())
        span = max(hi - lo, 1.0)
        if code > hi + span or code < lo - span:
            return float(code)
    return None


def _isolated_zeros(distinct: np.ndarray) -> bool:
    """Zeros below a gap much wider than the usual step between the other values (Pima's 0 glucose)."""
    rest = np.sort(distinct[distinct != 0])
    if len(rest) < 5 or len(rest) == len(distinct) or rest[0] <= 0:
        return False
    typical_step = float(np.median(np.diff(rest)))
    return rest[0] > 5 * max(typical_step, 1e-12)


def _natural_key(level: str):
    """A sort key when the level has a natural order, else None."""
    try:
        return (0, float(level), "")
    except ValueError:
        pass
    low = level.lower().strip()
    if low in _ORDINAL_WORDS:
        return (1, _ORDINAL_WORDS[low], "")
    head, _, last = low.rpartition(" ")
    if last in _ROMAN:
        return (2, _ROMAN[last], head)
    if last.isdigit():
        return (2, int(last), head)
    return None


def order_levels(counts: pd.Series) -> tuple[list[str], str]:
    """Levels in natural order when every level has one of the same kind, else by frequency (ties by text)."""
    keys = {lvl: _natural_key(lvl) for lvl in counts.index}
    kinds = {(k[0], k[2]) for k in keys.values() if k is not None}
    if None not in keys.values() and len(kinds) == 1:
        return sorted(counts.index, key=lambda lvl: keys[lvl]), "natural order"
    ordered = sorted(counts.index, key=lambda lvl: (-counts[lvl], lvl))
    return ordered, "by frequency"


def _canonical(text: str) -> str:
    """'1.0' -> '1', as the loader canonicalises a binary or level read from a float column."""
    value = float(text)
    return str(int(value)) if value.is_integer() else text


def _date_format(texts: pd.Index) -> str | None:
    """The one format every value parses in (tried on a sample first: free text fails fast), or None."""
    if not all(any(ch.isdigit() for ch in t) for t in texts[:50]):
        return None
    for fmt in DATE_FORMATS:
        if pd.to_datetime(pd.Series(texts[:50]), format=fmt, errors="coerce").notna().all():
            if pd.to_datetime(pd.Series(texts), format=fmt, errors="coerce").notna().all():
                return fmt
    return None


def _numeric(name: str, counts: pd.Series, draft: ColumnDraft) -> ColumnDraft:
    texts = counts.index
    values = pd.to_numeric(pd.Series(texts), errors="coerce").to_numpy(dtype=float)
    n_values = int(counts.sum())
    code = _sentinel(values)
    entry: dict = {"name": name}
    notes = []
    if code is not None:
        keep = values != code
        n_code = int(counts.to_numpy()[~keep].sum())
        counts, texts, values = counts[keep], texts[keep], values[keep]
        draft.missing_cells += n_code
        entry["missing_codes"] = [_plain(code, 0)]
        notes.append(f"{_fmt_number(code)} ({n_code} cells) read as missing: a code far outside the other values")
    if _isolated_zeros(values):
        n_zero = int(counts.to_numpy()[values == 0].sum())
        others = values[values != 0]
        draft.check = (f"{n_zero} zeros while the other values are {_fmt_number(others.min())}-"
                       f"{_fmt_number(others.max())}: if 0 means 'not measured', add missing_codes: [0] and "
                       "allow_missing: true")
    distinct = len(values)
    if distinct == 2:
        levels = [_canonical(t) for t in texts[np.argsort(values)]]
        entry.update(type="binary", levels=levels)
        evidence = f"binary: two values {levels[0]} / {levels[1]}"
    elif all(_INTEGER_TEXT.match(t) for t in texts):
        entry.update(type="integer", min=_plain(values.min(), 0), max=_plain(values.max(), 0))
        evidence = f"integer: {distinct} distinct whole numbers, {entry['min']} to {entry['max']}"
    else:
        decimals, most = _decimals(texts, counts.to_numpy())
        if decimals > MEASURED_DECIMALS:  # computed values (a float's full repr): keep 4 significant digits
            typical = float(np.median(np.abs(values[values != 0]))) if np.any(values != 0) else 1.0
            decimals = int(min(max(3 - math.floor(math.log10(typical)), 1), MAX_DECIMALS))
        decimals = max(decimals, 1)
        scale = 10**decimals
        lo = math.floor(round(values.min() * scale, 6)) / scale
        hi = math.ceil(round(values.max() * scale, 6)) / scale
        entry.update(type="float", min=_plain(lo, decimals), max=_plain(hi, decimals), decimals=decimals)
        plural = "s" if decimals > 1 else ""
        evidence = (f"float: {distinct} distinct numbers, {_fmt_number(lo)} to {_fmt_number(hi)}, "
                    f"{decimals} decimal{plural}")
        if most > decimals:
            longer = sum(int(c) for t, c in counts.items() if "." in t and len(t.split(".", 1)[1]) > decimals)
            notes.append(f"{longer} of {n_values} values have more than {decimals} decimal{plural} (up to {most}) and "
                         "are rounded")
    draft.entry = entry
    draft.evidence = "; ".join([evidence, *notes])
    draft.n_distinct = distinct
    draft.unique_per_row = distinct == n_values and draft.missing_cells == 0
    sorted_values = np.sort(values)
    draft.consecutive_integers = (entry["type"] == "integer" and draft.unique_per_row and sorted_values[0] in (0, 1)
                                  and bool(np.all(np.diff(sorted_values) == 1)))  # a row number: 0.. or 1..n
    return draft


def _text(name: str, counts: pd.Series, draft: ColumnDraft) -> ColumnDraft:
    n_values = int(counts.sum())
    draft.n_distinct = len(counts)
    draft.unique_per_row = len(counts) == n_values and draft.missing_cells == 0
    fmt = _date_format(counts.index)
    if fmt:
        years = pd.to_datetime(pd.Series(counts.index), format=fmt).dt.year
        draft.entry = {"name": name, "type": "integer", "min": int(years.min()), "max": int(years.max()),
                       "from_date": fmt}
        draft.evidence = (f"date ({fmt}), {len(counts)} distinct dates: kept as the year, {int(years.min())} to "
                          f"{int(years.max())} (a full date identifies a patient; its year rarely does)")
        return draft
    # No example values in a drop reason: it reaches the report, and a free-text column may hold names.
    if len(counts) > MAX_LEVELS:
        if all(_RATIO_TEXT.match(t) for t in counts.index[:50]):
            how = "two numbers written as one ('a/b', such as systolic/diastolic pressure): split them into two " \
                  "numeric columns in the CSV to keep them"
        elif draft.unique_per_row:
            how = "unique per row: an identifier or free text"
        else:
            how = f"free text or a code (a categorical column takes at most {MAX_LEVELS} levels)"
        draft.drop_reason = f"{len(counts)} distinct values: {how}"
        return draft
    bad = [t for t in counts.index if any(ch in t for ch in ',"\n')]
    if bad:
        draft.drop_reason = (f"{len(bad)} of its {len(counts)} values hold commas, quotes or line breaks, which a "
                             "level of a CSV row cannot; recode them in the CSV to keep the column")
        return draft
    levels, how = order_levels(counts)
    kind = "binary" if len(levels) == 2 else "categorical"
    draft.entry = {"name": name, "type": kind, "levels": levels}
    draft.evidence = f"{kind}: {len(levels)} levels, {how}"
    return draft


def draft_column(name: str, cells: pd.Series) -> ColumnDraft:
    """The spec entry drafted from one column's text cells (see the module docstring for the rules)."""
    counts = cells.str.strip().value_counts(sort=False)
    draft = ColumnDraft(name=name, entry=None, evidence="")
    for token in MISSING_TOKENS:
        if token in counts.index:
            draft.missing_seen[token] = int(counts[token])
    draft.missing_cells = sum(draft.missing_seen.values())
    counts = counts.drop(list(draft.missing_seen))
    if counts.empty:
        draft.drop_reason = f"missing in all {len(cells)} rows"
        return draft
    if len(counts) == 1:
        draft.drop_reason = f"constant: every value is {counts.index[0]!r}" + (
            f" ({draft.missing_cells} missing)" if draft.missing_cells else "")
        return draft
    as_numbers = pd.to_numeric(pd.Series(counts.index), errors="coerce")
    numeric = bool(as_numbers.notna().all() and np.isfinite(as_numbers).all())
    if numeric and not any(_LEADING_ZERO.match(t) for t in counts.index):
        _numeric(name, counts, draft)
    else:
        _text(name, counts, draft)
    if draft.entry and draft.missing_cells:
        draft.entry["allow_missing"] = True
        seen = ", ".join(f"{t or 'empty'!s} x{n}" for t, n in draft.missing_seen.items())
        if seen:
            draft.evidence += f"; missing: {seen}"
    return draft
