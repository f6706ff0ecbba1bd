"""The evaluation's real side (computed once per dataset, JSON + NPZ), the batches of tables per job with their
memo, and the convention that every missing metric says why."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import REPO, job_counts, repo_config, run_snakemake, spec_path
from medsyn.config import baseline_names, load_config
from medsyn.data import load_real, write_table
from medsyn.evaluate import EvalInputs, real_side
from medsyn.evaluate.batches import batches
from medsyn.evaluate.suite import evaluate_table
from medsyn.spec import load_spec
from medsyn.split import split_real

ALL_FAMILIES = ["fidelity", "clinical", "privacy", "utility", "diversity", "paper"]


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)


def _tables(parts):
    train = parts["train"]
    return {"copies": train.iloc[[3] * 40], "unseen": parts["reference"].iloc[:50], "three": train.iloc[:3],
            "empty": train.iloc[:0]}


def _without_seconds(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "seconds"}


def test_cached_real_side_gives_the_same_metrics_as_computing_it_per_table(pima, tmp_path):
    spec, parts = pima
    built = real_side.build(spec, parts["train"], parts["holdout"], parts["reference"], 5, ALL_FAMILIES)
    real_side.save(built, tmp_path / "real.json", tmp_path / "real.npz")
    loaded = real_side.load(tmp_path / "real.json", tmp_path / "real.npz")
    assert set(loaded.parts) == {"fidelity", "clinical", "privacy", "utility", "diversity"}
    for name, syn in _tables(parts).items():
        ex = parts["train"].iloc[[3, 4, 5]]
        # the same seed seeds the train-on-real model in both (the real side's seed is the split's in the workflow)
        alone = evaluate_table(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], syn, ex,
                                          seed=5), ALL_FAMILIES)
        cached = evaluate_table(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], syn, ex,
                                           seed=5, real=loaded), ALL_FAMILIES)
        assert _without_seconds(cached) == _without_seconds(alone), name


def test_real_side_files_are_json_and_npz_without_pickle(pima, tmp_path):
    spec, parts = pima
    built = real_side.build(spec, parts["train"], parts["holdout"], parts["reference"], 1, ["utility", "fidelity"])
    real_side.save(built, tmp_path / "r.json", tmp_path / "r.npz")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["format"] == real_side.FORMAT and data["families"] == ["utility", "fidelity"]
    assert data["parts"]["utility"]["x_test"] == {"npz": "utility.x_test"}
    with np.load(tmp_path / "r.npz", allow_pickle=False) as npz:  # raises on any object array
        assert npz["utility.x_test"].shape == (len(parts["holdout"]), len(spec.columns) - 1)
        assert npz["fidelity.association"].shape == (len(spec.columns),) * 2
    with pytest.raises(real_side.RealSideError, match="no part for family 'privacy'.*evaluation.families"):
        real_side.load(tmp_path / "r.json", tmp_path / "r.npz").part("privacy")


def test_a_real_side_from_other_split_files_is_refused(pima, tmp_path):
    spec, parts = pima
    paths = {}
    for name, frame in parts.items():
        paths[name] = tmp_path / f"{name}.csv"
        write_table(frame, paths[name], spec)
    sources = {name: real_side.sha256(p) for name, p in paths.items()}
    built = real_side.build(spec, parts["train"], parts["holdout"], parts["reference"], 1, ["privacy"],
                            sources=sources)
    real_side.check_sources(built, paths)
    write_table(parts["holdout"].iloc[1:], paths["holdout"], spec)
    with pytest.raises(real_side.RealSideError, match=r"not computed from .*holdout\.csv.*rerun the real_side rule"):
        real_side.check_sources(built, paths)


def test_every_missing_metric_says_why(pima):
    """The convention (medsyn.evaluate.results): a None value has "<key>.error" beside it, in every family."""
    spec, parts = pima
    for name, syn in _tables(parts).items():
        result = evaluate_table(EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], syn,
                                           seed=2), ALL_FAMILIES)
        missing = [k for k, v in result["metrics"].items() if v is None]
        unexplained = [k for k in missing if f"{k}.error" not in result["errors"]]
        assert not unexplained, (name, unexplained[:5])
        if name == "empty":
            assert len(missing) > 100 and result["errors"]["privacy.mia_auc.error"] == "no synthetic rows"
            assert result["errors"]["paper.tstr_accuracy.error"] == "synthetic table has no rows"


def test_baselines_and_imports_are_batched_per_dataset_with_one_output_per_table():
    cfg = repo_config()
    cfg["evaluation"] = {"batch_size": 3}
    cfg["external"] = {"ext": {"dataset": "pima", "runs": {f"r{i}": {"csv": "x.csv"} for i in range(4)}}}
    config = load_config(cfg)
    found = batches(config, baseline_names(config))
    names = [b.name for b in found]
    # 5 baselines (the four and steered-default: the default recipe steers) x 1 seed per dataset -> 2 batches
    # (3 + 2); 4 imports of pima -> 2 batches
    assert names == ["evaluate_baseline_cirrhosis_1", "evaluate_baseline_cirrhosis_2",
                     "evaluate_baseline_breast_cancer_1", "evaluate_baseline_breast_cancer_2",
                     "evaluate_baseline_pima_1", "evaluate_baseline_pima_2",
                     "evaluate_external_pima_1", "evaluate_external_pima_2"]
    outputs = [o for b in found for o in b.outputs]
    assert len(outputs) == len(set(outputs)) == 3 * 5 + 4
    ext = found[-2].tables[0]
    assert ext["inputs"] == {"synthetic": "results/external/ext/pima/r0/synthetic.csv",
                             "parse_report": "results/external/ext/pima/r0/parse_report.json",
                             "examples": "results/external/ext/pima/r0/examples.csv"}
    assert ext["seed"] == 0 and ext["eval_seed"] > 0  # imports have no run seed; their evaluation has one


@pytest.mark.workflow
def test_batch_jobs_rerun_only_the_changed_table_and_match_one_job_per_table(tmp_path):
    cfg = repo_config()
    cfg["datasets"] = ["pima"]
    targets = [f"results/baselines/{b}/pima/train-all/seed1/metrics.json" for b in ("holdout", "marginals", "copula",
                                                                        "bootstrap")]
    records = {}
    for size in (2, 1):
        cfg["evaluation"] = {"batch_size": size}
        work = tmp_path / f"batch{size}"
        work.mkdir()
        proc = run_snakemake(work, *targets, config=cfg)
        counts = job_counts(proc.stdout + proc.stderr)
        assert counts["real_side"] == 1
        batch_jobs = sum(n for job, n in counts.items() if job.startswith("evaluate_baseline_pima"))
        assert batch_jobs == 4 // size
        records[size] = {t: json.loads((work / t).read_text()) for t in targets}
    for t in targets:
        a, b = records[2][t], records[1][t]
        assert a["metrics"] == b["metrics"] and a["errors"] == b["errors"], t
        assert a["synthetic"] == t.replace("metrics.json", "synthetic.csv")
        assert "privacy.mia_auc_ci95_high" in a["metrics"] and "privacy.n_effective" in a["metrics"]
    assert (tmp_path / "batch2/results/evaluation/pima/train-all/real_side.npz").is_file()
    # change one table: its batch job runs again, evaluates that table only, the other one comes from its memo
    work = tmp_path / "batch2"
    table = work / "results/baselines/copula/pima/train-all/seed1/synthetic.csv"
    lines = table.read_text().splitlines()
    lines[1] = lines[2]
    table.write_text("\n".join(lines) + "\n")
    cfg["evaluation"] = {"batch_size": 2}
    proc = run_snakemake(work, *targets, config=cfg)
    assert sum(n for job, n in job_counts(proc.stdout + proc.stderr).items() if job.startswith("evaluate_")) == 1
    log = (work / "logs/evaluate/evaluate_baseline_pima_2.log").read_text()  # the batch of copula and bootstrap
    assert re.search(r"2 tables: 1 evaluated, 1 unchanged", log), log
    again = {t: json.loads((work / t).read_text()) for t in targets}
    assert again["results/baselines/holdout/pima/train-all/seed1/metrics.json"] == records[2][
        "results/baselines/holdout/pima/train-all/seed1/metrics.json"]
    assert again[targets[2]]["metrics"] != records[2][targets[2]]["metrics"]
    assert str(REPO) not in json.dumps(again)  # paths stay workflow-relative


@pytest.mark.workflow
def test_paper_audit_config_plans_the_imports_and_baselines_without_generation(tmp_path, shared_data):
    """config/paper.yaml + config/experiments/paper_audit.yaml: the 266 raw outputs imported and evaluated in
    batches, the baselines, the paper tables and the report; not one generation job."""
    import yaml

    cfg = repo_config()
    for name in ("paper.yaml", "experiments/paper_audit.yaml"):
        overlay = yaml.safe_load((REPO / "config" / name).read_text())
        cfg.update({k: ({**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v)
                    for k, v in overlay.items()})
    cfg["dataset_options"] = {d: {"csv": str(shared_data / f"{d}.csv")} for d in ("diabetes", "stroke", "cirrhosis")}
    cfg["paper_raw"]["root"] = str(shared_data / "synllm_raw")
    counts = job_counts(run_snakemake(tmp_path, "-n", "results/report.html", config=cfg).stdout)
    assert counts["import_external"] == 266 and counts["make_baseline"] == 4 * 3 * 5
    assert not {"generate", "parse", "make_prompt", "prepare_model", "evaluate_run"} & set(counts)
    batches = {job: n for job, n in counts.items() if job.startswith("evaluate_")}
    assert sum(batches.values()) == len(batches) == 3 + 15  # 60 baselines and 266 imports, batches of 20
    assert counts["real_side"] == 3 and counts["paper_comparison"] == 1 and counts["report"] == 1
