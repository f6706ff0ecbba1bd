"""Compile a dataset spec into a GBNF grammar for CSV rows.

Every string the grammar accepts is a row the parser accepts: columns in spec order, categorical levels
spelled exactly, numbers with the spec's decimals and inside the spec's plausible range, ``NA`` only where
the spec allows missing values.

Numeric ranges are compiled exactly: a value with ``d`` decimals is the integer ``N = value * 10**d``, and the
set of decimal strings of ``N`` in ``[lo, hi]`` is a union of fixed-length digit-class sequences (the classic
"regex for a numeric range" construction); negative ``N`` are a '-' before the sequences of their magnitudes,
and zero is never signed. The decimal point is inserted ``d`` classes from the right, so the
grammar stays a plain concatenation of character classes: cheap for llama.cpp's grammar sampler.
"""

from __future__ import annotations

import math
import re

from medsyn.spec import MISSING_TEXT, Column, DatasetSpec

DigitSeq = list[tuple[int, int]]  # one (lowest, highest) digit per position


def _same_length_sequences(a: str, b: str) -> list[DigitSeq]:
    """Digit-class sequences matching exactly the equal-length digit strings in [a, b]."""
    if not a:
        return [[]]
    a0, b0 = int(a[0]), int(b[0])
    if a0 == b0:
        return [[(a0, a0)] + s for s in _same_length_sequences(a[1:], b[1:])]
    rest = len(a) - 1
    seqs: list[DigitSeq] = []
    first_full, last_full = a0, b0
    if a[1:] != "0" * rest:  # a0 only with a tail from a[1:] upwards
        seqs += [[(a0, a0)] + s for s in _same_length_sequences(a[1:], "9" * rest)]
        first_full = a0 + 1
    upper: list[DigitSeq] = []
    if b[1:] != "9" * rest:  # b0 only with a tail up to b[1:]
        upper = [[(b0, b0)] + s for s in _same_length_sequences("0" * rest, b[1:])]
        last_full = b0 - 1
    if first_full <= last_full:
        seqs.append([(first_full, last_full)] + [(0, 9)] * rest)
    return seqs + upper


def integer_range_sequences(lo: int, hi: int, min_width: int = 1) -> list[DigitSeq]:
    """Sequences for the integers in [lo, hi] written without leading zeros, padded to ``min_width`` digits
    (unsigned: ``numeric_sequences`` writes a negative range as '-' and the sequences of its magnitudes)."""
    if lo < 0 or lo > hi:
        raise ValueError(f"bad range [{lo}, {hi}]")
    seqs: list[DigitSeq] = []
    width_lo = max(len(str(lo)), min_width)
    width_hi = max(len(str(hi)), min_width)
    for width in range(width_lo, width_hi + 1):
        start = lo if width == width_lo else 10 ** (width - 1)
        end = min(hi, 10**width - 1)
        if start <= end:
            seqs += _same_length_sequences(str(start).zfill(width), str(end).zfill(width))
    return seqs


def scaled_range(column: Column) -> tuple[int, int]:
    """The spec range of a numeric column as integers in units of its last decimal."""
    scale = 10**column.decimals if column.type == "float" else 1
    lo = math.ceil(round(column.min * scale, 6))
    hi = math.floor(round(column.max * scale, 6))
    return lo, hi


def numeric_sequences(column: Column) -> list[list[str]]:
    """Each alternative as a list of atoms: a digit class '[a-b]', a digit 'x', the point '.' or the sign '-'."""
    decimals = column.decimals if column.type == "float" else 0
    lo, hi = scaled_range(column)
    if lo > hi:
        raise ValueError(f"bad range [{lo}, {hi}]")
    # A negative N is '-' and the digits of -N, for -N in [max(1, -hi), -lo]: zero is only ever written unsigned
    # ('0', '0.00'), so '-0' and '-0.00' are not in the language (the parser's canonical text has no '-0' either).
    parts = []
    if lo < 0:
        parts.append(("-", max(1, -hi), -lo))
    if hi >= 0:
        parts.append(("", max(0, lo), hi))
    out = []
    for sign, a, b in parts:
        for seq in integer_range_sequences(a, b, min_width=decimals + 1):
            atoms = [str(x) if x == y else f"[{x}-{y}]" for x, y in seq]
            if decimals:
                atoms.insert(len(atoms) - decimals, ".")
            out.append([sign] + atoms if sign else atoms)
    return out


# --- GBNF rendering ------------------------------------------------------------------------------------------


def _gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _gbnf_atoms(atoms: list[str]) -> str:
    parts: list[str] = []
    literal = ""
    for atom in atoms:
        if atom.startswith("["):
            if literal:
                parts.append(_gbnf_literal(literal))
                literal = ""
            parts.append(atom)
        else:
            literal += atom
    if literal:
        parts.append(_gbnf_literal(literal))
    return " ".join(parts)


