"""Messages about a real table that does not match its spec: which columns were probably meant, which values in
which rows are wrong, and which values the split files round."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.suggest import closest

# Row numbers in messages count the data rows from 1 below the header, as a user sees them in the CSV.
ROWS_NOTE = "rows counted from 1 below the header (row k is line k+1 of the CSV)"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def column_hints(missing: list[str], unmatched: list[str]) -> str:
    """"; columns in the data but not in the spec: [...]; 'X' in the spec: did you mean the data's 'Y'? ..." for
    the spec's ``missing`` columns and the data's ``unmatched`` ones ('' when the data has none left over). Each
    data column is offered to one spec column at most."""
    if not unmatched:
        return ""
    left = list(unmatched)
    questions = []
    for name in missing:
        match = closest(name, left)
        if match is not None:
            left.remove(match)
            questions.append(f"{name!r} in the spec: did you mean the data's {match!r}?")
    hints = f"; {' '.join(questions)}" if questions else ""
    return f"; columns in the data but not in the spec: {unmatched}{hints}"


def bad_values(text: pd.Series, mask: pd.Series, max_values: int = 5, max_rows: int = 3) -> str:
    """"'f' x2 (rows 4, 17), 'X' x1 (row 90)": each distinct ``text`` where ``mask`` holds, most frequent first,
    with its count and first data rows (numbered as ROWS_NOTE says)."""
    rows = np.flatnonzero(mask.to_numpy(dtype=bool)) + 1
    by_value: dict[str, list[int]] = {}
    for value, row in zip(text.to_numpy()[rows - 1], rows):
        by_value.setdefault(value, []).append(int(row))
    order = sorted(by_value, key=lambda v: -len(by_value[v]))  # stable: ties keep the order of first appearance
    parts = []
    for value in order[:max_values]:
        found = by_value[value]
        shown = ", ".join(str(r) for r in found[:max_rows]) + (", ..." if len(found) > max_rows else "")
        parts.append(f"{value!r} x{len(found)} ({'row' if len(found) == 1 else 'rows'} {shown})")
    if len(order) > max_values:
        parts.append(f"and {plural(len(order) - max_values, 'other value')}")
    return ", ".join(parts)


def range_advice(n_outside: int, n_present: int, unit: str | None) -> str:
    """Why values may fall outside [min, max]: most of them outside points at the unit, a few at the rows."""
    if n_outside > n_present / 2:
        unit_hint = f"another unit than the spec's '{unit}'" if unit else "another unit or scale"
        return f"most values are outside, so the data may use {unit_hint} (else widen min/max in the spec)"
    return "fix these rows if they are errors, or widen min/max in the spec if the values are plausible"


def _decimals(value: float) -> int:
    """Decimals of the shortest text that reads back as ``value`` (1e-05 -> 5, 0.1234567 -> 7)."""
    mantissa, _, exponent = repr(float(value)).partition("e")
    digits = len(mantissa.partition(".")[2].rstrip("0"))
    return max(digits - int(exponent or 0), 0)


def rounding_warnings(frame: pd.DataFrame, spec) -> list[str]:
    """One warning per float column of a coerced table whose values have more decimals than the spec's
    ``decimals``: ``write_table`` rounds them in the split files. [] when nothing is rounded."""
    warnings = []
    for col in spec.columns:
        if col.type != "float" or col.name not in frame:
            continue
        values = frame[col.name].dropna().astype("float64")
        # np.round gives back the very float of a value already written with <= decimals, so this is exact
        rounded = values[values != np.round(values, col.decimals)]
        if rounded.empty:
            continue
        most = max(_decimals(v) for v in rounded)
        keep = (f"raise 'decimals' to {most} in the spec to keep them" if most <= 6
                else "raise 'decimals' in the spec, at most 6, to keep more of them")
        warnings.append(
            f"column '{col.name}': {len(rounded)} of {len(values)} values have more than "
            f"{plural(col.decimals, 'decimal')} (up to {most}); they are rounded to {plural(col.decimals, 'decimal')} "
            f"in the split files ({keep})"
        )
    return warnings
