import copy

import pytest
import yaml

from conftest import spec_path
from medsyn.errors import SpecError
from medsyn.spec import load_spec, spec_from_dict

ALL = ["cirrhosis", "diabetes", "stroke", "breast_cancer", "pima"]


@pytest.mark.parametrize("name", ALL)
def test_shipped_specs_load(name):
    spec = load_spec(spec_path(name))
    assert spec.name == name
    assert spec.target in spec.column_names
    assert spec.rules, "every shipped spec carries clinical rules for prompt D"
    for col in spec.columns:
        assert col.definition
        if col.is_numeric:
            assert col.min <= col.max


def _cirrhosis_dict():
    with open(spec_path("cirrhosis")) as fh:
        return yaml.safe_load(fh)


def test_numeric_column_without_range_is_rejected():
    data = _cirrhosis_dict()
    del data["columns"][0]["max"]
    with pytest.raises(SpecError, match="'N_Days' needs 'max'"):
        spec_from_dict(data, "x.yaml")


def test_binary_needs_two_levels():
    data = _cirrhosis_dict()
    sex = next(c for c in data["columns"] if c["name"] == "Sex")
    sex["levels"] = ["F", "M", "X"]
    with pytest.raises(SpecError, match="binary column 'Sex' needs exactly 2 levels"):
        spec_from_dict(data, "x.yaml")


def test_unknown_column_type_names_the_path():
    data = _cirrhosis_dict()
    data["columns"][3]["type"] = "date"
    with pytest.raises(SpecError, match="columns/3/type"):
        spec_from_dict(data, "x.yaml")


def test_target_must_be_a_column():
    data = copy.deepcopy(_cirrhosis_dict())
    data["target"] = "Outcome"
    with pytest.raises(SpecError, match="target 'Outcome' is not one of the columns"):
        spec_from_dict(data, "x.yaml")


def test_level_with_comma_is_rejected():
    data = _cirrhosis_dict()
    data["columns"][2]["levels"] = ["D-penicillamine", "Placebo, oral"]
    with pytest.raises(SpecError, match="must not contain commas"):
        spec_from_dict(data, "x.yaml")


def test_name_must_match_file(tmp_path):
    data = _cirrhosis_dict()
    path = tmp_path / "liver.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="must equal the file name 'liver'"):
        load_spec(path)


def test_negative_and_zero_crossing_ranges_are_accepted():
    data = _cirrhosis_dict()
    data["columns"][0].update(min=-35, max=5)  # N_Days and Age as stand-ins: the spec layer reads no meaning
    age = next(c for c in data["columns"] if c["name"] == "Age")
    age.update(min=-9000, max=-10)
    spec = spec_from_dict(data, "x.yaml")
    assert (spec.columns[0].min, spec.columns[0].max) == (-35, 5)
    assert (spec.column("Age").min, spec.column("Age").max) == (-9000, -10)


def test_min_above_max_is_still_rejected_for_negative_ranges():
    data = _cirrhosis_dict()
    data["columns"][0].update(min=-3, max=-5)
    with pytest.raises(SpecError, match="min -3 > max -5"):
        spec_from_dict(data, "x.yaml")


def test_format_value_never_writes_a_signed_zero():
    from medsyn.spec import Column

    col = Column("d", "float", "change", min=-1, max=1, decimals=2)
    assert [col.format_value(v) for v in (-0.004, -0.0, 0.004, -0.005001, -0.5, 0.5)] == \
        ["0.00", "0.00", "0.00", "-0.01", "-0.50", "0.50"]
    integer = Column("n", "integer", "change", min=-5, max=5)
    assert [integer.format_value(v) for v in (-0.4, -0.0, -3.0, -2.6)] == ["0", "0", "-3", "-3"]


# --- clinical rules are checked against the spec's columns and levels at load time ----------------------------


def _with_rule(name, rule):
    with open(spec_path(name)) as fh:
        data = yaml.safe_load(fh)
    data["rules"].append({"id": "new_rule", "text": "t", **rule})
    return data


def _rule_error(name, rule):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(_with_rule(name, rule), "x.yaml")
    return str(exc.value)


def test_rule_column_typo_suggests_the_closest_column():
    msg = _rule_error("stroke", {"kind": "direction", "outcome": "stroke == '1'", "predictor": "avg_glucose_levl",
                                 "sign": "increasing"})
    assert msg == ("x.yaml: rule 'new_rule' (direction): predictor 'avg_glucose_levl' is not a column of the spec; "
                   "did you mean 'avg_glucose_level'?")
    msg = _rule_error("stroke", {"kind": "group_difference", "column": "BMI", "group": "stroke == '1'"})
    assert msg.endswith("column 'BMI' is not a column of the spec; did you mean 'bmi'?")  # case is ignored


