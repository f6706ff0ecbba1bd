"""From raw LLM text to validated rows, with a reason for every rejected row.

The parser never raises on model output. ``formats`` finds the candidate records (CSV, lists, markdown tables,
key-value records, JSON and dict literals, prose), ``keys`` matches keys to columns, ``values`` reads each field
and ``echo`` finds echoed prompts; a line that does not look like a record at all (prose, code, headings) is
counted as non-data, not as a rejected row.

Rows inside an echoed prompt are the prompt's, not the model's: counted as ``prompt_echo`` and, by default,
dropped. Copies of the prompt's example rows outside an echo are the model's copies: always counted and, by
default, excluded (the paper counted them as synthetic data, which made half of many runs copies of real
patients).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from medsyn.parse.echo import EchoFinder
from medsyn.parse.formats import ROW_ID, Candidate, RecordFinder, normalize_line, split_segments
from medsyn.parse.keys import AMBIGUOUS, ID, UNKNOWN, KeyResolver
from medsyn.parse.prose import ProseReader
from medsyn.parse.values import MISSING_WORDS, ValueReader
from medsyn.spec import DatasetSpec

REASONS = (
    "field_count",
    "truncated",
    "missing_not_allowed",
    "not_a_number",
    "not_an_integer",
    "out_of_range",
    "unknown_category",
    "wrong_unit",
    "ambiguous_value",
    "unknown_key",
    "ambiguous_key",
    "prose",
    "example_copy",
    "prompt_echo",
    "duplicate",
)
COPY_REASONS = ("example_copy", "prompt_echo", "duplicate")  # well-formed rows rejected for not being new
_VALUE_REASONS = ("missing_not_allowed", "not_an_integer", "out_of_range", "wrong_unit", "ambiguous_value")
__all__ = ["COPY_REASONS", "MISSING_WORDS", "REASONS", "ParseResult", "Reject", "RowParser"]


@dataclass
class Reject:
    call: int
    line: int
    reason: str
    text: str
    detail: str = ""


@dataclass
class ParseResult:
    rows: list[list[str]] = field(default_factory=list)  # canonical text per spec column ("NA" = missing)
    rejects: list[Reject] = field(default_factory=list)
    non_data_lines: int = 0
    header_lines: int = 0
    copies_kept: int = 0  # example copies kept (keep_example_copies)
    echo_rows: int = 0  # spec-valid rows inside an echoed prompt (kept or not)
    echo_example_rows: int = 0  # those equal to a prompt example
    echo_kept: int = 0  # echo rows kept (keep_prompt_echo)
    row_formats: list[tuple[str, ...]] = field(default_factory=list)  # per kept row: the format classes read
    row_sources: list[tuple[int, int, int]] = field(default_factory=list)  # per kept row: call, first, last line

    def reason_counts(self) -> dict[str, int]:
        counts = Counter(r.reason for r in self.rejects)
        return {reason: counts.get(reason, 0) for reason in REASONS}

    def format_counts(self) -> dict[str, int]:
        """Kept rows per format class (a row read through several classes counts in each)."""
        counts = Counter(tag for tags in self.row_formats for tag in tags)
        return dict(sorted(counts.items()))


class RowParser:
    """Stateful across calls of one run, so duplicates are detected run-wide."""

    def __init__(
        self,
        spec: DatasetSpec,
        example_rows: list[str] = (),
        prompt_text: str = "",
        keep_example_copies: bool = False,
        reject_duplicates: bool = True,
        keep_prompt_echo: bool = False,
    ):
        self.spec = spec
        self.n_cols = len(spec.columns)
        self.examples = set(example_rows)
        self.prompt_lines = {normalize_line(x) for x in prompt_text.splitlines() if x.strip()}
        self.keep_example_copies = keep_example_copies
        self.reject_duplicates = reject_duplicates
        self.keep_prompt_echo = keep_prompt_echo
        self.seen: set[str] = set()
        self.keys = KeyResolver(spec)
        self.values = ValueReader(spec, self.keys)
        self.prose = ProseReader(spec, self.keys, self.values)
        self.finder = RecordFinder(self.keys, self.n_cols, len(spec.dropped_columns), self.prompt_lines)
        self.echo = EchoFinder(prompt_text, self._is_row) if prompt_text else None
        self.result = ParseResult()

    # -- public ---------------------------------------------------------------------------------------------

    def feed(self, text: str, call: int = 0, truncated: bool = False, examples=None) -> list[list[str]]:
        """Parse one call's text; returns the rows accepted from it (also appended to ``result.rows``).

        ``examples``: the example rows this call's prompt showed, when calls had examples of their own
        (``generation.examples.per_call``); copies are judged against them instead of the prompt's."""
        accepted: list[list[str]] = []
        call_examples = self.examples if examples is None else set(examples)
        segments = split_segments(text)
        echo = self.echo.spans(segments) if self.echo else set()
        candidates, counts = self.finder.candidates(segments)
        self.result.non_data_lines += counts["non_data"]
        self.result.header_lines += counts["header"]
        last_line = max((i for i, s in enumerate(segments) if s.text.strip()), default=-1)
        for cand in candidates:
            lineno = segments[cand.first].line

            def reject(reason: str, detail: str = "") -> None:
                if truncated and cand.last == last_line and reason not in COPY_REASONS:
                    reason = "truncated"
                self.result.rejects.append(Reject(call, lineno, reason, cand.raw[:300], detail))

            values, reason, detail, tags = self.read(cand)
            if values is None:
                reject(reason, detail)
                continue
            canonical = ",".join(values)
            if cand.first in echo or (canonical not in call_examples and cand.raw in self.prompt_lines):
                # the prompt's own text: inside an echoed prompt, or a prompt line that is not an example row
                self.result.echo_rows += 1
                self.result.echo_example_rows += canonical in call_examples
                if not self.keep_prompt_echo:
                    reject("prompt_echo")
                    continue
                self.result.echo_kept += 1
            elif canonical in call_examples:
                if not self.keep_example_copies:
                    reject("example_copy")
                    continue
                self.result.copies_kept += 1
            if self.reject_duplicates and canonical in self.seen:
                reject("duplicate")
                continue
            self.seen.add(canonical)
            accepted.append(values)
            self.result.row_formats.append(tags)
            self.result.row_sources.append((call, lineno, segments[cand.last].line))
        self.result.rows.extend(accepted)
        return accepted

    def read(self, cand: Candidate) -> tuple[list[str] | None, str, str, tuple[str, ...]]:
        """(values, "", "", format classes) for a valid record, else (None, reason, detail, ())."""
        if cand.pairs is not None:
            fields, reason, detail, tags = self._named_fields(cand)
        else:
            fields, reason, detail, tags = self._positional_fields(cand)
        if fields is not None:
            values, reason, detail, value_tags = self._read_values(fields)
            if values is not None:
                return values, "", "", tuple(dict.fromkeys(cand.tags + tags + value_tags))
        # a line that is not a record of fields in order may be prose ('Female, 45.2 years old, hypertensive, ...',
        # or keys mixed with bare values); a value refused in its place keeps its own reason
        mixed = reason == "unknown_key" and detail.startswith("unlabelled")
        if cand.text and (cand.fields is not None or mixed) and reason not in _VALUE_REASONS:
            prose, prose_detail, prose_like = self.prose.read(cand.text)
            if prose is not None:
                return prose, "", "", tuple(dict.fromkeys(cand.tags + ("prose",)))
            if prose_like:
                return None, "prose", prose_detail, ()
        return None, reason, detail, ()

    # -- records -> fields in spec order ------------------------------------------------------------------

    def _positional_fields(self, cand: Candidate):
        fields = list(cand.fields)
        tags: tuple[str, ...] = ()
        if cand.order is not None:
            by_column = {col: f for col, f in zip(cand.order, fields) if col is not None}
            missing = [c for c in self.spec.column_names if c not in by_column]
            if missing:
                return None, "field_count", f"its header lacks {', '.join(missing)}", ()
            if list(by_column) != self.spec.column_names:
                tags += ("header_order",)
            return [by_column[c] for c in self.spec.column_names], "", "", tags
        n_ids = len(self.spec.dropped_columns)
        if len(fields) == self.n_cols + n_ids + 1 and ROW_ID.match(fields[0]):
            if not fields[0].isdigit():
                tags += ("id_column",)
            fields = fields[1:]  # a row number or record ID as a first field ("1,Male,48,...", "| P001 | ...")
        if n_ids and len(fields) == self.n_cols + n_ids:
            fields = fields[n_ids:]  # an ID column the spec drops (the paper's cirrhosis rows)
        if len(fields) != self.n_cols:
            return None, "field_count", f"{len(fields)} fields, expected {self.n_cols}", ()
        return fields, "", "", tags

    def _named_fields(self, cand: Candidate):
        by_column: dict[str, str] = {}
        renamed = False
        for key, value in cand.pairs:
            if key == "":
                if ROW_ID.match(value.strip()):
                    continue  # a record label among the pairs ('Patient 3, Age: 61, ...')
                return None, "unknown_key", f"unlabelled value {value!r}", ()
            column = self.keys.resolve(key)
            if column == ID:
                continue
            if column == UNKNOWN:
                return None, "unknown_key", f"{key!r} names no column", ()
            if column == AMBIGUOUS:
                return None, "ambiguous_key", f"{key!r} fits several columns", ()
            if column in by_column:
                return None, "ambiguous_key", f"{column} given twice", ()
            by_column[column] = value
            renamed |= key.strip("\"'` *_").lower() != column.lower()
        missing = [c for c in self.spec.column_names if c not in by_column]
        if missing:
            return None, "field_count", f"{len(by_column)} fields, missing {', '.join(missing)}", ()
        return [by_column[c] for c in self.spec.column_names], "", "", ("key_match",) if renamed else ()

    def _read_values(self, fields: list[str]):
        values, tags = [], []
        for col, text in zip(self.spec.columns, fields):
            reading = self.values.read(col, text)
            if reading.value is None:
                return None, reading.reason, f"{col.name}={text!r}", ()
            values.append(reading.value)
            tags.extend(reading.tags)
        return values, "", "", tuple(dict.fromkeys(tags))

    def _is_row(self, line: str) -> bool:
        """Whether one line of the prompt reads as a valid record (a row of its example block)."""
        candidates, _ = self.finder.candidates(split_segments(line))
        return any(self.read(c)[0] is not None for c in candidates)
