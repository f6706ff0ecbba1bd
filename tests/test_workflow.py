"""The Snakemake DAG: dry-runs of the grid and of single-model targets, and a tiny real run with SmolLM2."""

import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, repo_config

pytestmark = pytest.mark.workflow


def snakemake(workdir, config, *args, check=True):
    cfg = workdir / "test_config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(cfg), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_dry_run_plans_one_generation_job_per_run(tmp_path):
    cfg = repo_config()
    cfg["seeds"] = [1, 2]
    cfg["generation"]["models"] = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
    proc = snakemake(tmp_path, cfg, "-n", "results/report.html")
    counts = job_counts(proc.stdout)
    n_runs = 3 * 4 * 2 * 2  # datasets x prompts x seeds x models
    assert counts["generate"] == n_runs and counts["parse"] == n_runs
    assert counts["make_prompt"] == 3 * 4 * 2 and counts["prepare_data"] == 3 and counts["prepare_model"] == 2


def test_single_model_target_plans_only_that_model(tmp_path):
    cfg = repo_config()
    cfg["generation"]["models"] = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
    proc = snakemake(tmp_path, cfg, "-n", "results/models/smollm2-135m-instruct/summary.json")
    assert job_counts(proc.stdout)["generate"] == 12
    assert "qwen2.5-coder" not in proc.stdout


def test_paper_tables_by_config_alone(tmp_path, shared_data):
    cfg = repo_config()
    cfg["datasets"] = ["diabetes", "stroke"]
    cfg["dataset_options"] = {"diabetes": {"csv": str(shared_data / "diabetes.csv")},
                              "stroke": {"csv": str(shared_data / "stroke.csv")}}
    proc = snakemake(tmp_path, cfg, "-n", "results/report.html")
    assert job_counts(proc.stdout)["generate"] == 8


def test_config_typo_is_reported_with_its_key(tmp_path):
    cfg = repo_config()
    cfg["generation"]["rows_per_cal"] = 5
    proc = snakemake(tmp_path, cfg, "-n", check=False)
    assert proc.returncode != 0
    assert "config key 'generation'" in proc.stderr + proc.stdout and "rows_per_cal" in proc.stderr + proc.stdout


@pytest.mark.llm
def test_tiny_end_to_end_run(tmp_path, shared_data):
    cfg = repo_config()
    cfg["datasets"] = ["pima", "stroke"]
    cfg["dataset_options"] = {"stroke": {"csv": str(shared_data / "stroke.csv")}}
    cfg["prompts"] = {"types": ["A", "D"], "n_examples": 2}
    cfg["generation"].update(target_rows=4, rows_per_call=4, max_calls=2)
    snakemake(tmp_path, cfg, "results/report.html")
    html = (tmp_path / "results" / "report.html").read_text()
    assert "Pima" in html and "Stroke" in html
    assert html.count("<h3>Leaderboard</h3>") == 2
    pngs = []
    for ds in ("pima", "stroke"):
        names = {p.name for p in (tmp_path / "results/figures" / ds).glob("*.png")}
        # utility.png only where a TSTR score is computable (4 rows of one class give none)
        assert {"association_difference.png", "distributions.png", "family_heatmaps.png",
                "privacy_fidelity.png"} <= names <= {"association_difference.png", "distributions.png",
                                                     "family_heatmaps.png", "privacy_fidelity.png", "utility.png"}
        pngs += names
    assert html.count('src="data:image/png;base64,') == len(pngs)  # every figure embedded
    board = (tmp_path / "results/tables/leaderboard.tsv").read_text()
    assert "holdout (baseline)" in board and "smollm2-135m-instruct A grammar" in board
    for ds in ("pima", "stroke"):
        for p in ("A", "D"):
            run = tmp_path / f"results/models/smollm2-135m-instruct/{ds}/{p}/grammar/default/seed1"
            report = yaml.safe_load((run / "parse_report.json").read_text())
            assert report["candidate_rows"] >= 4 and report["spec_valid_share"] == 1.0
            assert (run / "synthetic.csv").read_text().startswith(
                "Pregnancies," if ds == "pima" else "gender,")
    # a rerun has nothing to do
    proc = snakemake(tmp_path, cfg, "-n", "results/report.html")
    assert "Nothing to be done" in proc.stdout + proc.stderr
