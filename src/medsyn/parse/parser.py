"""From raw LLM text to validated rows, with a reason for every rejected row.

The parser never raises on model output. It reads CSV lines with "," or ", " separators, numbered or bulleted
lists, markdown tables, code fences and chat role markers; a line that does not look like a record at all
(prose, code, headings) is counted as non-data, not as a rejected row.

Copies of the prompt's example rows are always counted and, by default, excluded: the paper counted them as
synthetic data, which made half of many runs copies of real patients.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from medsyn.spec import MISSING_TEXT, Column, DatasetSpec

REASONS = (
    "field_count",
    "truncated",
    "missing_not_allowed",
    "not_a_number",
    "not_an_integer",
    "out_of_range",
    "unknown_category",
    "example_copy",
    "prompt_echo",
    "duplicate",
)
COPY_REASONS = ("example_copy", "prompt_echo", "duplicate")  # well-formed rows rejected for not being new
MISSING_WORDS = {"", "na", "n/a", "nan", "none", "null", "unknown_value", "?"}

# Chat markup that survives decoding: <|im_start|>, </s>, [INST], "GPT4 Correct Assistant:", "user:" ...
_INLINE_MARKUP = re.compile(r"<\|[^|>]{1,40}\|>|</?s>|<(?:start|end)_of_turn>|\[/?INST\]|<<SYS>>|<</SYS>>")
_ROLE_PREFIX = re.compile(
    r"^\s*(?:(?:GPT4\s+(?:Correct\s+)?)?(?:system|user|assistant|human|model|answer|output)\s*:\s*)", re.I
)
_LIST_PREFIX = re.compile(
    r"^\s*(?:\(?\d{1,5}[.):]\s+|[-*\u2022]\s+|(?:patient\s+)?(?:record|row|patient)\s*#?\s*\d+\s*[:.)-]\s*)", re.I
)
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_STRIP_CHARS = " \t\"'`*"
# "gender: Female", "- **Age**: 21464", "3. bmi = 28.5": one field of a key-value record
_KEY_VALUE = re.compile(
    r"^\s*(?:[-*\u2022]\s+|\d{1,3}[.)]\s+)?[*_`]*([A-Za-z][A-Za-z0-9_ ]{0,40}?)[*_`]*\s*[:=]\s*(.*?)\s*$"
)
_ROW_INDEX = re.compile(r"^\d{1,6}$")
_YES_NO = {"yes": True, "true": True, "no": False, "false": False}


def _level_aliases(col: Column) -> dict[str, str]:
    """Lower-case text -> canonical level: the levels, one-word level meanings ('female' -> 'F'), and yes/no
    for binary 0/1 and N/Y columns (the paper's parsers mapped those too)."""
    aliases = {lvl.lower(): lvl for lvl in col.levels}
    for lvl, meaning in col.level_meanings.items():
        word = meaning.strip().lower()
        if word and " " not in word and word not in aliases and lvl in col.levels:
            aliases[word] = lvl
    if col.type == "binary":
        pair = {lvl.lower(): lvl for lvl in col.levels}
        for word, truth in _YES_NO.items():
            for no_yes in (("0", "1"), ("n", "y")):
                if set(pair) == set(no_yes) and word not in aliases:
                    aliases[word] = pair[no_yes[1] if truth else no_yes[0]]
    return aliases


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
    copies_kept: int = 0

    def reason_counts(self) -> dict[str, int]:
        counts = Counter(r.reason for r in self.rejects)
        return {reason: counts.get(reason, 0) for reason in REASONS}


def _normalize_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


class RowParser:
    """Stateful across calls of one run, so duplicates are detected run-wide."""

    def __init__(
        self,
        spec: DatasetSpec,
        example_rows: list[str] = (),
        prompt_text: str = "",
        keep_example_copies: bool = False,
        reject_duplicates: bool = True,
    ):
        self.spec = spec
        self.n_cols = len(spec.columns)
        self.examples = set(example_rows)
        self.prompt_lines = {_normalize_line(x) for x in prompt_text.splitlines() if x.strip()}
        self.keep_example_copies = keep_example_copies
        self.reject_duplicates = reject_duplicates
        self.seen: set[str] = set()
        self.header_names = {c.name.lower() for c in spec.columns} | {c.lower() for c in spec.id_columns}
        self.level_lookup = {c.name: _level_aliases(c) for c in spec.columns if not c.is_numeric}
        self.kv_keys = {c.name.lower(): c.name for c in spec.columns}
        self.kv_keys.update({c.lower(): None for c in spec.id_columns})  # an ID key belongs to a block, unused
        self.result = ParseResult()

    # -- line splitting -------------------------------------------------------------------------------------

    def _segments(self, text: str) -> list[str]:
        """Lines, with inline chat markup turned into line breaks (Mistral glues '[/INST]' to a row)."""
        out = []
        for line in text.splitlines():
            out.extend(_INLINE_MARKUP.sub("\n", line).split("\n"))
        return self._merge_key_value_blocks(out)

    def _kv_pair(self, line: str) -> tuple[str | None, str] | None:
        """``(column, value)`` for a 'key: value' line naming a spec column (or an ID column: column None)."""
        m = _KEY_VALUE.match(line)
        if not m:
            return None
        key = re.sub(r"\s+", "_", m.group(1).strip()).lower()
        if key not in self.kv_keys:
            return None
        value = m.group(2).strip(_STRIP_CHARS)
        if len(value) > 40 or len(value.split()) > 3:  # a definition or prose, not a value
            return None
        return self.kv_keys[key], value

    def _merge_key_value_blocks(self, segments: list[str]) -> list[str]:
        """'gender: Female / age: 24.0 / ...' records over several lines -> one CSV line, at the block's first line.

        The block's other lines become blank, so line numbers still match the text. A block of fewer than two
        column keys is left alone; a block whose lines all occur in the prompt is an echo and left alone too
        (its lines then count as non-data). Incomplete blocks become short rows (rejected as ``field_count``).
        """
        out = list(segments)
        block: dict[str, str] = {}
        lines: list[int] = []

        def flush() -> None:
            named = {k: v for k, v in block.items() if k is not None}
            if len(named) >= 2 and not all(_normalize_line(segments[i]) in self.prompt_lines for i in lines):
                values = [named[c.name] for c in self.spec.columns if c.name in named]
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(values)
                for i in lines:
                    out[i] = ""
                out[lines[0]] = buf.getvalue()
            block.clear()
            lines.clear()

        for i, segment in enumerate(segments):
            if not segment.strip():
                continue
            pair = self._kv_pair(segment)
            if pair is None:
                flush()
                continue
            column, value = pair
            if column in block:
                flush()
            block[column] = value
            lines.append(i)
            if sum(k is not None for k in block) == self.n_cols:
                flush()
        flush()
        return out

    def _fields(self, line: str) -> list[str] | None:
        """The fields of a candidate record, or None for a non-data line."""
        line = _ROLE_PREFIX.sub("", line)
        line = _LIST_PREFIX.sub("", line).strip()
        if not line or line.startswith("```") or _TABLE_RULE.match(line):
            return None
        if line.startswith("|") or (line.count("|") >= 2 and "," not in line):
            fields = [f.strip(_STRIP_CHARS) for f in line.strip("|").split("|")]
        else:
            try:
                fields = next(csv.reader([line], skipinitialspace=True))
            except (csv.Error, StopIteration):
                return None
            fields = [f.strip(_STRIP_CHARS) for f in fields]
            fields = self._inline_key_values(fields)
        if fields and fields[-1] == "" and len(fields) == self.n_cols + 1:
            fields = fields[:-1]  # trailing comma
        if len(fields) < max(2, math.ceil(self.n_cols / 2)):
            return None
        return fields

    def _inline_key_values(self, fields: list[str]) -> list[str]:
        """'ID: 001, N_Days: 365, Status: C, ...' on one line -> the values in spec order (ID keys dropped)."""
        pairs = [self._kv_pair(f) for f in fields]
        if sum(p is not None for p in pairs) < max(2, math.ceil(len(fields) / 2)):
            return fields
        named = {p[0]: p[1] for p in pairs if p is not None and p[0] is not None}
        return [named[c.name] for c in self.spec.columns if c.name in named]

    def _is_header(self, fields: list[str]) -> bool:
        named = sum(f.lower() in self.header_names for f in fields)
        return named >= max(2, len(fields) // 2)

    # -- field validation ----------------------------------------------------------------------------------

    def _value(self, col: Column, text: str) -> tuple[str | None, str]:
        """(canonical text, "") when valid, else (None, reason)."""
        if text.lower() in MISSING_WORDS or text in self.spec.missing_tokens:
            return (MISSING_TEXT, "") if col.allow_missing else (None, "missing_not_allowed")
        if col.is_numeric:
            try:
                value = float(text.replace(" ", ""))
            except ValueError:
                return None, "not_a_number"
            if not math.isfinite(value):
                return None, "not_a_number"
            if col.type == "integer" and value != round(value):
                return None, "not_an_integer"
            if value < col.min or value > col.max:
                return None, "out_of_range"
            return col.format_value(value), ""
        canonical = self.level_lookup[col.name].get(text.lower())
        if canonical is None and text.endswith(".0"):  # '1.0' for a level '1'
            canonical = self.level_lookup[col.name].get(text[:-2].lower())
        if canonical is None:
            return None, "unknown_category"
        return canonical, ""

    # -- public ---------------------------------------------------------------------------------------------

    def feed(self, text: str, call: int = 0, truncated: bool = False, examples=None) -> list[list[str]]:
        """Parse one call's text; returns the rows accepted from it (also appended to ``result.rows``).

        ``examples``: the example rows this call's prompt showed, when calls had examples of their own
        (``generation.examples.per_call``); copies are judged against them instead of the prompt's."""
        accepted: list[list[str]] = []
        call_examples = self.examples if examples is None else set(examples)
        segments = self._segments(text)
        last_candidate = max((i for i, s in enumerate(segments) if s.strip()), default=-1)
        n_ids = len(self.spec.id_columns)
        for lineno, segment in enumerate(segments):
            if not segment.strip():
                continue
            fields = self._fields(segment)
            if fields is None:
                self.result.non_data_lines += 1
                continue
            if self._is_header(fields):
                self.result.header_lines += 1
                continue
            if len(fields) == self.n_cols + n_ids + 1 and _ROW_INDEX.match(fields[0]):
                fields = fields[1:]  # a row number written as a first field ("1,Male,48,...")
            if n_ids and len(fields) == self.n_cols + n_ids:
                fields = fields[n_ids:]  # an ID column the spec drops (the paper's cirrhosis rows)
            raw = _normalize_line(segment)

            def reject(reason: str, detail: str = "") -> None:
                if truncated and lineno == last_candidate and reason not in ("example_copy", "duplicate"):
                    reason = "truncated"
                self.result.rejects.append(Reject(call, lineno, reason, raw[:300], detail))

            if len(fields) != self.n_cols:
                reject("field_count", f"{len(fields)} fields, expected {self.n_cols}")
                continue
            values, failure = [], None
            for col, text_value in zip(self.spec.columns, fields):
                value, reason = self._value(col, text_value)
                if value is None:
                    failure = (reason, f"{col.name}={text_value!r}")
                    break
                values.append(value)
            if failure:
                reject(*failure)
                continue
            canonical = ",".join(values)
            if canonical in call_examples:
                if not self.keep_example_copies:
                    reject("example_copy")
                    continue
                self.result.copies_kept += 1
            elif raw in self.prompt_lines:
                reject("prompt_echo")
                continue
            if self.reject_duplicates and canonical in self.seen:
                reject("duplicate")
                continue
            self.seen.add(canonical)
            accepted.append(values)
        self.result.rows.extend(accepted)
        return accepted
