"""The bad-input catalogue (docs/errors.md): one test per input, each asserting the exact,
actionable message (the file, column or key at fault) and, where a step would write files, that nothing is left
behind looking complete. Function-level where possible; three small Snakemake runs for what only the workflow sees.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml

from conftest import REPO, SHARED_DATA, generation_settings, repo_config, run_snakemake, spec_path
from medsyn.config import check_dataset_specs, check_writable, load_config
from medsyn.data import load_real, read_table
from medsyn.errors import ConfigError, DataError, GenerationError, ModelError, SpecError
from medsyn.models import materialize
from medsyn.spec import load_spec
from medsyn.split import split_real

STROKE_CSV = SHARED_DATA / "stroke.csv"


# --- helpers ---------------------------------------------------------------------------------------------------


@pytest.fixture
def stroke_csv(tmp_path, shared_data):
    """The first 300 rows of the paper's stroke table, editable per test."""
    frame = pd.read_csv(shared_data / "stroke.csv", dtype=str, keep_default_na=False, nrows=300)

    def write(edit=None, name="stroke.csv"):
        table = frame.copy()
        if edit:
            table = edit(table)
        path = tmp_path / name
        table.to_csv(path, index=False)
        return path

    return write


def stroke_spec():
    return load_spec(spec_path("stroke"))


def snakemake(workdir, config, *targets):
    return run_snakemake(workdir, *targets, config=config, check=False, cores=1, timeout=600)


# --- dataset files ---------------------------------------------------------------------------------------------


def test_missing_dataset_file(tmp_path):
    """Workflow level: the prepare_data job fails naming the file, and leaves none of its outputs."""
    cfg = repo_config()
    cfg["datasets"] = ["stroke"]
    missing = tmp_path / "downloads" / "healthcare-dataset-stroke-data.csv"
    cfg["dataset_options"] = {"stroke": {"csv": str(missing)}}
    proc = snakemake(tmp_path, cfg, "results/data/stroke/train.csv")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"ERROR (DataError): dataset 'stroke': CSV file not found: {missing}" in out
    for part in ("train.csv", "holdout.csv", "reference.csv", "split.json", "groups.csv"):
        assert not (tmp_path / "results/data/stroke" / part).exists()
    assert not list((tmp_path / "results").rglob("*.tmp"))


def test_garbled_dataset_file_binary(tmp_path):
    path = tmp_path / "stroke.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 40)
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value).startswith(f"dataset 'stroke': {path}: not a text file (it holds NUL bytes)")


def test_garbled_dataset_file_empty(tmp_path):
    path = tmp_path / "stroke.csv"
    path.write_text("")
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == f"dataset 'stroke': {path}: the file is empty (no header, no rows)"


def test_column_in_spec_but_not_in_data(stroke_csv):
    path = stroke_csv(lambda t: t.drop(columns=["bmi"]))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == (f"dataset 'stroke' ({path}): columns in spec {spec_path('stroke')} but not in the "
                              "data: ['bmi']")


def test_column_in_data_but_not_in_spec(stroke_csv):
    path = stroke_csv(lambda t: t.assign(cholesterol="200"))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value).startswith(f"dataset 'stroke' ({path}): columns in the data but not in spec "
                                     f"{spec_path('stroke')}: ['cholesterol'] (describe them under 'columns' or "
                                     "list them under 'id_columns' to drop them)")


def test_all_missing_column(stroke_csv):
    path = stroke_csv(lambda t: t.assign(bmi="N/A"))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == f"dataset 'stroke' ({path}): column 'bmi' is missing in every row"


def test_unknown_category_level_in_data(stroke_csv):
    path = stroke_csv(lambda t: t.assign(work_type=["Astronaut"] + list(t["work_type"][1:])))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == (f"dataset 'stroke' ({path}): column 'work_type' has 1 value not among the spec's levels "
                              "['Private', 'Self-employed', 'Govt_job', 'children', 'Never_worked']: 'Astronaut' x1 "
                              "(row 1); rows counted from 1 below the header (row k is line k+1 of the CSV)")


