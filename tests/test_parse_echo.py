"""Echoed prompts counted apart from the model's copies; one RowParser configuration; the copy share's meaning."""

import pytest

from conftest import repo_config, spec_path
from medsyn.config import load_config
from medsyn.errors import ConfigError
from medsyn.parse import (
    ParseOptions,
    RowParser,
    example_copy_rate,
    example_copy_share,
    parse_calls,
    parse_options,
    parser_for,
    read_calls,
)
from medsyn.spec import load_spec

EXAMPLES = ["Female,45.20,1,0,never,28.50,6.2,140,0", "Male,62.70,1,1,former,32.10,7.1,185,1"]
PROMPT = ("Generate realistic synthetic patient records for diabetes prediction.\n"
          "Each record is one comma-separated line in this order:\n"
          "gender, age, hypertension, heart_disease, smoking_history, bmi, HbA1c_level, blood_glucose_level, diabetes\n"
          "Here are examples of records:\n"
          "Female,45.2,1,0,never,28.5,6.2,140,0\n"
          "Male,62.7,1,1,former,32.1,7.1,185,1")
NEW = "Male,30.0,0,0,never,22.0,5.0,90,0"


@pytest.fixture(scope="module")
def spec():
    return load_spec(spec_path("diabetes"))


def parser(spec, **kw):
    return RowParser(spec, EXAMPLES, PROMPT, **kw)


def test_rows_inside_an_echoed_prompt_are_echo_not_copies(spec):
    # a decoding script wrote system line + prompt + completion; the model then copied one example itself
    text = "You are a synthetic data generator.\n" + PROMPT + "\n" + NEW + "\nFemale, 45.2, 1, 0, never, 28.5, 6.2, 140, 0"
    _, report = parse_calls([{"text": text}], spec, EXAMPLES, PROMPT)
    assert report["prompt_echo_rows"] == report["prompt_echo_example_rows"] == 2
    assert report["rejected_by_reason"]["prompt_echo"] == 2
    assert report["example_copies"] == 1 and report["rejected_by_reason"]["example_copy"] == 1
    assert report["accepted"] == 1 and "prompt_echo_rows_kept" not in report


def test_examples_written_without_the_prompt_are_the_models_copies(spec):
    p = parser(spec, keep_example_copies=True)
    p.feed("Here are examples of records:\n" + "\n".join(EXAMPLES))  # one instruction line is no echo
    assert p.result.echo_rows == 0 and p.result.copies_kept == 2


def test_repeats_right_after_an_echo_are_copies(spec):
    p = parser(spec)
    p.feed(PROMPT + "\n" + PROMPT.splitlines()[-2] + "\n" + PROMPT.splitlines()[-1])  # echo, then both examples again
    counts = p.result.reason_counts()
    assert counts["prompt_echo"] == 2 and counts["example_copy"] == 2


def test_echo_kept_when_asked_and_counted(spec):
    calls = [{"text": PROMPT + "\n" + NEW}, {"text": PROMPT}]
    p = parser_for(spec, {"keep_example_copies": True, "reject_duplicates": False, "keep_prompt_echo": True},
                   examples=EXAMPLES, prompt_text=PROMPT)
    report = read_calls(p, calls)
    assert report["accepted"] == 5 and report["prompt_echo_rows"] == report["prompt_echo_rows_kept"] == 4
    assert report["example_copies"] == 0  # the model copied nothing
    assert report["example_copy_share"] == 0.0 and report["example_copy_rate"] == 0.0


def test_chat_markup_glued_to_the_echo(spec):
    text = "[INST] " + PROMPT + " [/INST] " + NEW
    p = parser(spec)
    assert p.feed(text) == [["Male", "30.00", "0", "0", "never", "22.00", "5.0", "90", "0"]]
    assert p.result.echo_rows == 2


def test_an_echo_cut_off_inside_its_last_line(spec):
    prompt = "\n".join(["Female,45.2,1,0,never,28.5,6.2,140,0", "Male,62.7,1,1,former,32.1,7.1,185,1",
                        "Generate more records in the same format.", "Write one record a line, nothing else."])
    p = RowParser(spec, EXAMPLES, prompt)
    p.feed("\n".join(prompt.splitlines()[:3]) + "\nWrite one record a li")  # the text ends inside the prompt
    assert p.result.echo_rows == 2 and p.result.copies_kept == 0
    q = RowParser(spec, EXAMPLES, prompt)
    q.feed("\n".join(prompt.splitlines()[:3]))  # one instruction line, not cut: the model's copies
    assert q.result.echo_rows == 0 and q.result.reason_counts()["example_copy"] == 2


def test_truncated_relabelling_keeps_prompt_echo(spec):
    """issue 16: a truncated call's last line keeps a copy reason (example_copy, duplicate and prompt_echo)."""
    p = parser(spec)
    p.feed(PROMPT, truncated=True)  # the call ends on an echoed example row
    assert p.result.reason_counts()["prompt_echo"] == 2 and p.result.reason_counts()["truncated"] == 0
    p.feed("Male,40.0,0,0,never,25.00,5.0,100,0\nFemale,33.0,0,0,cur", truncated=True)
    assert p.result.reason_counts()["truncated"] == 1


# -- one configuration ----------------------------------------------------------------------------------------

def test_parse_options_from_the_config_block():
    cfg = load_config(repo_config())
    assert parse_options(cfg["parse"]) == ParseOptions(False, True, False)
    assert parse_options(None) == ParseOptions()
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['keep_echo'\]"):
        parse_options({"keep_echo": True})
    with pytest.raises(ConfigError, match="'reject_duplicates' must be true or false"):
        parse_options({"reject_duplicates": "yes"})


def test_parser_for_builds_the_parser_of_examples_and_a_prompt_text(spec):
    p = parser_for(spec, {"keep_example_copies": True, "reject_duplicates": False}, examples=EXAMPLES,
                   prompt_text=PROMPT)
    assert (p.keep_example_copies, p.reject_duplicates, p.keep_prompt_echo) == (True, False, False)
    assert p.examples == set(EXAMPLES) and p.echo is not None
    bare = parser_for(spec)
    assert bare.examples == set() and bare.echo is None and bare.reject_duplicates is True


def test_config_defaults_for_keep_prompt_echo():
    cfg = load_config({**repo_config(), "external": {"x": {"dataset": "pima", "runs": {"a": {"csv": "x.csv"}}}}})
    assert cfg["parse"]["keep_prompt_echo"] is False
    assert cfg["external"]["x"]["keep_prompt_echo"] is False and cfg["external"]["x"]["keep_example_copies"] is True


# -- the copy share's one meaning -----------------------------------------------------------------------------

def test_example_copy_share_and_rate_are_two_quantities():
    assert example_copy_share(3, 4) == 0.75 and example_copy_share(0, 0) is None
    # 10 candidate rows, 4 of them echo; the model copied 3 of its 6 and the copies were not kept
    report = {"candidate_rows": 10, "prompt_echo_rows": 4, "example_copies": 3}
    assert example_copy_rate(report) == 0.5
    assert example_copy_rate({"candidate_rows": 4, "prompt_echo_rows": 4, "example_copies": 0}) is None
    assert example_copy_rate({"candidate_rows": 4, "example_copies": 1}) == 0.25  # a report from before echo
