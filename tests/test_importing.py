"""Imported generators: the paper's published raw outputs go through our parser and copies are counted."""

import pytest

from conftest import spec_path
from medsyn.importing import csv_as_text, import_text, prompt_examples
from medsyn.spec import load_spec


@pytest.fixture(scope="module")
def stroke():
    return load_spec(spec_path("stroke"))


def test_csv_import_uses_the_same_checks(stroke):
    text = csv_as_text(
        "gender,age,hypertension,heart_disease,ever_married,work_type,Residence_type,avg_glucose_level,bmi,"
        "smoking_status,stroke\nMale,67,0,1,Yes,Private,Urban,228.69,36.6,formerly smoked,1\n"
        "Male,67,0,1,Yes,Private,Urban,228.69,36.6,sometimes,1\n"
    )
    parser, report, _ = import_text(stroke, text)
    assert report["accepted"] == 1 and report["rejected_by_reason"]["unknown_category"] == 1


def test_prompt_examples_are_found_in_the_prompt_text(stroke, shared_data):
    prompt = (shared_data / "synllm_raw/stroke/prompts/prompt1.txt").read_text()
    examples = prompt_examples(stroke, prompt)
    assert len(examples) == 4 and examples[0] == "Male,67.00,0,1,Yes,Private,Urban,228.69,36.6,formerly smoked,1"


@pytest.mark.parametrize("model", ["lmsys_vicuna-13b-v1.5", "stabilityai_StableBeluga-7B"])
def test_echo_only_paper_runs_are_echo_not_copies(stroke, shared_data, model):
    raw = shared_data / f"synllm_raw/stroke/{model}"
    for n in (1, 2):
        prompt = (shared_data / f"synllm_raw/stroke/prompts/prompt{n}.txt").read_text()
        text = (raw / f"prompt{n}.txt").read_text()
        parser, report, examples = import_text(stroke, text, prompt)
        # by default the echoed prompt's rows are dropped: the model wrote no row of its own
        assert report["prompt_echo_rows"] == report["candidate_rows"] == 100 and parser.result.rows == []
        assert report["example_copies"] == 0 and report["example_copy_share"] is None
        assert "prompt_echo_rows_kept" not in report
        # keep_prompt_echo: the table the paper scored, 100 rows, every one a copy of the 4 examples
        parser, report, examples = import_text(stroke, text, prompt, keep_prompt_echo=True)
        assert len(parser.result.rows) == report["prompt_echo_rows_kept"] == 100
        assert set(",".join(r) for r in parser.result.rows) <= set(examples)
        assert report["example_copies"] == 0  # copies the model made: still none
    prompt4 = (shared_data / "synllm_raw/stroke/prompts/prompt4.txt").read_text()
    _, report4, _ = import_text(stroke, (raw / "prompt4.txt").read_text(), prompt4)
    assert report4["example_copy_share"] is None or report4["example_copy_share"] < 0.5