def test_value_outside_plausible_range(stroke_csv):
    path = stroke_csv(lambda t: t.assign(avg_glucose_level=["12000"] + list(t["avg_glucose_level"][1:])))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == (f"dataset 'stroke' ({path}): column 'avg_glucose_level' has 1 value outside the "
                              "spec's plausible range [40, 400] mg/dL: '12000' x1 (row 1); fix these rows if they are "
                              "errors, or widen min/max in the spec if the values are plausible; rows counted from 1 "
                              "below the header (row k is line k+1 of the CSV)")


def test_values_in_another_unit(stroke_csv):
    """Most values outside the range: the unit is the likely cause, and the message says so."""
    path = stroke_csv(lambda t: t.assign(avg_glucose_level=(t["avg_glucose_level"].astype(float) / 18.016).round(2)))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    msg = str(exc.value)
    assert msg.startswith(f"dataset 'stroke' ({path}): column 'avg_glucose_level' has 300 values outside the "
                          "spec's plausible range [40, 400] mg/dL: ")
    assert msg.endswith("most values are outside, so the data may use another unit than the spec's 'mg/dL' (else "
                        "widen min/max in the spec); rows counted from 1 below the header (row k is line k+1 of the "
                        "CSV)")


def test_column_typos_in_the_data_are_paired(stroke_csv):
    path = stroke_csv(lambda t: t.rename(columns={"avg_glucose_level": "avg_glucose_lvl", "bmi": "BMI"})
                      .assign(cholesterol="200"))
    with pytest.raises(DataError) as exc:
        load_real(stroke_spec().with_csv(str(path)))
    assert str(exc.value) == (f"dataset 'stroke' ({path}): columns in spec {spec_path('stroke')} but not in the data: "
                              "['avg_glucose_level', 'bmi']; columns in the data but not in the spec: "
                              "['avg_glucose_lvl', 'BMI', 'cholesterol']; 'avg_glucose_level' in the spec: did you "
                              "mean the data's 'avg_glucose_lvl'? 'bmi' in the spec: did you mean the data's 'BMI'?")


def test_more_decimals_than_the_spec_keeps_is_a_warning(stroke_csv, tmp_path):
    """Values with more decimals than the spec's `decimals` load, and prepare_data's log says they are rounded."""
    import importlib.util
    from types import SimpleNamespace

    from medsyn.data_checks import rounding_warnings

    def precise_bmi(t):
        bmi = t["bmi"].copy()
        rows = bmi.index[(bmi != "N/A")][:212]
        bmi[rows] = [f"{float(v) + 0.0123456:.7f}" for v in bmi[rows]]
        return t.assign(bmi=bmi)

    spec = stroke_spec().with_csv(str(stroke_csv(precise_bmi)))
    frame = load_real(spec)
    assert rounding_warnings(frame, spec) == [
        "column 'bmi': 212 of 260 values have more than 1 decimal (up to 7); they are rounded to 1 decimal in the "
        "split files (raise 'decimals' in the spec, at most 6, to keep more of them)"]
    assert rounding_warnings(load_real(stroke_spec().with_csv(str(stroke_csv(name="real.csv")))), spec) == []

    class Output(dict):  # snakemake.output: by name and as attributes
        __getattr__ = dict.__getitem__

    script = importlib.util.spec_from_file_location("prepare_data", REPO / "scripts" / "prepare_data.py")
    prepare_data = importlib.util.module_from_spec(script)
    script.loader.exec_module(prepare_data)
    smk = SimpleNamespace(
        params=SimpleNamespace(dataset={"spec": spec_path("stroke"), "csv": spec.source["csv"]},
                               split={"holdout_fraction": 0.25, "reference_fraction": 0.15, "seed": 1}),
        output=Output({part: str(tmp_path / f"{part}.csv") for part in ("train", "holdout", "reference")},
                      split=str(tmp_path / "split.json"), groups=str(tmp_path / "groups.csv")))
    logged = []
    prepare_data.main(smk, logged.append)
    assert logged[0] == f"WARNING: dataset 'stroke': {rounding_warnings(frame, spec)[0]}"
    assert pd.read_csv(tmp_path / "train.csv", dtype=str)["bmi"].dropna().str.fullmatch(r"\d+\.\d").all()


