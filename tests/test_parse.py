import pytest

from conftest import spec_path
from medsyn.parse import RowParser, parse_calls
from medsyn.spec import load_spec

EXAMPLE = "Female,45.20,1,0,never,28.50,6.2,140,0"


@pytest.fixture(scope="module")
def spec():
    return load_spec(spec_path("diabetes"))


def feed(spec, text, **kw):
    parser = RowParser(spec, example_rows=[EXAMPLE], **kw)
    return parser, parser.feed(text)


def test_comma_space_separators_and_formatting_are_normalized(spec):
    parser, rows = feed(spec, "Male, 62.7, 1, 1, former, 32.1, 7.1, 185, 1\n")
    assert rows == [["Male", "62.70", "1", "1", "former", "32.10", "7.1", "185", "1"]]


def test_numbered_lists_bullets_fences_and_headers(spec):
    text = "\n".join(
        [
            "Here are the records:",
            "```csv",
            "gender,age,hypertension,heart_disease,smoking_history,bmi,HbA1c_level,blood_glucose_level,diabetes",
            "1. Female,33.0,0,0,current,22.10,5.0,90,0",
            "- Male,71.0,1,0,No Info,27.32,6.6,200,1",
            "```",
            "I hope these help!",
        ]
    )
    parser, rows = feed(spec, text)
    assert len(rows) == 2
    assert parser.result.header_lines == 1
    assert parser.result.non_data_lines >= 3  # prose and fences are not rejected rows
    assert parser.result.rejects == []


def test_markdown_table(spec):
    text = (
        "| gender | age | hypertension | heart_disease | smoking_history | bmi | HbA1c_level | blood_glucose_level | diabetes |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        "| Female | 50.0 | 0 | 0 | never | 30.00 | 5.8 | 126 | 0 |\n"
    )
    _, rows = feed(spec, text)
    assert rows == [["Female", "50.00", "0", "0", "never", "30.00", "5.8", "126", "0"]]


def test_mistral_inst_marker_glued_to_a_row(spec):
    text = f"{EXAMPLE} [/INST] Male, 53.5, 0, 0, never, 24.00, 5.7, 100, 0"
    parser, rows = feed(spec, text)
    assert rows == [["Male", "53.50", "0", "0", "never", "24.00", "5.7", "100", "0"]]
    assert parser.result.reason_counts()["example_copy"] == 1


def test_example_copy_detected_despite_formatting(spec):
    parser, rows = feed(spec, "Female, 45.2, 1, 0, never, 28.5, 6.2, 140, 0\n")
    assert rows == []
    assert parser.result.reason_counts()["example_copy"] == 1


def test_example_copy_can_be_kept_but_is_counted(spec):
    parser = RowParser(spec, example_rows=[EXAMPLE], keep_example_copies=True)
    assert len(parser.feed(EXAMPLE)) == 1
    assert parser.result.copies_kept == 1


def test_reject_reasons(spec):
    lines = [
        "Female,30.0,0,0,never,25.00,5.0,100",  # field_count
        "Female,thirty,0,0,never,25.00,5.0,100,0",  # not_a_number
        "Female,130.0,0,0,never,25.00,5.0,100,0",  # out_of_range (age)
        "Female,30.0,0,0,sometimes,25.00,5.0,100,0",  # unknown_category
        "Female,30.0,0,0,never,25.00,5.0,100.5,0",  # not_an_integer
        "Female,30.0,0,0,never,NA,5.0,100,0",  # missing_not_allowed
        "Female,30.0,0,0,never,25.00,5.0,100,0",  # ok
        "Female,30.0,0,0,never,25.00,5.0,100,0",  # duplicate
    ]
    parser, rows = feed(spec, "\n".join(lines))
    assert len(rows) == 1
    counts = parser.result.reason_counts()
    for reason in ["field_count", "not_a_number", "out_of_range", "unknown_category", "not_an_integer",
                   "missing_not_allowed", "duplicate"]:
        assert counts[reason] == 1, reason


def test_case_drift_maps_to_canonical_level(spec):
    _, rows = feed(spec, "female,30.0,0,0,NO INFO,25.00,5.0,100,0")
    assert rows[0][0] == "Female" and rows[0][4] == "No Info"


def test_truncated_last_line(spec):
    parser = RowParser(spec)
    parser.feed("Male,40.0,0,0,never,25.00,5.0,100,0\nFemale,33.0,0,0,cur", truncated=True)
    assert parser.result.reason_counts()["truncated"] == 1
    assert len(parser.result.rows) == 1


def test_prompt_echo_is_flagged(spec):
    prompt = "Example records:\nMale,11.00,0,0,No Info,27.59,6.6,100,0\n"
    parser = RowParser(spec, example_rows=[], prompt_text=prompt)
    parser.feed("Male,11.00,0,0,No Info,27.59,6.6,100,0")
    assert parser.result.reason_counts()["prompt_echo"] == 1


