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