# --- dataset specs ---------------------------------------------------------------------------------------------


def _spec_file(tmp_path, edit):
    with open(spec_path("stroke")) as fh:
        data = yaml.safe_load(fh)
    edit(data)
    path = tmp_path / "stroke.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_unknown_column_type(tmp_path):
    path = _spec_file(tmp_path, lambda d: d["columns"][2].update(type="date"))
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert str(exc.value).startswith(f"{path}: invalid dataset spec at 'columns/2/type': 'date' is not one of")


def test_garbled_spec_yaml(tmp_path):
    path = tmp_path / "stroke.yaml"
    path.write_text("name: stroke\ncolumns: [\n  {name: age, type: integer\n")
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert str(exc.value).startswith(f"{path}: not valid YAML:")


def test_typo_in_a_rule_column(tmp_path):
    """A rule naming no spec column stops the spec from loading (it used to score '-' with the reason buried in
    metrics.json)."""
    path = _spec_file(tmp_path, lambda d: d["rules"][0].update(predictor="agee"))
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert str(exc.value) == (f"{path}: rule 'stroke_rises_with_age' (direction): predictor 'agee' is not a column "
                              "of the spec; did you mean 'age'?")


def test_typo_in_a_rule_level(tmp_path):
    path = _spec_file(tmp_path, lambda d: d["rules"][5].update(then="ever_married == 'no'"))
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert str(exc.value) == (f"{path}: rule 'minors_never_married' (implication): 'then' expression "
                              "\"ever_married == 'no'\": 'no' is not a level of column 'ever_married' ['No', 'Yes']; "
                              "did you mean 'No'?")


# --- config ----------------------------------------------------------------------------------------------------


def test_config_typo():
    cfg = repo_config()
    cfg["generation"]["rows_per_cal"] = 5
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    msg = str(exc.value)
    assert msg.startswith("config key 'generation': Additional properties are not allowed ('rows_per_cal' was "
                          "unexpected); allowed keys: [")
    assert "'rows_per_call'" in msg  # the key meant is listed


def test_config_typo_stops_the_workflow_before_any_job(tmp_path):
    """Workflow level (dry run): the message names the key, nothing is planned or written."""
    cfg = repo_config()
    cfg["prompts"]["n_exampels"] = 2
    proc = snakemake(tmp_path, cfg, "-n")
    assert proc.returncode != 0
    assert "config key 'prompts': Additional properties are not allowed ('n_exampels' was unexpected)" in (
        proc.stdout + proc.stderr)
    assert "Job stats" not in proc.stdout and not (tmp_path / "results").exists()


def test_unknown_dataset_id():
    cfg = repo_config()
    cfg["datasets"] = ["pima", "heart_failure"]
    with pytest.raises(ConfigError) as exc:
        check_dataset_specs(load_config(cfg))
    assert str(exc.value) == ("config key 'datasets': unknown dataset id 'heart_failure'; no spec file "
                              "config/datasets/heart_failure.yaml, and medsyn ships none of that id (add one, set "
                              "dataset_options.heart_failure.spec, or set dataset_options.heart_failure.csv to draft "
                              "one from a CSV)")


def test_unknown_model_id():
    cfg = repo_config()
    cfg["generation"]["models"] = ["llama3-8b"]
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert str(exc.value).startswith("config key 'generation.models': unknown model id 'llama3-8b'; registered: [")
    assert "'smollm2-135m-instruct'" in str(exc.value)


def test_release_gate_threshold_out_of_range():
    cfg = repo_config()
    cfg["release_gate"] = {"max_mia_auc": 5}
    with pytest.raises(ConfigError, match=r"^config key 'release_gate.max_mia_auc': 5 is greater than the maximum"):
        load_config(cfg)


# --- model files -----------------------------------------------------------------------------------------------


def test_model_file_missing(tmp_path):
    gone = tmp_path / "models" / "smollm2.gguf"
    out = tmp_path / "resources" / "x.gguf"
    with pytest.raises(ModelError) as exc:
        materialize("my-model", {"source": {"path": str(gone)}, "sha256": "0" * 64}, out)
    assert str(exc.value) == f"model 'my-model': file not found: {gone}"
    assert not out.exists() and not list(out.parent.glob("*"))


