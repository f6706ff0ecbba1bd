"""The format catalogue (docs/formats.md): each class read on invented text, and each refused ambiguity."""

import pytest

from conftest import spec_path
from medsyn.errors import SpecError
from medsyn.parse import RowParser
from medsyn.spec import load_spec, spec_from_dict

ROW = ["Female", "45.20", "1", "0", "never", "28.50", "6.2", "140", "0"]


@pytest.fixture(scope="module")
def spec():
    return load_spec(spec_path("diabetes"))


def read(spec, text, **kw):
    parser = RowParser(spec, **kw)
    rows = parser.feed(text)
    return rows, parser.result


def only_reject(result):
    assert len(result.rejects) == 1, result.rejects
    return result.rejects[0].reason, result.rejects[0].detail


# -- value annotations --------------------------------------------------------------------------------------------

def test_value_annotations_are_read_when_they_agree(spec):
    rows, result = read(spec, "Female, 45.2, 1 (Yes), No (0), never (60%), 28.5, 6.2, 140, 0 = No\n"
                              "hypertension: ignored line\n")
    assert rows == [ROW]
    assert "annotation" in result.row_formats[0]


@pytest.mark.parametrize("value, reason", [("1 (No)", "ambiguous_value"), ("Yes (0)", "ambiguous_value"),
                                           ("1 (maybe)", "ambiguous_value")])
def test_an_annotation_that_contradicts_or_is_unknown_is_refused(spec, value, reason):
    rows, result = read(spec, f"Female, 45.2, {value}, 0, never, 28.5, 6.2, 140, 0")
    assert rows == [] and only_reject(result) == (reason, f"hypertension={value!r}")


def test_a_note_on_a_number_must_be_its_unit(spec):
    rows, result = read(spec, "Female, 45.2, 1, 0, never, 28.5 (overweight), 6.2, 140, 0")
    assert rows == [] and only_reject(result)[0] == "ambiguous_value"


# -- units --------------------------------------------------------------------------------------------------------

def test_units_after_values(spec):
    rows, result = read(spec, "Female, 45.2 years, 1, 0, never, 28.5 kg/m², 6.2%, 140 mg/dL, 0\n"
                              "Male, 62.7 years old, 1, 1, former, 32.1 kg/m2, 7.1 %, 185 (mg/dl), 1")
    assert rows == [ROW, ["Male", "62.70", "1", "1", "former", "32.10", "7.1", "185", "1"]]
    assert all("unit" in tags for tags in result.row_formats)


@pytest.mark.parametrize("field, value", [("HbA1c_level", "6.2 mg/dL"), ("age", "45.2 months"),
                                          ("HbA1c_level", "5.7 (mg/dL)")])
def test_another_unit_is_refused_never_converted(spec, field, value):
    fields = {"age": "45.2", "HbA1c_level": "6.2"}
    fields[field] = value
    rows, result = read(spec, f"Female, {fields['age']}, 1, 0, never, 28.5, {fields['HbA1c_level']}, 140, 0")
    assert rows == [] and only_reject(result) == ("wrong_unit", f"{field}={value!r}")


def test_age_in_years_is_not_age_in_days():
    cirrhosis = load_spec(spec_path("cirrhosis"))
    row = "400, D, D-penicillamine, {age}, F, Y, Y, Y, Y, 14.5, 261, 2.60, 156, 1718.0, 137.95, 172, 190, 12.2, 4"
    rows, result = read(cirrhosis, row.format(age="58 years"))
    assert rows == [] and only_reject(result)[0] == "wrong_unit"
    rows, _ = read(cirrhosis, row.format(age="21464 days"))
    assert rows[0][3] == "21464"


# -- level aliases ------------------------------------------------------------------------------------------------

def test_derived_aliases_initials_spelling_and_case(spec):
    rows, result = read(spec, "F, 45.2, 1, 0, never, 28.5, 6.2, 140, 0\n"
                              "m, 45.2, 1, 0, Not_Current, 28.5, 6.2, 140, 0\n"
                              "FEMALE, 45.2, 1, 0, NOT  current, 28.5, 6.2, 141, 0")
    assert [r[0] for r in rows] == ["Female", "Male", "Female"] and [r[4] for r in rows] == ["never"] + ["not current"] * 2
    assert "derived_alias" in result.row_formats[0] and "spelling" in result.row_formats[1]


