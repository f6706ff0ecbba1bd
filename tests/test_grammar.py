import random
import re

import pytest

from conftest import spec_path
from medsyn.data import load_real
from medsyn.grammar import column_regex, grammar_alphabet, integer_range_sequences, row_regex, spec_to_gbnf
from medsyn.parse import RowParser
from medsyn.prompts import format_row
from medsyn.spec import Column, load_spec


def _regex(seqs):
    return re.compile("|".join("".join(f"[{a}-{b}]" for a, b in s) for s in seqs))


def test_integer_ranges_exact():
    rng = random.Random(0)
    for _ in range(300):
        lo = rng.randint(0, 5000)
        hi = lo + rng.randint(0, 5000)
        width = rng.randint(1, 4)
        rx = _regex(integer_range_sequences(lo, hi, width))
        for n in range(max(0, lo - 20), hi + 21, max(1, (hi - lo) // 200)):
            assert bool(rx.fullmatch(str(n).zfill(width))) == (lo <= n <= hi), (lo, hi, width, n)
        assert not rx.fullmatch("0" + str(hi).zfill(width))  # no extra leading zeros


def test_float_column_language():
    col = Column("age", "float", "age", min=0.08, max=80, decimals=2)
    rx = re.compile(column_regex(col))
    for text, ok in [("0.08", True), ("0.07", False), ("1.32", True), ("80.00", True), ("80.01", False),
                     ("45.2", False), ("045.20", False), ("45.20", True), (".5", False)]:
        assert bool(rx.fullmatch(text)) == ok, text


def test_missing_only_where_allowed():
    spec = load_spec(spec_path("cirrhosis"))
    assert re.fullmatch(column_regex(spec.column("Copper")), "NA")
    assert not re.fullmatch(column_regex(spec.column("Albumin")), "NA")


@pytest.mark.parametrize("name", ["cirrhosis", "breast_cancer", "pima"])
def test_every_real_row_is_in_the_grammar_and_parses_back(name):
    """The grammar's language covers real rows, and the parser reads them back to the same values."""
    spec = load_spec(spec_path(name))
    frame = load_real(spec)
    rx = row_regex(spec)
    parser = RowParser(spec, reject_duplicates=False)
    texts = [format_row(row, spec) for _, row in frame.iterrows()]
    for text in texts:
        assert rx.fullmatch(text), text
    accepted = parser.feed("\n".join(texts))
    assert [",".join(r) for r in accepted] == texts


def test_gbnf_shape():
    spec = load_spec(spec_path("pima"))
    gbnf = spec_to_gbnf(spec, rows=3)
    assert gbnf.startswith("root ::= row row row\n")
    assert 'row ::= col0 "," col1' in gbnf and '"\\n"' in gbnf
    assert gbnf.count("::=") == 2 + len(spec.columns)


@pytest.mark.parametrize("name", ["cirrhosis", "breast_cancer", "pima"])
def test_grammar_alphabet_holds_every_character_of_the_language(name):
    """The decoder constrains only tokens made of these characters: every character a row of the grammar's
    language can hold must be in it (real rows, every level, NA, the separators); characters no terminal has are not."""
    spec = load_spec(spec_path(name))
    alphabet = grammar_alphabet(spec_to_gbnf(spec, rows=2))
    rows = [format_row(row, spec) for _, row in load_real(spec).iterrows()]
    needed = set("".join(rows)) | set(",\n") | {c for col in spec.columns for level in col.levels for c in level}
    if any(col.allow_missing for col in spec.columns):
        needed |= set("NA")
    assert needed <= alphabet
    assert not set("#:=|()[]") & (alphabet - needed)  # grammar syntax is not read as text


def test_grammar_alphabet_reads_literals_and_classes_and_refuses_what_it_does_not_know():
    assert grammar_alphabet('root ::= "a\\"b" [0-2x] "\\n" # [q-z] "w"') == frozenset('a"b012x\n')
    assert grammar_alphabet('root ::= [^0-9]') is None  # a negated class: the whole vocabulary is used
    assert grammar_alphabet('root ::= "\\u00e9"') is None  # an escape it does not read


def _text(n: int, decimals: int) -> str:
    """The canonical text of the integer ``n`` in units of the last of ``decimals`` decimals ('-' only below 0)."""
    digits = str(abs(n)).zfill(decimals + 1)
    if decimals:
        digits = digits[:-decimals] + "." + digits[-decimals:]
    return ("-" if n < 0 else "") + digits


def _gbnf_as_regex(rule: str) -> str:
    """A column rule's GBNF (quoted literals, [a-b] classes, '|') as a Python regex: checks the two renderings agree."""
    alternatives = []
    for alternative in rule.split(" | "):
        parts = [re.escape(p[1:-1]) if p.startswith('"') else p for p in alternative.split(" ")]
        alternatives.append("".join(parts))
    return "(?:" + "|".join(alternatives) + ")"


SIGNED = [  # (min, max, decimals): zero-crossing, all-negative, a single value, ending at zero, unsigned
    (-35, 5, 0), (-2.5, -0.3, 1), (-0.05, 0.05, 3), (-10, -10, 0), (-9, 0, 0), (0, 12, 0), (-123.45, 67.8, 2),
    (-1000, -999, 0), (-0.3, 2, 1), (-5, 5, 2),
]


@pytest.mark.parametrize("lo_value,hi_value,decimals", SIGNED)
def test_signed_ranges_exact(lo_value, hi_value, decimals):
    """Every integer N in a window around the range is in the language iff lo <= N <= hi (as its canonical text);
    '-0' in any form, leading zeros and a '+' never are; the GBNF and the regex are the same language."""
    col = Column("x", "float" if decimals else "integer", "x", min=lo_value, max=hi_value, decimals=decimals)
    lo, hi = round(lo_value * 10**decimals), round(hi_value * 10**decimals)
    rx = re.compile(column_regex(col))
    gbnf = spec_to_gbnf(_two_column_spec(col), rows=1)
    rule = next(line for line in gbnf.splitlines() if line.startswith("col0 ::= "))[len("col0 ::= "):]
    rx_gbnf = re.compile(_gbnf_as_regex(rule))
    window = max(30, hi - lo)
    for n in range(lo - window, hi + window + 1):
        text = _text(n, decimals)
        assert text == col.format_value(n / 10**decimals)
        assert bool(rx.fullmatch(text)) == (lo <= n <= hi), (text, lo, hi)
        assert bool(rx_gbnf.fullmatch(text)) == (lo <= n <= hi), (text, lo, hi)
        assert not rx.fullmatch("+" + text) and not rx.fullmatch("-0" + text.lstrip("-"))
    for zero in ["-0", "-0." + "0" * decimals, "-00", "-"]:
        assert not rx.fullmatch(zero) and not rx_gbnf.fullmatch(zero), zero
    assert ("-" in grammar_alphabet(gbnf)) == (lo < 0)


def _two_column_spec(col: Column):
    from medsyn.spec import DatasetSpec

    target = Column("y", "binary", "y", levels=("0", "1"))
    return DatasetSpec(name="t", title="t", description="", domain="d", source={}, target="y", columns=(col, target))


def test_signed_ranges_random():
    rng = random.Random(1)
    for _ in range(200):
        decimals = rng.randint(0, 3)
        lo = rng.randint(-3000, 300)
        hi = lo + rng.randint(0, 3000)
        col = Column("x", "float" if decimals else "integer", "x", min=lo / 10**decimals, max=hi / 10**decimals,
                     decimals=decimals)
        rx = re.compile(column_regex(col))
        for n in range(lo - 25, hi + 26, max(1, (hi - lo) // 150)):
            assert bool(rx.fullmatch(_text(n, decimals))) == (lo <= n <= hi), (lo, hi, decimals, n)
        assert not rx.fullmatch("-0" + "." * bool(decimals) + "0" * decimals)


def test_signed_range_with_missing_and_off_grid_ends():
    """Ends between grid points round inwards; NA stays an alternative of a signed column."""
    col = Column("be", "float", "base excess", min=-2.55, max=1.25, decimals=1, allow_missing=True)
    rx = re.compile(column_regex(col))
    for text, ok in [("-2.5", True), ("-2.6", False), ("1.2", True), ("1.3", False), ("NA", True),
                     ("-0.0", False), ("0.0", True), ("-0.1", True), ("-.5", False), ("- 1.0", False)]:
        assert bool(rx.fullmatch(text)) == ok, text
