"""Reading a user's CSV file as text cells: the encoding and the delimiter found, not assumed.

A user's table may come from Excel (cp1252, ``;`` as the delimiter in many locales), a database export (tabs) or
a UTF-8 file with a byte-order mark. Every cell is read as text (the spec, not pandas, decides what a value means),
and a file that cannot be a table gets an error that names the file: empty, a header only, a single column,
duplicate column names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from medsyn.errors import DataError

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # tried in this order; latin-1 reads any bytes
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class CsvCells:
    frame: pd.DataFrame  # every cell a str, missing cells ''
    encoding: str
    delimiter: str

    def describe(self) -> str:
        shown = {"\t": "tab"}.get(self.delimiter, repr(self.delimiter))
        return f"encoding {self.encoding}, delimiter {shown}"


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return raw.decode("utf-16"), "utf-16"
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise DataError(f"{path}: not a text file (it holds NUL bytes): a spreadsheet (.xlsx), an image or another "
                        "binary file? Export the table as CSV")
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DataError(f"{path}: cannot decode the file as {', '.join(ENCODINGS)}")  # unreachable with latin-1


def _delimiter(text: str) -> str:
    """The delimiter that splits the header and the first lines into the same number of fields (more than one),
    preferring the most fields; ',' when none does (a single-column file is refused later)."""
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES:
        sample = sample[: sample.rfind("\n") + 1]  # the sample may cut its last line
    lines = [line for line in sample.splitlines() if line.strip()][:20]
    best, best_fields = ",", 1
    for delim in DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=delim)}
        except csv.Error:
            continue
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delim, fields
    return best


def read_csv_cells(path: str | Path) -> CsvCells:
    """The table in ``path`` as text cells, with the encoding and delimiter it was read with.

    Raises DataError naming the file for: a missing or empty file, a header without rows, a single column,
    duplicate column names, rows with more fields than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")
    raw = path.read_bytes()
    text, encoding = _decode(raw, path)
    if not text.strip():
        raise DataError(f"{path}: the file is empty (no header, no rows)")
    delimiter = _delimiter(text)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    names = [name.strip() for name in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        where = "; ".join(f"'{n}' at columns {[i + 1 for i, m in enumerate(names) if m == n]}" for n in dupes)
        raise DataError(f"{path}: duplicate column names: {where} (rename them so each column has its own name)")
    if len(names) < 2:
        raise DataError(
            f"{path}: only one column found ({names[0]!r}) with any of the delimiters "
            f"{', '.join(repr(d) for d in DELIMITERS)}; a table needs at least two columns (a value and a target)"
        )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[],
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read as CSV ({encoding}, delimiter {delimiter!r}): {exc}") from None
    if frame.empty:
        raise DataError(f"{path}: the file has a header ({len(names)} columns) but no data rows")
    return CsvCells(frame, encoding, delimiter)
