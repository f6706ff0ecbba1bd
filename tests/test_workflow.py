"""The Snakemake DAG: dry-runs of the grid and of single-model targets, and a tiny real run with SmolLM2."""


import pytest
import yaml

from conftest import job_counts, repo_config, run_snakemake

pytestmark = pytest.mark.workflow


def snakemake(workdir, config, *args, check=True):
    return run_snakemake(workdir, *args, config=config, check=check)


def test_dry_run_plans_one_generation_job_per_run(tmp_path):
    cfg = repo_config()
    cfg["seeds"] = [1, 2]
    cfg["generation"]["models"] = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
    proc = snakemake(tmp_path, cfg, "-n", "results/report.html")
    counts = job_counts(proc.stdout)
    n_runs = 3 * 4 * 2 * 2  # datasets x prompts x seeds x models
    assert counts["generate"] == n_runs and counts["parse"] == n_runs
    assert counts["make_prompt"] == 3 * 4 * 2 and counts["prepare_data"] == 3 and counts["prepare_model"] == 2
    assert counts["check_backend"] == 2  # one preflight per model, before its generation jobs


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


def test_dry_run_and_lint_write_nothing(tmp_path):
    """Parsing the workflow has no side effects: no results folder, no probe file (the writability check runs in
    onstart, only when jobs are about to run)."""
    snakemake(tmp_path, repo_config(), "-n", "results/report.html")
    snakemake(tmp_path, repo_config(), "--lint")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".snakemake", "test_config.yaml"]


GENERATED = "results/models/smollm2-135m-instruct/pima/train-all/A/grammar/default/seed1/raw.jsonl"


def _finished_generation(workdir):
    """A generation job recorded as done: real model, split and prompt; the job's outputs marked by --touch."""
    cfg = repo_config()
    cfg["datasets"] = ["pima"]
    cfg["prompts"]["types"] = ["A"]
    snakemake(workdir, cfg, "resources/models/smollm2-135m-instruct.gguf",
              "results/prompts/pima/train-all/A/default/seed1.json")
    run = workdir / GENERATED
    run.parent.mkdir(parents=True)
    for name in ("raw.jsonl", "generation.json"):
        (run.parent / name).write_text("{}\n")
    snakemake(workdir, cfg, "--touch", GENERATED)
    return cfg


def test_the_tests_touch_path_leaves_a_finished_run_alone(tmp_path):
    """README's two commands in order: the test suite's --touch of its own model copy must not make the quick
    start's finished run plan generation again. The model file is a copy (no inode shared with the installed
    package or another checkout), and generation reads it as ancient() (the sha256 in params decides reruns)."""
    first, second = tmp_path / "quickstart", tmp_path / "tests"
    first.mkdir()
    second.mkdir()
    cfg = _finished_generation(first)
    assert "Nothing to be done" in snakemake(first, cfg, "-n", GENERATED).stdout
    _finished_generation(second)
    snakemake(second, cfg, "--touch", "--forceall", GENERATED)  # what the tests do to their own outputs
    model = "resources/models/smollm2-135m-instruct.gguf"
    assert (first / model).stat().st_ino != (second / model).stat().st_ino
    proc = snakemake(first, cfg, "-n", GENERATED)
    assert "Nothing to be done" in proc.stdout, proc.stdout[-2000:]
    (first / model).touch()  # even its own model file's time: only the sha256 in params decides
    assert "Nothing to be done" in snakemake(first, cfg, "-n", GENERATED).stdout


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
    # every figure embedded, and the overview's generator x dataset figure
    assert html.count('src="data:image/png;base64,') == len(pngs) + 1
    board = (tmp_path / "results/tables/leaderboard.tsv").read_text()
    assert "holdout (baseline)" in board and "smollm2-135m-instruct A grammar" in board
    for ds in ("pima", "stroke"):
        for p in ("A", "D"):
            run = tmp_path / f"results/models/smollm2-135m-instruct/{ds}/train-all/{p}/grammar/default/seed1"
            report = yaml.safe_load((run / "parse_report.json").read_text())
            assert report["candidate_rows"] >= 4 and report["spec_valid_share"] == 1.0
            assert (run / "synthetic.csv").read_text().startswith(
                "Pregnancies," if ds == "pima" else "gender,")
    # a rerun has nothing to do
    proc = snakemake(tmp_path, cfg, "-n", "results/report.html")
    assert "Nothing to be done" in proc.stdout + proc.stderr