def test_id_column_prefix_is_dropped():
    spec = load_spec(spec_path("stroke"))
    parser = RowParser(spec)
    rows = parser.feed("9046, Male, 67.0, 0, 1, Yes, Private, Urban, 228.69, 36.60, formerly smoked, 1")
    assert len(rows) == 1 and rows[0][0] == "Male"


def test_parse_calls_report(spec):
    calls = [
        {"text": "Male,40.0,0,0,never,25.00,5.0,100,0\n" + EXAMPLE + "\n", "finish_reason": "stop",
         "completion_tokens": 40, "seconds": 2.0},
        {"text": "Male,40.0,0,0,never,25.00,5.0,100,0\nnonsense", "finish_reason": "stop",
         "completion_tokens": 20, "seconds": 1.0},
    ]
    _, report = parse_calls(calls, spec, example_rows=[EXAMPLE])
    assert report["accepted"] == 1
    assert report["example_copies"] == 1 and report["duplicates"] == 1
    assert report["candidate_rows"] == 3
    assert report["spec_valid_rows"] == 3 and report["spec_valid_share"] == 1.0
    assert report["rows_per_second"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["tokens_per_valid_row"] == 60


def test_key_value_blocks_become_rows(spec):
    text = (
        "# Patient Record 1\ngender: Female\nage: 24.0\nhypertension: 0\nheart_disease: 0\n"
        "smoking_history: never\nbmi: 28.5\nHbA1c_level: 6.2\nblood_glucose_level: 140\ndiabetes: 0\n\n"
        "# Patient Record 2\n- **gender**: Male\n- **age**: 62.7\n- **hypertension**: 1\n- **heart_disease**: 1\n"
        "- **smoking_history**: former\n- **bmi**: 32.1\n- **HbA1c_level**: 7.1\n- **blood_glucose_level**: 185\n"
        "- **diabetes**: 1\n\n"
        "gender: Male\nage: 30.0\nhypertension: 0\nheart_disease: 0\nsmoking_history: never\n"  # incomplete: rejected
    )
    parser, rows = feed(spec, text)
    assert rows == [["Female", "24.00", "0", "0", "never", "28.50", "6.2", "140", "0"],
                    ["Male", "62.70", "1", "1", "former", "32.10", "7.1", "185", "1"]]
    assert parser.result.reason_counts()["field_count"] == 1


def test_key_value_definitions_in_the_prompt_are_not_rows(spec):
    prompt = "gender: Female\nage: 24.0\nhypertension: 0\n"
    parser = RowParser(spec, prompt_text=prompt)
    assert parser.feed(prompt + "\n- gender: the patient's biological sex (Male or Female)\n") == []
    assert parser.result.rejects == []


def test_yes_no_binaries_and_row_numbers(spec):
    parser, rows = feed(spec, "1,Male,48.0,No,Yes,never,28.5,5.5,150,No\n2. female,30.0,no,no,never,25.0,5.0,100,yes")
    assert rows == [["Male", "48.00", "0", "1", "never", "28.50", "5.5", "150", "0"],
                    ["Female", "30.00", "0", "0", "never", "25.00", "5.0", "100", "1"]]


def test_level_meanings_are_aliases():
    spec = load_spec(spec_path("cirrhosis"))
    parser = RowParser(spec)
    row = "400, D, D-penicillamine, 21464, female, Yes, Y, Y, Y, 14.5, 261, 2.60, 156, 1718.0, 137.95, 172, 190, 12.2, 4"
    assert parser.feed(row)[0][4:6] == ["F", "Y"]


def test_key_value_pairs_on_one_line():
    spec = load_spec(spec_path("cirrhosis"))
    parser = RowParser(spec)
    line = ("1. ID: 001, N_Days: 400, Status: D, Drug: D-penicillamine, Age: 21464, Sex: F, Ascites: Y, "
            "Hepatomegaly: Y, Spiders: Y, Edema: Y, Bilirubin: 14.5, Cholesterol: 261, Albumin: 2.60, Copper: 156, "
            "Alk_Phos: 1718.0, SGOT: 137.95, Tryglicerides: 172, Platelets: 190, Prothrombin: 12.2, Stage: 4")
    rows = parser.feed(line + "\n" + line.replace("Age: 21464", "Age: 65"))
    assert rows == [["400", "D", "D-penicillamine", "21464", "F", "Y", "Y", "Y", "Y", "14.5", "261", "2.60", "156",
                     "1718.0", "137.95", "172", "190", "12.2", "4"]]
    assert parser.result.reason_counts()["out_of_range"] == 1  # Age in years, not days
