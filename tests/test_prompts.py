import pytest

from conftest import spec_path
from medsyn.data import load_real
from medsyn.prompts import build_prompt, format_row
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout


@pytest.fixture(scope="module")
def setup():
    spec = load_spec(spec_path("cirrhosis"))
    frame = load_real(spec)
    train, holdout = split_train_holdout(frame, spec, 0.3, seed=3)
    return spec, train, holdout


def test_examples_come_from_train_only_and_follow_the_seed(setup):
    spec, train, holdout = setup
    a1 = build_prompt(spec, train, "A", seed=1, n_examples=4, rows_per_call=5)
    a1_again = build_prompt(spec, train, "A", seed=1, n_examples=4, rows_per_call=5)
    a2 = build_prompt(spec, train, "A", seed=2, n_examples=4, rows_per_call=5)
    assert len(a1.example_row_ids) == 4
    assert set(a1.example_row_ids) <= set(train.index)
    assert set(a1.example_row_ids).isdisjoint(holdout.index)
    assert a1.to_dict() == a1_again.to_dict()
    assert a1.example_row_ids != a2.example_row_ids
    for rid, text in zip(a1.example_row_ids, a1.example_rows):
        assert format_row(train.loc[rid], spec) == text
        assert text in a1.user and text in a1.prefill


def test_prompt_types_differ_as_specified(setup):
    spec, train, _ = setup
    p = {t: build_prompt(spec, train, t, seed=1, n_examples=3, rows_per_call=10) for t in "ABCD"}
    assert "Column definitions" not in p["A"].user
    assert "Column definitions" in p["B"].user and "Statistics" not in p["B"].user
    assert "Statistics of the real data (292 patients)" in p["C"].user
    assert "Clinical rules" in p["D"].user and p["D"].example_rows == [] and "Example records" not in p["D"].user
    assert p["A"].example_row_ids == p["B"].example_row_ids == p["C"].example_row_ids  # comparable A-C
    assert p["D"].prefill == p["D"].header + "\n"
    for rule in spec.rules:
        assert rule.text in p["D"].user


def test_statistics_are_computed_from_train(setup):
    spec, train, _ = setup
    c = build_prompt(spec, train, "C", seed=1, n_examples=0, rows_per_call=10)
    female = (train["Sex"] == "F").mean()
    assert f"F {female:.0%}" in c.user
    assert f"mean {train['N_Days'].mean():.0f}" in c.user


def test_zero_examples_allowed(setup):
    spec, train, _ = setup
    a = build_prompt(spec, train, "A", seed=1, n_examples=0, rows_per_call=10)
    assert a.example_rows == [] and "Example records" not in a.user


def test_prompt_records_grammar_for_rows_per_call(setup):
    spec, train, _ = setup
    a = build_prompt(spec, train, "A", seed=1, n_examples=3, rows_per_call=7)
    assert a.grammar.splitlines()[0] == "root ::= " + " ".join(["row"] * 7)


def test_signed_ranges_are_written_with_to():
    """A range with a negative end reads '-35 to 5' (not '-35-5' or '-20--1'); a non-negative one keeps '0-17'."""
    from conftest import signed_frame, signed_spec
    from medsyn.prompts import column_statistics, describe_column
    from medsyn.spec import Column

    spec = signed_spec()
    assert describe_column(spec.column("md")) == "- md: Visual-field mean deviation [number with 1 decimals, -35 to 5 dB]"
    assert describe_column(spec.column("deficit")).endswith("[integer, -20 to -1 mmol/L]")
    assert describe_column(spec.column("z")).endswith("[number with 2 decimals, -3 to 3, or NA if unknown]")
    assert describe_column(Column("n", "integer", "Pregnancies", min=0, max=17)) == "- n: Pregnancies [integer, 0-17]"
    train = signed_frame()
    lines = dict(line.split(":", 1) for line in column_statistics(train, spec))
    q1, q3 = train["md"].quantile([0.25, 0.75])
    assert q1 < 0 and f"quartiles {q1:.3g} to " in lines["- md"]
    assert f"observed range {train['deficit'].min()} to {train['deficit'].max()}" in lines["- deficit"]
    assert "--" not in "".join(lines.values())
    prompt = build_prompt(spec, train, "D", seed=1, n_examples=0, rows_per_call=3)
    assert "[integer, -20 to -1 mmol/L]" in prompt.user and "quartiles" in prompt.user
    assert prompt.widest_row.startswith("-35.0,-20,-3.00,")