def test_rule_query_typo_names_the_column_backticks_too():
    msg = _rule_error("cirrhosis", {"kind": "implication", "if": "Bilirubin > 10 or Albumn < 2.5",
                                    "then": "Stage in ['3', '4']"})
    assert msg == ("x.yaml: rule 'new_rule' (implication): 'if' expression 'Bilirubin > 10 or Albumn < 2.5' names "
                   "'Albumn', which is not a column of the spec; did you mean 'Albumin'?")
    msg = _rule_error("breast_cancer", {"kind": "implication", "if": "`mean radius` > 0",
                                        "then": "`worst radious` >= `mean radius`"})
    assert "names 'worst radious', which is not a column of the spec; did you mean 'worst radius'?" in msg
    msg = _rule_error("stroke", {"kind": "implication", "if": "zzz > 1", "then": "stroke == '1'"})
    assert msg.endswith("names 'zzz', which is not a column of the spec; the columns are ['gender', 'age', "
                        "'hypertension', 'heart_disease', 'ever_married', 'work_type', 'Residence_type', "
                        "'avg_glucose_level', 'bmi', 'smoking_status', 'stroke']")


def test_rule_level_typo_suggests_the_closest_level():
    msg = _rule_error("cirrhosis", {"kind": "implication", "if": "Stage == '4'", "then": "Sex == 'm'"})
    assert msg == ("x.yaml: rule 'new_rule' (implication): 'then' expression \"Sex == 'm'\": 'm' is not a level of "
                   "column 'Sex' ['F', 'M']; did you mean 'M'?")
    msg = _rule_error("cirrhosis", {"kind": "implication", "if": "Stage in ['3', '5']", "then": "Sex == 'M'"})
    assert msg.endswith("'5' is not a level of column 'Stage' ['1', '2', '3', '4']")
    # pandas reads & as 'and' (boolean precedence), so the level on the right of & is still checked
    msg = _rule_error("stroke", {"kind": "implication", "if": "age < 18 & ever_married == 'yes'",
                                 "then": "stroke == '0'"})
    assert msg.endswith("'yes' is not a level of column 'ever_married' ['No', 'Yes']; did you mean 'Yes'?")


def test_rule_unquoted_level_is_refused():
    """Rules see categorical values as text: stroke == 1 would never match the level '1'."""
    msg = _rule_error("stroke", {"kind": "direction", "outcome": "stroke == 1", "predictor": "age",
                                 "sign": "increasing"})
    assert msg == ("x.yaml: rule 'new_rule' (direction): 'outcome' expression 'stroke == 1' compares binary column "
                   "'stroke' with 1, but its values are the text levels ['0', '1']; quote it: '1'")


def test_rule_column_of_the_wrong_type():
    msg = _rule_error("stroke", {"kind": "direction", "outcome": "stroke == '1'", "predictor": "smoking_status",
                                 "sign": "increasing"})
    assert msg == ("x.yaml: rule 'new_rule' (direction): predictor 'smoking_status' is categorical, but a direction "
                   "rule needs a numeric (integer or float) column there")
    msg = _rule_error("stroke", {"kind": "implication", "if": "age < '18'", "then": "ever_married == 'No'"})
    assert msg.endswith("'if' expression \"age < '18'\" compares numeric column 'age' with the text '18'; write "
                        "the number without quotes")


@pytest.mark.parametrize("rule,expected", [
    ({"kind": "implication", "if": "age <", "then": "stroke == '1'"},
     "'if' expression 'age <' is not a valid pandas query (invalid syntax)"),
    ({"kind": "implication", "if": "age < @limit", "then": "stroke == '1'"},
     "'if' expression 'age < @limit' uses a local variable ('@'), which rules do not support"),
    ({"kind": "group_difference", "column": "age"}, "needs 'group'"),
    ({"kind": "range", "column": "age"}, "needs 'min' or 'max'"),
    ({"kind": "range", "column": "age", "min": 10, "max": 1}, "min 10 > max 1"),
    ({"kind": "range", "column": "age", "max": 120, "group": "stroke == '1'"},
     "'group' is not a key of range rules (they take ['column', 'min', 'max'])"),
])
def test_rule_malformed(rule, expected):
    assert _rule_error("stroke", rule) == f"x.yaml: rule 'new_rule' ({rule['kind']}): {expected}"


def test_rule_ids_must_be_unique():
    data = _with_rule("stroke", {"kind": "range", "column": "age", "max": 120})
    data["rules"][-1]["id"] = data["rules"][0]["id"]
    with pytest.raises(SpecError, match=r"^x.yaml: rule ids listed twice: \['stroke_rises_with_age'\]"):
        spec_from_dict(data, "x.yaml")


def test_valid_rules_with_functions_chains_and_negation_load():
    spec = spec_from_dict(_with_rule("stroke", {
        "kind": "implication", "if": "1 <= age < 18 | ~(work_type in ['children', 'Never_worked'])",
        "then": "abs(bmi) > -1 and not ever_married == 'Yes'"}), "x.yaml")
    assert spec.rules[-1].id == "new_rule"
