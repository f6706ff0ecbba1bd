"""Generation recipes on signed numeric columns (no model): the steering's sign is a prefix like a leading digit,
tokens like SmolLM2's ',-' that close a field and open a negative one get both biases, and values drawn outside
the model are written as the grammar writes them (no '-0.00')."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import signed_frame, signed_spec, switches
from medsyn.grammar import column_regex, row_regex
from medsyn.recipes.outside import OutsideDraws
from medsyn.recipes.rowtext import row_texts, text_frame, value_texts
from medsyn.recipes.steering import UNSEEN_BIAS, MarginalSteering, pull_without_model


@pytest.fixture(scope="module")
def signed():
    return signed_spec(), signed_frame(400, seed=2)


def _pieces():
    """Single characters, and SmolLM2's sign-carrying merges ',-' and '-,' (the latter never fits a grammar)."""
    chars = list("0123456789.,-\nNAFM") + [",-", "-,", "NA", ",F", ",M"]
    return {c.encode(): i for i, c in enumerate(dict.fromkeys(chars))}


def _biases(steering, row: bytes) -> dict[int, float]:
    found = steering.steer(row)
    return {} if found is None else dict(zip(found[0].tolist(), found[1].tolist()))


def test_the_sign_is_a_prefix_of_the_sorted_support(signed):
    spec, train = signed
    steering = MarginalSteering(switches("steering", strength=2.0), spec, train, _pieces())
    md = steering.columns[0]
    negative = sorted(t for t in md.support if t.startswith("-"))
    assert negative and md.starting_with("-") == negative == [t for t in md.support if float(t) < 0]
    assert md.starting_with("-1") == [t for t in md.support if t.startswith("-1")]
    sex_first = MarginalSteering(switches("steering", strength=1.0), spec.in_order(["sex"]), train, _pieces())
    assert "-" in md.alphabet and "-" not in sex_first.columns[0].alphabet  # a categorical column writes no sign
    assert md.openers == ["-"] and steering.columns[3].openers[:1] == ["F"]


def test_steering_pulls_the_sign_toward_trains_share(signed):
    """Train's md is mostly negative; a run that wrote only positive values is pushed toward '-'."""
    spec, train = signed
    pieces = _pieces()
    steering = MarginalSteering(switches("steering", strength=2.0), spec, train, pieces)
    assert (train["md"] < 0).mean() > 0.6
    for _ in range(30):
        steering.observe("2.0,-5,0.10,F,0")
    bias = _biases(steering, b"")
    assert bias[pieces[b"-"]] > 0 > bias[pieces[b"2"]]


def test_a_token_closing_a_field_and_opening_a_negative_number_gets_both_biases(signed):
    """SmolLM2 writes '-3.2,-1.25' as '-' '3' '.' '2' ',-' '1' ...: ',-' closes md and decides z's sign. After a run
    of positive z only, ',-' is pulled toward z's negatives: above the plain ',' by z's sign share, also after an
    md value no train row shows."""
    spec, train = signed
    order = spec.in_order(["md", "z"])
    pieces = _pieces()
    steering = MarginalSteering(switches("steering", strength=2.0), order, train, pieces)
    for _ in range(30):
        steering.observe("-3.2,1.00,-5,F,0")
    md_texts = value_texts(train, order)[0]
    assert "-34.9" not in md_texts
    for md in (md_texts[0], "-34.9"):  # a train value, and one no train row shows
        bias = _biases(steering, md.encode())
        assert bias[pieces[b",-"]] > bias.get(pieces[b","], 0.0), md
    assert pieces[b"-,"] not in _biases(steering, b"-3.2")  # closes nothing a grammar allows: never a candidate


def test_train_values_only_rules_out_the_sign_where_train_has_no_negatives(signed):
    spec, train = signed
    pieces = _pieces()
    positive = train[train["md"] >= 0]
    strict = MarginalSteering(switches("steering", strength=2.0, train_values_only=True), spec, positive, pieces)
    assert _biases(strict, b"")[pieces[b"-"]] == UNSEEN_BIAS
    plain = MarginalSteering(switches("steering", strength=2.0, train_values_only=True), spec, train, pieces)
    assert _biases(plain, b"").get(pieces[b"-"], 0.0) != UNSEEN_BIAS


def test_the_pull_without_the_model_keeps_the_sign_share(signed):
    spec, train = signed
    frame = pull_without_model(switches("steering", strength=2.0), spec, train, 300, np.random.default_rng(0))
    assert abs((frame["md"] < 0).mean() - (train["md"] < 0).mean()) < 0.1
    assert all(row_regex(spec).fullmatch(r) for r in row_texts(frame, spec))


@pytest.mark.parametrize("method", ["marginal", "copula"])
def test_outside_draws_of_signed_columns_are_in_the_grammar(signed, method):
    spec, train = signed
    draws = OutsideDraws(switches("outside", method=method, columns=3), spec, train, fit_seed=1)
    stream = draws.prefixes(seed=5)
    prefixes = [next(stream) for _ in range(300)]
    pattern = re.compile(",".join(column_regex(c) for c in spec.columns[:3]) + ",")
    assert all(pattern.fullmatch(p) for p in prefixes), [p for p in prefixes if not pattern.fullmatch(p)][:3]
    assert sum(p.startswith("-") for p in prefixes) > 150  # md is mostly negative, drawn so too


def test_row_texts_write_no_signed_zero_and_read_back(signed):
    spec, _ = signed
    frame = pd.DataFrame({"md": [-0.04, -0.0, -3.25], "deficit": pd.array([-1, -20, -3], dtype="Int64"),
                          "z": [-0.004, np.nan, -2.999], "sex": ["F", "M", "F"], "outcome": ["0", "1", "1"]})
    rows = row_texts(frame, spec)
    assert rows[0].startswith("0.0,-1,0.00,") and rows[1].startswith("0.0,-20,NA,")
    assert all(row_regex(spec).fullmatch(r) for r in rows)
    back = text_frame(rows, spec)
    assert back["deficit"].tolist() == [-1, -20, -3] and back["z"].iloc[2] == -3.0