def test_stroke_spellings_and_markdown_escapes():
    stroke = load_spec(spec_path("stroke"))
    rows, result = read(stroke, "Male, 55, 1, 1, 1, Govt\\_job, Urban, 120, 27, never_smoked, 1.\n"
                                "Female, 60, 0, 0, 0, self employed, R, 55, 18, Formerly smoked, 0")
    assert rows == [["Male", "55.00", "1", "1", "Yes", "Govt_job", "Urban", "120.00", "27.0", "never smoked", "1"],
                    ["Female", "60.00", "0", "0", "No", "Self-employed", "Rural", "55.00", "18.0", "formerly smoked",
                     "0"]]


def test_a_negation_word_never_stands_for_a_level(spec):
    # 'No' is the first word of 'No Info', but 'No' for smoking history means something else: refused
    rows, result = read(spec, "Male, 45.2, 1, 0, No, 28.5, 6.2, 140, 0")
    assert rows == [] and only_reject(result) == ("unknown_category", "smoking_history='No'")


def _toy_spec(**column):
    base = {"name": "toy", "title": "t", "source": {"csv": None}, "target": "y",
            "columns": [{"name": "g", "type": "categorical", "levels": ["Male", "Mixed", "Female"],
                         "definition": "group", **column},
                        {"name": "y", "type": "binary", "levels": [0, 1], "definition": "outcome"}]}
    return spec_from_dict(base)


def test_an_initial_two_levels_share_is_ambiguous():
    rows, result = read(_toy_spec(), "M, 1\nF, 1")
    assert rows == [["Female", "1"]]
    assert only_reject(result) == ("ambiguous_value", "g='M'")


def test_declared_aliases():
    spec = _toy_spec(aliases={"Mixed": ["mx", "both"], "Male": ["M"]})
    rows, result = read(spec, "M, 1\nmx, 0\nBoth, 1")
    assert rows == [["Male", "1"], ["Mixed", "0"], ["Mixed", "1"]]
    assert result.row_formats[0] == ("declared_alias",)


@pytest.mark.parametrize("aliases, message", [({"Other": ["o"]}, "'Other', which is not one of the levels"),
                                              ({"Male": ["female"]}, "alias 'female' of 'Male' is already 'Female'"),
                                              ({"Male": ["x"], "Mixed": ["X"]}, "alias 'X' of 'Mixed'")])
def test_declared_aliases_must_name_one_level(aliases, message):
    with pytest.raises(SpecError, match=message):
        _toy_spec(aliases=aliases)


def test_aliases_on_a_numeric_column_are_an_error():
    base = {"name": "toy", "title": "t", "source": {"csv": None}, "target": "y",
            "columns": [{"name": "n", "type": "integer", "min": 0, "max": 9, "definition": "n", "aliases": {"1": ["one"]}},
                        {"name": "y", "type": "binary", "levels": [0, 1], "definition": "outcome"}]}
    with pytest.raises(SpecError, match="column 'n': aliases are spellings of levels"):
        spec_from_dict(base)


# -- structured records -------------------------------------------------------------------------------------------

def test_json_and_dict_literals_on_one_line(spec):
    rows, result = read(spec, '{"gender": "Female", "age": 45.2, "hypertension": 1, "heart_disease": 0, '
                              '"smoking_history": "never", "bmi": 28.5, "HbA1c_level": 6.2, '
                              '"blood_glucose_level": 140, "diabetes": 0}\n'
                              "{'gender': 'Male', 'age': 62.7, 'hypertension': True, 'heart_disease': 1, "
                              "'smoking_history': 'former', 'bmi': 32.1, 'HbA1c_level': 7.1, "
                              "'blood_glucose_level': 185, 'diabetes': 1},")
    assert rows == [ROW, ["Male", "62.70", "1", "1", "former", "32.10", "7.1", "185", "1"]]
    assert all("dict" in tags for tags in result.row_formats)


def test_json_spread_one_key_a_line(spec):
    text = ('[\n  {\n    "gender": "Female",\n    "age": 45.2,\n    "hypertension": 1,\n    "heart_disease": 0,\n'
            '    "smoking_history": "never",\n    "bmi": 28.5,\n    "HbA1c_level": 6.2,\n'
            '    "blood_glucose_level": 140,\n    "diabetes": 0\n  }\n]')
    rows, result = read(spec, text)
    assert rows == [ROW] and result.row_formats == [("json_lines",)]


