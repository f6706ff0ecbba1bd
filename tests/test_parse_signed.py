"""Signed numeric columns in the parser: negative values in range are read ('-3.2', the Unicode minus '−3.2', with
a unit), out-of-range ones are refused as out_of_range, and a negative value that rounds to zero reads as '0.0'."""

import re

import pytest

from conftest import signed_spec
from medsyn.grammar import row_regex
from medsyn.parse import RowParser


@pytest.fixture(scope="module")
def spec():
    return signed_spec()


def _read(spec, text):
    parser = RowParser(spec)
    rows = parser.feed(text)
    return rows, {k: n for k, n in parser.result.reason_counts().items() if n}


@pytest.mark.parametrize("line,row", [
    ("-3.2,-7,1.25,F,0", ["-3.2", "-7", "1.25", "F", "0"]),
    ("\u22123.2,\u22127,\u22121.25,M,1", ["-3.2", "-7", "-1.25", "M", "1"]),  # the Unicode minus
    ("-35.0,-20,-3.00,F,1", ["-35.0", "-20", "-3.00", "F", "1"]),  # the lower ends
    ("5.0,-1,3.00,F,1", ["5.0", "-1", "3.00", "F", "1"]),  # the upper ends
    ("-0.04,-1,-0.001,F,0", ["0.0", "-1", "0.00", "F", "0"]),  # rounds to zero: unsigned
    ("-3.2 dB,\u22127 mmol/L,NA,F,0", ["-3.2", "-7", "NA", "F", "0"]),  # with units
    ("md: -12.5, deficit: -3, z: 0.5, sex: M, outcome: 1", ["-12.5", "-3", "0.50", "M", "1"]),  # key-value
    ("+2.5,-7,+0.5,F,0", ["2.5", "-7", "0.50", "F", "0"]),  # an explicit plus sign
])
def test_signed_values_in_range_are_read(spec, line, row):
    rows, counts = _read(spec, line)
    assert rows == [row], counts
    assert row_regex(spec).fullmatch(",".join(row))  # the canonical text is in the grammar's language


@pytest.mark.parametrize("line", [
    "-35.1,-7,1.25,F,0",  # md below its min
    "5.1,-7,1.25,F,0",  # md above its max
    "-3.2,0,1.25,F,0",  # deficit must be negative
    "-3.2,-21,1.25,F,0",
    "-3.2,-7,-3.01,F,0",
    "\u221236,-7,1.25,F,0",
    "-36 dB,-7,1.25,F,0",
])
def test_signed_values_out_of_range_are_refused(spec, line):
    rows, counts = _read(spec, line)
    assert rows == [] and counts == {"out_of_range": 1}, counts


def test_a_bare_minus_is_not_a_number(spec):
    rows, counts = _read(spec, "-,-7,1.25,F,0")
    assert rows == [] and counts == {"not_a_number": 1}, counts


def test_negative_rows_are_not_read_as_bullets(spec):
    """A row led by a negative number ('-3.2,...') is a row, not a markdown bullet ('- ...')."""
    rows, _ = _read(spec, "-3.2,-7,1.25,F,0\n-4.0,-2,NA,M,1\n")
    assert [r[0] for r in rows] == ["-3.2", "-4.0"]
    assert re.fullmatch(r"-\d", rows[1][1])