def test_sha256_mismatch(tmp_path):
    src = tmp_path / "model.gguf"
    src.write_bytes(b"GGUF" + b"\0" * 1000)
    actual = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "resources" / "x.gguf"
    with pytest.raises(ModelError) as exc:
        materialize("my-model", {"source": {"path": str(src)}, "sha256": "ab" * 32}, out)
    assert str(exc.value) == f"model 'my-model': sha256 mismatch for x.gguf: expected {'ab' * 32}, got {actual}"
    assert not out.exists() and not list(out.parent.glob("*"))  # neither the file nor its .partial


def test_non_gguf_model_file(tmp_path):
    src = tmp_path / "model.safetensors"
    src.write_bytes(b"PK\x03\x04 a zip, not a model")
    out = tmp_path / "resources" / "x.gguf"
    with pytest.raises(ModelError) as exc:
        materialize("my-model", {"source": {"path": str(src)}, "sha256": "0" * 64}, out)
    assert str(exc.value) == (f"model 'my-model': source {{'path': '{src}'}} is not a GGUF file "
                              "(starts with b'PK\\x03\\x04', expected b'GGUF')")
    assert not out.exists() and not list(out.parent.glob("*"))


@pytest.mark.llm
def test_truncated_gguf_file(tmp_path, smollm2_path):
    from medsyn.llm.backend import LlamaBackend

    cut = tmp_path / "smollm2.gguf"
    with open(smollm2_path, "rb") as fh:
        cut.write_bytes(fh.read(2_000_000))  # a download that stopped early: right magic, missing tensors
    with pytest.raises(ModelError) as exc:
        LlamaBackend(str(cut), n_ctx=512, n_threads=1)
    assert str(exc.value).startswith(f"llama.cpp cannot load model file {cut} (2,000,000 bytes): Failed to load")
    assert str(exc.value).endswith("the file is truncated or corrupt: delete it and rerun prepare_model "
                                   "(its sha256 is checked there)")


def test_generation_model_path_missing(tmp_path):
    from medsyn.llm.backend import LlamaBackend

    with pytest.raises(ModelError, match=f"^model file not found: {tmp_path}/none.gguf$"):
        LlamaBackend(str(tmp_path / "none.gguf"), n_ctx=512, n_threads=1)


def test_cuda_requested_on_cpu_only_build():
    from medsyn.llm.backend import require_gpu_offload

    with pytest.raises(ModelError) as exc:
        require_gpu_offload("qwen2.5-coder-1.5b-instruct", 99, supported=False)
    msg = str(exc.value)
    assert msg.startswith("the model asks for n_gpu_layers=99 but this llama-cpp-python build cannot offload to a "
                          "GPU (llama_supports_gpu_offload() is false): model 'qwen2.5-coder-1.5b-instruct' would "
                          "silently run on the CPU.")
    assert msg.endswith("or set models.qwen2.5-coder-1.5b-instruct.n_gpu_layers: 0 in the config")
    require_gpu_offload("m", 0, supported=False)  # CPU models are fine on a CPU-only build
    require_gpu_offload("m", -1, supported=True)


@pytest.mark.llm
def test_cuda_requested_on_this_cpu_only_build_stops_before_loading(smollm2_path):
    import llama_cpp

    from medsyn.llm.backend import LlamaBackend

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama-cpp-python build can offload to a GPU")
    with pytest.raises(ModelError, match=r"^the model asks for n_gpu_layers=99 .* model 'smollm2-135m-instruct' "):
        LlamaBackend(smollm2_path, n_ctx=512, n_threads=1, n_gpu_layers=99, model_id="smollm2-135m-instruct")


# --- generation ------------------------------------------------------------------------------------------------


