"""Where the records are in raw model text: lines, wrappers and record shapes, before any value is read.

A call's text is cut into segments (lines, and inline chat markup such as '[/INST]' as a line break). Each segment,
or a block of them, becomes a candidate record of one of these shapes:
- positional fields: CSV with "," or ", ", a markdown table row, a bracketed list ``['Male', 62.7, ...]``;
- key-value pairs: one field a line (``gender: Female``, ``"gender": "Female",``), on one line
  (``Age: 62, Sex: F, ...``) or a JSON / Python dict literal (``{'gender': 'Female', ...}``); a line holding an
  array of records gives one candidate per record. Literals are read with ``json`` or ``ast.literal_eval`` on
  bounded text, never evaluated.
Wrappers are taken off first: chat role prefixes ('Assistant:'), list numbers and bullets, one or more record
labels ('1. Patient 1:', 'For example:'), markdown headings, ``#`` comments and a program's assignment of a literal
('row = [...]'). Rows inside a ``#`` comment (a program's comment
in a code answer) are read like any other row: the model wrote them, and copies among them are counted.
A header line (its fields name columns) is not a record; when it names every column, the rows after it are read
in its column order.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
from dataclasses import dataclass

from medsyn.parse.keys import AMBIGUOUS, ID, UNKNOWN, KeyResolver

# Chat markup that survives decoding: <|im_start|>, </s>, [INST], "GPT4 Correct Assistant:", "user:" ...
_INLINE_MARKUP = re.compile(r"<\|[^|>]{1,40}\|>|</?s>|<(?:start|end)_of_turn>|\[/?INST\]|<<SYS>>|<</SYS>>")
_ROLE_PREFIX = re.compile(
    r"^\s*(?:(?:GPT4\s+(?:Correct\s+)?)?(?:system|user|assistant|human|model|answer|output)\s*:\s*)", re.I
)
_LIST_PREFIX = re.compile(
    r"^\s*(?:\(?[*_]{0,2}\d{1,5}[.):][*_]{0,2}\s+|[-*\u2022]\s+|"
    r"(?:patient\s+)?(?:record|row|patient|example|sample|entry|case)\s*#?\s*\d+\s*[:.)-]\s*)",
    re.I,
)
_COMMENT_PREFIX = re.compile(r"^\s*#{1,6}\s+")
_EXAMPLE_LABEL = re.compile(r"^\s*(?:for\s+)?example\s*:\s*", re.I)  # 'For example: Male, 55, ...'
_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\[[^\]]{0,20}\])?\s*=\s*(?=[\[{(])")  # 'data = {...}'
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_STRIP_CHARS = " \t\"'`*"
# "gender: Female", "- **Age**: 21464", "3. bmi = 28.5", '"gender": "Female",': one field of a key-value record
_KEY_VALUE = re.compile(
    r"^\s*(?:[-*\u2022]\s+|\d{1,3}[.)]\s+)?[*_`\"']*([A-Za-z][A-Za-z0-9_ ()'/%.\-]{0,40}?)[*_`\"']*\s*[:=]\s*"
    r"(.*?)\s*,?\s*$"
)
_FLAT_DICT = re.compile(r"\{[^{}]{1,4000}\}")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
ROW_ID = re.compile(r"^(?:[A-Za-z]{1,3}[-_ ]?)?#?\d{1,6}[.:)]?$|^(?:patient|record|row)\s*#?\s*\d{1,6}$", re.I)
MAX_LITERAL = 20000  # characters a single literal may span (ast.literal_eval is only given bounded text)
MAX_NESTING = 8  # brackets a literal may nest (a record is at most an array of objects of values)


@dataclass
class Segment:
    line: int  # 0-based line of the call's text
    text: str
    fence: str | None = None  # the language of the enclosing ``` block ('' for a bare fence); None outside one


@dataclass
class Candidate:
    """One record-like piece of text: positional ``fields`` or key-value ``pairs`` (never both)."""

    first: int  # index of its first and last segment
    last: int
    raw: str  # its text, whitespace-normalised (rejects.tsv, prompt comparison)
    fields: list[str] | None = None
    pairs: list[tuple[str, str]] | None = None
    tags: tuple[str, ...] = ()
    order: list[str | None] | None = None  # per field: the column its header names (None: an ID column, dropped)
    text: str = ""  # the unwrapped line, for the prose reader


def normalize_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def split_segments(text: str) -> list[Segment]:
    """Lines, with inline chat markup turned into line breaks (Mistral glues '[/INST]' to a row)."""
    out: list[Segment] = []
    fence: str | None = None
    for lineno, line in enumerate(text.splitlines()):
        for piece in _INLINE_MARKUP.sub("\n", line).split("\n"):
            out.append(Segment(lineno, piece, fence))
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip().lower() if fence is None else None
    return out


def unwrap(text: str) -> tuple[str, tuple[str, ...]]:
    """The line without role prefixes, list numbers, record labels, headings and comment marks."""
    tags: list[str] = []
    prefixes = 0
    for _ in range(4):
        before = text
        text = _ROLE_PREFIX.sub("", text)
        if _COMMENT_PREFIX.match(text):
            text = _COMMENT_PREFIX.sub("", text)
            tags.append("comment")
        if _EXAMPLE_LABEL.match(text):
            text = _EXAMPLE_LABEL.sub("", text, count=1)
            tags.append("label")
        if _ASSIGNMENT.match(text):
            text = _ASSIGNMENT.sub("", text, count=1)
            tags.append("code")  # 'record = {...}', 'patients[7] = [...]': a literal in a program
        m = _LIST_PREFIX.match(text)
        if m:
            prefixes += 1
            if "*" in m.group(0) or "_" in m.group(0):
                tags.append("markdown")  # '**1.** Female, ...'
            text = text[m.end():]
        if text == before:
            break
    if prefixes >= 2:
        tags.append("double_prefix")
    return text.strip(), tuple(tags)


def key_value(line: str) -> tuple[str, str] | None:
    """``(key, value)`` of a 'key: value' line whose value is short (a definition or prose is not a value)."""
    m = _KEY_VALUE.match(line)
    if not m:
        return None
    value = m.group(2).strip().rstrip(",").strip(_STRIP_CHARS)
    if not value or len(value) > 40 or len(value.split()) > 3:
        return None
    return m.group(1).strip(), value


class RecordFinder:
    """Finds candidate records in the segments of one call, for one spec (its column keys and width)."""

    def __init__(self, keys: KeyResolver, n_cols: int, n_ids: int, prompt_lines: set[str]):
        self.keys = keys
        self.n_cols = n_cols
        self.n_ids = n_ids
        self.prompt_lines = prompt_lines

    def candidates(self, segments: list[Segment]) -> tuple[list[Candidate], dict[str, int]]:
        """Candidates in text order, and the counts of ``non_data`` and ``header`` lines."""
        counts = {"non_data": 0, "header": 0}
        blocks = self._key_value_blocks(segments)
        out: list[Candidate] = []
        order: list[str | None] | None = None
        i = 0
        while i < len(segments):
            if i in blocks:
                out.append(blocks[i])
                i = blocks[i].last + 1
                continue
            seg = segments[i]
            i += 1
            if not seg.text.strip():
                continue
            found = self._line(seg.text, i - 1)
            if found == "header":
                counts["header"] += 1
                order = self._header_order(seg.text)
                continue
            if not found:
                counts["non_data"] += 1
                order = None
                continue
            for cand in found:
                if cand.fields is not None and order is not None and len(cand.fields) == len(order):
                    cand.order = order
                out.append(cand)
        return out, counts

    # -- one line ------------------------------------------------------------------------------------------

    def _line(self, text: str, index: int) -> list[Candidate] | str | None:
        raw = normalize_line(text)
        line, tags = unwrap(text)
        if not line or line.startswith("```") or _TABLE_RULE.match(line):
            return None
        if line[0] in "{[":
            found = self._literal(line, index, raw, tags)
            if found:
                return found
        if line.startswith("|") or (line.count("|") >= 2 and "," not in line):
            fields = [f.strip(_STRIP_CHARS).rstrip(",").strip() for f in line.strip("|").split("|")]
        else:
            try:
                fields = next(csv.reader([line], skipinitialspace=True))
            except (csv.Error, StopIteration):
                return None
            fields = [f.strip(_STRIP_CHARS) for f in fields]
            pairs = self._inline_pairs(fields) if (":" in line or "=" in line) else None
            if pairs is not None:
                return [Candidate(index, index, raw, pairs=pairs, tags=tags + ("kv_inline",), text=line)]
        if fields and fields[-1] == "" and len(fields) in (self.n_cols + 1, self.n_cols + self.n_ids + 1):
            fields = fields[:-1]  # trailing comma
        if len(fields) < max(2, math.ceil(self.n_cols / 2)):
            return None
        if self._is_header(fields):
            return "header"
        return [Candidate(index, index, raw, fields=fields, tags=tags, text=line)]

    def _inline_pairs(self, fields: list[str]) -> list[tuple[str, str]] | None:
        """'ID: 001, N_Days: 365, Status: C, ...' on one line -> its pairs (None: not such a line)."""
        if len(fields) < max(2, math.ceil(self.n_cols / 2)):
            return None
        pairs = [key_value(f) for f in fields]
        named = sum(p is not None and self.keys.resolve(p[0]) not in (UNKNOWN, ID) for p in pairs)
        if named < max(2, math.ceil(len(fields) / 2)):
            return None
        # a field that is no pair keeps the empty key: read as a record label when ID-like, else refused
        return [p if p is not None else ("", f) for p, f in zip(pairs, fields) if p is not None or f.strip()]

    def _is_header(self, fields: list[str]) -> bool:
        named = sum(self.keys.resolve(f) not in (UNKNOWN, AMBIGUOUS) for f in fields if f)
        return named >= max(2, len(fields) // 2)

    def _header_order(self, text: str) -> list[str | None] | None:
        """A header naming every column once (IDs allowed): the column of each of its fields."""
        line, _ = unwrap(text)
        if line.startswith("|") or (line.count("|") >= 2 and "," not in line):
            fields = [f.strip(_STRIP_CHARS) for f in line.strip("|").split("|")]
        else:
            fields = [f.strip(_STRIP_CHARS) for f in next(csv.reader([line], skipinitialspace=True), [])]
        order: list[str | None] = []
        for f in fields:
            found = self.keys.resolve(f) if f.strip("#") else ID
            if found in (UNKNOWN, AMBIGUOUS) or (found != ID and found in order):
                return None
            order.append(None if found == ID else found)
        return order

    # -- literals ------------------------------------------------------------------------------------------

    def _literal(self, line: str, index: int, raw: str, tags: tuple[str, ...]) -> list[Candidate] | None:
        """A JSON or Python literal on one line (a record, or an array of records) -> its candidates."""
        text = line.rstrip(",;").strip()
        obj = _load_literal(text) if len(text) <= MAX_LITERAL else None
        if obj is not None:
            records = _records_of(obj)
        else:  # '[{...}, {...}, ..., {...}]' or "['Male,62,...', ..., '...']": not a literal, but its records are
            records = [r for r in (_load_literal(m.group(0)) for m in _FLAT_DICT.finditer(text)) if isinstance(r, dict)]
            if not records and text.startswith("[") and text.endswith("]"):
                quoted = [a or b for a, b in _QUOTED.findall(text)]
                records = [q for q in quoted if q.count(",") >= 2]
                if not records and "[" not in text[1:-1]:
                    records = [next(csv.reader([text[1:-1]], skipinitialspace=True), [])]
        out = []
        for rec in records:
            if isinstance(rec, dict):
                pairs = [(str(k), _scalar(v)) for k, v in rec.items()]
                out.append(Candidate(index, index, raw, pairs=pairs, tags=tags + ("dict",), text=line))
            else:
                fields = next(csv.reader([rec], skipinitialspace=True), []) if isinstance(rec, str) else rec
                fields = [_scalar(v).strip(_STRIP_CHARS) for v in fields]
                if len(fields) >= max(2, math.ceil(self.n_cols / 2)) and not self._is_header(fields):
                    out.append(Candidate(index, index, raw, fields=fields, tags=tags + ("list",), text=line))
        return out or None

    # -- one field a line ----------------------------------------------------------------------------------

    def _key_value_blocks(self, segments: list[Segment]) -> dict[int, Candidate]:
        """'gender: Female / age: 24.0 / ...' (or JSON spread one key a line) -> one candidate per block.

        A block ends at a line that is not such a pair, at a key seen twice or when every column is named. A block
        of fewer than two column keys is left alone; a block whose lines all occur in the prompt is the prompt's
        own definitions and left alone too (its lines then count as non-data). Incomplete blocks become candidates
        with columns missing (rejected as ``field_count``).
        """
        out: dict[int, Candidate] = {}
        block: list[tuple[int, str, str, str]] = []  # (segment, key, value, column)

        def flush() -> None:
            columns = [c for _, _, _, c in block if c != ID]
            lines = [s for s, _, _, _ in block]
            in_prompt = all(normalize_line(segments[s].text) in self.prompt_lines for s in lines)
            if len(columns) >= 2 and not in_prompt:
                quoted = any(segments[s].text.lstrip().startswith(('"', "'")) for s in lines)
                raw = " | ".join(normalize_line(segments[s].text) for s in lines)
                pairs = [(k, v) for _, k, v, _ in block]
                tag = "json_lines" if quoted else "kv_lines"
                out[lines[0]] = Candidate(lines[0], lines[-1], raw, pairs=pairs, tags=(tag,))
            block.clear()

        for i, seg in enumerate(segments):
            if not seg.text.strip():
                continue
            pair = key_value(seg.text)
            column = self.keys.resolve(pair[0]) if pair else UNKNOWN
            if column in (UNKNOWN, AMBIGUOUS):
                if block:
                    flush()
                continue
            if any(c == column for _, _, _, c in block if c != ID) or (column == ID and block):
                flush()
            block.append((i, pair[0], pair[1], column))
            if sum(c != ID for _, _, _, c in block) == self.n_cols:
                flush()
        if block:
            flush()
        return out


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]})":
            depth -= 1
    return deepest


def _load_literal(text: str):
    """A JSON or Python literal, or None; deeply nested text is never handed to either parser."""
    if _nesting(text) > MAX_NESTING:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _records_of(obj) -> list:
    """A literal -> its records: a dict of scalars, each dict of a dict of dicts or a list, or a list of values."""
    if isinstance(obj, dict):
        if obj and all(isinstance(v, dict) for v in obj.values()):
            return list(obj.values())
        return [obj]
    if isinstance(obj, (list, tuple)):
        obj = [v for v in obj if v is not Ellipsis]  # '[{...}, ..., {...}]': the records written out
        if obj and all(isinstance(v, (dict, list, tuple)) for v in obj):
            return [v if isinstance(v, dict) else list(v) for v in obj]
        if obj and all(isinstance(v, str) and v.count(",") >= 2 for v in obj):
            return list(obj)
        return [list(obj)]
    return []


def _scalar(value) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return "NA" if value is None else str(value)