def column_gbnf(column: Column) -> str:
    if column.is_numeric:
        alternatives = [_gbnf_atoms(seq) for seq in numeric_sequences(column)]
    else:
        alternatives = [_gbnf_literal(level) for level in column.levels]
    if column.allow_missing:
        alternatives.append(_gbnf_literal(MISSING_TEXT))
    return " | ".join(alternatives)


def column_alternatives(column: Column) -> list[list[frozenset[int]]]:
    """The column's alternatives as the grammar writes them (``column_gbnf``), each a sequence of byte classes: a
    level's or ``NA``'s bytes one by one (UTF-8), a number's atoms with '[a-b]' as the digits a..b. Read by
    ``medsyn.row_language`` to find the text the grammar forces."""
    def literal(text: str) -> list[frozenset[int]]:
        return [frozenset([b]) for b in text.encode("utf-8")]

    out: list[list[frozenset[int]]] = []
    if column.is_numeric:
        for atoms in numeric_sequences(column):
            seq: list[frozenset[int]] = []
            for atom in atoms:
                if atom.startswith("["):
                    seq.append(frozenset(range(ord(atom[1]), ord(atom[3]) + 1)))
                else:
                    seq += literal(atom)
            out.append(seq)
    else:
        out += [literal(level) for level in column.levels]
    if column.allow_missing:
        out.append(literal(MISSING_TEXT))
    return out


def rule_name(index: int) -> str:
    return f"col{index}"


def spec_to_gbnf(spec: DatasetSpec, rows: int) -> str:
    """A grammar for exactly ``rows`` CSV rows (each ending in a newline), then end of text."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    lines = [f"root ::= {' '.join(['row'] * rows)}"]
    fields = ' "," '.join(rule_name(i) for i in range(len(spec.columns)))
    lines.append(f'row ::= {fields} "\\n"')
    for i, column in enumerate(spec.columns):
        lines.append(f"# {column.name} ({column.type})")
        lines.append(f"{rule_name(i)} ::= {column_gbnf(column)}")
    return "\n".join(lines) + "\n"


# --- the same language as a Python regex (used by tests and the parser's fast path) -------------------------


def _regex_atoms(atoms: list[str]) -> str:
    return "".join(a if a.startswith("[") else re.escape(a) for a in atoms)


def column_regex(column: Column) -> str:
    if column.is_numeric:
        alternatives = [_regex_atoms(seq) for seq in numeric_sequences(column)]
    else:
        alternatives = [re.escape(level) for level in column.levels]
    if column.allow_missing:
        alternatives.append(re.escape(MISSING_TEXT))
    return "(?:" + "|".join(alternatives) + ")"


def row_regex(spec: DatasetSpec) -> re.Pattern:
    return re.compile(",".join(column_regex(c) for c in spec.columns))


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "]": "]", "[": "["}  # "\-" in a class: None


def _read_until(line: str, i: int, end: str) -> tuple[list[str], int] | None:
    """The characters from ``line[i]`` up to the closing ``end`` (escapes read), and the index of that ``end``;
    None for an unknown escape or no closing ``end`` on the line."""
    out = []
    while i < len(line) and line[i] != end:
        if line[i] == "\\":
            if i + 1 >= len(line) or line[i + 1] not in _ESCAPES:
                return None
            out.append(_ESCAPES[line[i + 1]])
            i += 2
        else:
            out.append(line[i])
            i += 1
    return (out, i) if i < len(line) else None


def grammar_alphabet(gbnf: str) -> frozenset[str] | None:
    """Every character the grammar's terminals can produce (quoted literals and ``[...]`` classes with ranges), or
    None for a construct this reader does not know (a negated class, another escape): then use the whole vocabulary.

    The decoder constrains only tokens made of these characters when it must apply the grammar to the vocabulary
    (a token with any other character can never be accepted), a few thousand tokens instead of all of them."""
    chars: set[str] = set()
    for line in gbnf.splitlines():
        if line.lstrip().startswith("#"):
            continue
        i = 0
        while i < len(line) and line[i] != "#":
            if line[i] in '"[':
                if line[i] == "[" and line[i + 1:i + 2] == "^":
                    return None
                read = _read_until(line, i + 1, '"' if line[i] == '"' else "]")
                if read is None:
                    return None
                members, i = read
                if line[i] == '"':
                    chars.update(members)
                else:
                    k = 0
                    while k < len(members):  # a-b ranges
                        if k + 2 < len(members) and members[k + 1] == "-":
                            chars.update(chr(x) for x in range(ord(members[k]), ord(members[k + 2]) + 1))
                            k += 3
                        else:
                            chars.add(members[k])
                            k += 1
            i += 1
    return frozenset(chars)