@pytest.mark.llm
def test_prompt_longer_than_context(smollm2_path, tmp_path):
    from medsyn.run import Run
    from medsyn.generate import run_generation
    from medsyn.llm.backend import LlamaBackend
    from medsyn.prompts import build_prompt

    spec = load_spec(spec_path("pima"))
    train = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)["train"]
    prompt = build_prompt(spec, train, "C", seed=1, n_examples=3, rows_per_call=5)
    settings = generation_settings("grammar", free_max_tokens=100)
    out = tmp_path / "raw.jsonl"
    with pytest.raises(GenerationError) as exc:
        run_generation(LlamaBackend(smollm2_path, n_ctx=256, n_threads=1), spec, prompt, "template", settings,
                       Run("smollm2", "pima", "C", "grammar", "default", 1), out, log=lambda m: None,
                       checkpoint=tmp_path / "ckpt")
    msg = str(exc.value)
    assert msg.startswith("prompt pima/C needs ") and "more than the model's n_ctx=256" in msg
    assert msg.endswith("raise n_ctx for this model, lower prompts.n_examples or generation.rows_per_call")
    assert not out.exists() and not (tmp_path / "ckpt").exists()  # refused before any call


def test_model_yields_zero_valid_rows(tmp_path):
    """Parse -> evaluate -> aggregate -> gate complete on a run with no valid row; each says why it is empty."""
    from medsyn.evaluate import EvalInputs
    from medsyn.evaluate.aggregate import key_table, metrics_table
    from medsyn.evaluate.suite import evaluate_table
    from medsyn.gate import verdict
    from medsyn.parse import parse_calls, write_rows

    spec = load_spec(spec_path("pima"))
    parts = split_real(load_real(spec), spec, 0.25, 0.15, seed=1)
    calls = [{"call": 0, "text": "I'm sorry, as an AI I cannot create patient data.\nfoo,bar,1,2,3,4,5,6,7",
              "finish_reason": "stop"}]
    parser, report = parse_calls(calls, spec)
    assert report["accepted"] == 0 and report["rejected_by_reason"]["not_a_number"] == 1
    path = tmp_path / "synthetic.csv"
    write_rows(parser.result.rows, spec, path, origin="raw.jsonl")
    assert path.read_text() == ",".join(spec.column_names) + "\n"  # a complete, empty table (header only)
    synthetic = read_table(path, spec, real=False)
    result = evaluate_table(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], synthetic,
                                       parts["train"].iloc[:0], seed=1), ["privacy", "diversity"])
    assert result["metrics"]["privacy.mia_auc"] is None
    assert result["errors"]["privacy.mia_auc.error"] == "no synthetic rows"
    assert result["errors"]["diversity.unique_row_share.error"] == "synthetic table has no rows"
    record = {"kind": "llm", "dataset": "pima", "generator": "m", "prompt": "A", "mode": "grammar", "seed": 1,
              "n_rows": 0, "generation": {"status": "no_valid_rows"}, **result}
    table = metrics_table([record])
    assert table.loc[0, "generation.status"] == "no_valid_rows" and "no synthetic rows" in table.loc[0, "errors"]
    assert len(key_table(table)) == 1
    ok, reasons = verdict(record, {})
    assert not ok and reasons[0] == "0 rows < min_rows 1 (status no_valid_rows)"


# --- environment -----------------------------------------------------------------------------------------------


def test_unwritable_results_folder(tmp_path):
    """Workflow level: a results folder that cannot be written stops the run before any job, naming it."""
    (tmp_path / "results").write_text("a file where the results folder should be\n")
    with pytest.raises(ConfigError) as exc:
        check_writable(tmp_path / "results")
    assert str(exc.value) == (f"results folder '{tmp_path / 'results'}' is not writable (a file, not a folder, is "
                              "in the way); move it or run from another working directory (snakemake --directory)")
    cfg = repo_config()
    cfg["datasets"] = ["pima"]
    proc = snakemake(tmp_path, cfg, "results/data/pima/train.csv")
    assert proc.returncode != 0
    assert f"results folder '{tmp_path / 'results'}' is not writable" in proc.stdout + proc.stderr
    assert (tmp_path / "results").is_file()  # untouched


def test_read_only_results_folder(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits (covered by test_unwritable_results_folder)")
    folder = tmp_path / "results"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match=r"is not writable \(Permission denied\)"):
            check_writable(folder)
    finally:
        folder.chmod(0o700)