def test_prompt_d_of_a_spec_without_rules_says_so():
    """A drafted spec has no clinical rules: prompt D says none are given (and lists none); with rules it lists them."""
    import dataclasses

    from conftest import spec_path
    from medsyn.data import load_real
    from medsyn.spec import load_spec

    spec = load_spec(spec_path("pima"))
    train = load_real(spec).iloc[:200]
    with_rules = build_prompt(spec, train, "D", seed=1, n_examples=0, rows_per_call=3).user
    without = build_prompt(dataclasses.replace(spec, rules=()), train, "D", seed=1, n_examples=0, rows_per_call=3).user
    assert "Clinical rules the records must respect:" in with_rules and "No clinical rules" not in with_rules
    assert "No clinical rules are given for this table" in without and "Clinical rules the" not in without


def test_prompt_file_reads_back_as_the_artifact_it_was_written_from(setup, tmp_path):
    """``read_prompt`` gives back the artifact ``to_dict`` wrote (and writing it again gives the same bytes)."""
    from medsyn.prompts import PromptArtifact, read_prompt
    from medsyn.step import write_json

    spec, train, _ = setup
    prompt = build_prompt(spec, train, "B", seed=1, n_examples=3, rows_per_call=5, column_order=["Stage"])
    write_json(tmp_path / "seed1.json", prompt.to_dict())
    back = read_prompt(tmp_path / "seed1.json")
    assert back == prompt and PromptArtifact.from_dict(prompt.to_dict()) == prompt
    write_json(tmp_path / "again.json", back.to_dict())
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "seed1.json").read_bytes()


@pytest.mark.parametrize("change, named", [
    (lambda d: d.pop("grammar"), "missing key(s) ['grammar']"),
    (lambda d: d.update(recipe="default"), "unknown key(s) ['recipe']"),
    (lambda d: d.update(seed="1"), "key 'seed' must be int"),
    (lambda d: d.update(example_rows="1,2"), "key 'example_rows' must be list[str]"),
])
def test_a_prompt_file_with_a_missing_unknown_or_mistyped_key_is_an_error_naming_file_and_key(
        setup, tmp_path, change, named):
    import json

    from medsyn.errors import PromptError
    from medsyn.prompts import read_prompt

    spec, train, _ = setup
    data = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=5).to_dict()
    change(data)
    path = tmp_path / "seed1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PromptError) as exc:
        read_prompt(path)
    assert str(exc.value).startswith(f"{path}: ") and named in str(exc.value)


def test_a_prompt_of_another_run_is_refused(setup, tmp_path):
    from medsyn.run import Run
    from medsyn.errors import PromptError
    from medsyn.prompts import read_prompt
    from medsyn.step import write_json

    spec, train, _ = setup
    write_json(tmp_path / "seed1.json", build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=5).to_dict())
    assert read_prompt(tmp_path / "seed1.json", Run("m", "cirrhosis", "A", "grammar", "default", 1)).seed == 1
    with pytest.raises(PromptError, match="is not the prompt of run cirrhosis/A/seed2"):
        read_prompt(tmp_path / "seed1.json", Run("m", "cirrhosis", "A", "grammar", "default", 2))


def test_rows_are_generated_and_parsed_in_the_prompts_column_order(setup):
    """The column order is the prompt's: its header, its grammar's row spec and the run's parser agree."""
    from medsyn.parse import prompt_parser

    spec, train, _ = setup
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=5, column_order=["Stage", "Sex"])
    order = prompt.row_spec(spec)
    assert order.column_names[:2] == ["Stage", "Sex"] and sorted(order.column_names) == sorted(spec.column_names)
    assert prompt.header == ",".join(order.column_names) == ",".join(prompt.columns)
    parser = prompt_parser(prompt, spec, {"reject_duplicates": False})
    assert parser.spec.column_names == order.column_names and parser.examples == set(prompt.example_rows)
    assert not parser.reject_duplicates and parser.echo is not None
    assert build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=5).row_spec(spec) == spec


def test_with_examples_replaces_the_shown_rows(setup):
    spec, train, _ = setup
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=5)
    rows = ["x,y", "z,w"]
    other = prompt.with_examples(rows)
    assert other.example_rows == rows and "x,y\nz,w" in other.user and other.prefill.endswith("x,y\nz,w\n")
    assert other.system == prompt.system and not any(r in other.user for r in prompt.example_rows)
    bare = prompt.with_examples(rows, in_user=False)
    assert "x,y" not in bare.user and bare.prefill == other.prefill
    with pytest.raises(ValueError, match="shows no example rows"):
        build_prompt(spec, train, "D", seed=1, n_examples=0, rows_per_call=5).with_examples(rows)