def test_lists_and_arrays_of_records_on_one_line(spec):
    rows, result = read(spec, "['Female', 45.2, 1, 0, 'never', 28.5, 6.2, 140, 0],\n"
                              "[Male, 62.7, 1, 1, former, 32.1, 7.1, 185, 1]\n"
                              "[{'gender': 'Male', 'age': 30.0, 'hypertension': 0, 'heart_disease': 0, "
                              "'smoking_history': 'never', 'bmi': 22.0, 'HbA1c_level': 5.0, 'blood_glucose_level': 90,"
                              " 'diabetes': 0}, ..., {'gender': 'Female', 'age': 31.0, 'hypertension': 0, "
                              "'heart_disease': 0, 'smoking_history': 'never', 'bmi': 23.0, 'HbA1c_level': 5.1, "
                              "'blood_glucose_level': 91, 'diabetes': 0}]\n"
                              "['Male,40.0,0,0,never,25.0,5.0,100,0', 'Female,41.0,0,0,never,25.0,5.0,101,0', ...]")
    assert [r[:2] for r in rows] == [["Female", "45.20"], ["Male", "62.70"], ["Male", "30.00"], ["Female", "31.00"],
                                     ["Male", "40.00"], ["Female", "41.00"]]
    assert {t for tags in result.row_formats for t in tags} == {"list", "dict"}


def test_literals_are_never_evaluated(spec, tmp_path):
    marker = tmp_path / "pwned"
    text = (f"{{'gender': __import__('os').system('touch {marker}'), 'age': 45.2, 'hypertension': 1, "
            "'heart_disease': 0, 'smoking_history': 'never', 'bmi': 28.5, 'HbA1c_level': 6.2, "
            "'blood_glucose_level': 140, 'diabetes': 0}")
    rows, _ = read(spec, text)
    assert rows == [] and not marker.exists()


def test_a_record_key_that_names_no_column_or_one_twice_is_refused(spec):
    base = ('{"gender": "Female", "age": 45.2, "hypertension": 1, "heart_disease": 0, "smoking_history": "never", '
            '"bmi": 28.5, "HbA1c_level": 6.2, "blood_glucose_level": 140, "diabetes": 0')
    rows, result = read(spec, base + ', "bmi_test": 1}')
    assert rows == [] and only_reject(result) == ("unknown_key", "'bmi_test' names no column")
    rows, result = read(spec, base + ', "BMI": 30.1}')
    assert rows == [] and only_reject(result) == ("ambiguous_key", "bmi given twice")


# -- keys that are not exactly the column name ---------------------------------------------------------------------

def test_keys_matched_by_name_definition_and_normal_form(spec):
    text = ("**Patient ID:** P004\n- **Gender:** Female\n- **Age (years):** 45.2\n- **Hypertension:** Yes\n"
            "- **Heart Disease:** No\n- **Smoking:** never\n- **BMI:** 28.5\n- **HbA1c Level:** 6.2%\n"
            "- **Blood Glucose Level:** 140 mg/dL\n- **Diabetes Status:** No")
    rows, result = read(spec, text)
    assert rows == [ROW] and "key_match" in result.row_formats[0]


def test_a_key_that_fits_two_columns_is_refused():
    toy = spec_from_dict({"name": "toy", "title": "t", "source": {"csv": None}, "target": "y", "columns": [
        {"name": "fasting_glucose", "type": "integer", "min": 40, "max": 500, "definition": "fasting"},
        {"name": "random_glucose", "type": "integer", "min": 40, "max": 500, "definition": "random"},
        {"name": "y", "type": "binary", "levels": [0, 1], "definition": "outcome"}]})
    rows, result = read(toy, "Glucose: 100, Random Glucose: 120, y: 1")
    assert rows == [] and only_reject(result) == ("ambiguous_key", "'Glucose' fits several columns")
    rows, _ = read(toy, "Fasting Glucose: 100, Random Glucose: 120, y: 1")
    assert rows == [["100", "120", "1"]]


# -- extra wrapping -----------------------------------------------------------------------------------------------

