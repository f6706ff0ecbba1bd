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