def test_markdown_table_with_an_id_column_and_double_prefixes(spec):
    text = ("| ID | Gender | Age | Hypertension | Heart Disease | Smoking History | BMI | HbA1c Level | "
            "Blood Glucose Level | Diabetes |\n|---|---|---|---|---|---|---|---|---|---|\n"
            "| P001 | Female | 45.2 | 1 | 0 | never | 28.5 | 6.2 | 140 | 0 |\n"
            "1. Patient 2: Male, 62.7, 1, 1, former, 32.1, 7.1, 185, 1\n"
            "**3.** Record #3: Female, 38.9, 0, 0, current, 24.3, 5.8, 130, 0")
    rows, result = read(spec, text)
    assert [r[:2] for r in rows] == [["Female", "45.20"], ["Male", "62.70"], ["Female", "38.90"]]
    assert result.header_lines == 1 and "double_prefix" in result.row_formats[1]


def test_a_header_in_another_order_gives_the_column_order(spec):
    text = ("age, gender, diabetes, hypertension, heart_disease, smoking_history, bmi, HbA1c_level, "
            "blood_glucose_level\n45.2, Female, 0, 1, 0, never, 28.5, 6.2, 140\n\n"
            "gender, age, hypertension, heart_disease, bmi, HbA1c_level\nMale, 62.7, 1, 1, 32.1, 7.1")
    rows, result = read(spec, text)
    assert rows == [ROW] and "header_order" in result.row_formats[0]
    assert only_reject(result) == ("field_count", "its header lacks smoking_history, blood_glucose_level, diabetes")


def test_rows_in_code_comments_are_read(spec):
    text = ("```python\n# Output\n# Female, 45.2, 1, 0, never, 28.5, 6.2, 140, 0\n"
            "records.append(row)  # keeps one row\n```")
    rows, result = read(spec, text)
    assert rows == [ROW] and result.row_formats == [("comment",)]


# -- prose --------------------------------------------------------------------------------------------------------

def test_a_prose_record_naming_every_column_is_read(spec):
    rows, result = read(spec, "Female, 45.2 years old, hypertensive, no heart disease, never smoked, BMI 28.5, "
                              "HbA1c 6.2%, glucose 140 mg/dL, no diabetes.\n"
                              "1. Male, 62.7 years, has hypertension, has heart disease, former, BMI of 32.1, "
                              "HbA1c level of 7.1, blood glucose of 185 mg/dL, and diabetic")
    assert rows == [ROW, ["Male", "62.70", "1", "1", "former", "32.10", "7.1", "185", "1"]]
    assert result.row_formats == [("prose",), ("prose",)]


@pytest.mark.parametrize("text, detail", [
    ("Female, 45.2 years old, hypertensive, no heart disease, BMI 28.5, HbA1c 6.2%, glucose 140 mg/dL, no diabetes",
     "no smoking_history"),
    ("Female, 45.2 years old, 0, no heart disease, never smoked, BMI 28.5, HbA1c 6.2%, glucose 140 mg/dL, no diabetes",
     "'0' fits diabetes/heart_disease/hypertension"),
    ("Female, 45.2 years old, hypertensive, no heart disease, never smoked, a BMI in the normal range, HbA1c 6.2%, "
     "glucose 140 mg/dL, no diabetes", "'a BMI in the normal range' names no column"),
])
def test_a_prose_record_with_a_column_missing_or_ambiguous_is_refused(spec, text, detail):
    rows, result = read(spec, text)
    assert rows == [] and only_reject(result) == ("prose", detail)


def test_a_programs_literal_assignment_is_read(spec):
    rows, result = read(spec, 'patients[7] = ["Male", 28, 0, 0, "never", 24.0, 5.0, 115, 0]\n'
                              "record = {'gender': 'Female', 'age': 45.2, 'hypertension': 1, 'heart_disease': 0, "
                              "'smoking_history': 'never', 'bmi': 28.5, 'HbA1c_level': 6.2, "
                              "'blood_glucose_level': 140, 'diabetes': 0}\nx = 5")
    assert rows[1] == ROW and result.row_formats == [("code", "list"), ("code", "dict")]


@pytest.mark.parametrize("text", ["[" * 3000, "{" * 50 + "}" * 50, "(" * 5000 + "Male", '"' * 5000, "- " * 3000,
                                  "Age: age = 39, Age = 40, " * 200])
def test_pathological_text_never_raises(spec, text):
    rows, result = read(spec, text)
    assert rows == []
