"""Scaling out: resources per job, the SLURM profile's submissions, a 1,200-run dry-run and single-model reruns.

The SLURM test needs snakemake-executor-plugin-slurm (pinned in pyproject's [test] extra) and runs no scheduler:
fake `sbatch`, `sacct`, `squeue`, `sinfo`, `sacctmgr`, `scontrol` and `scancel` on PATH record their arguments.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SNAKEFILE, job_counts, repo_config, run_snakemake

pytestmark = pytest.mark.workflow

SLURM_PROFILE = REPO / "profiles" / "slurm"
GENERIC_PROFILE = REPO / "profiles" / "generic"
GRID = REPO / "tests" / "fixtures" / "grid_20_models.yaml"

FAKE_TOOL = """#!{python}
# Records its name and arguments as one JSON line in $FAKE_SLURM_LOG; answers like a quiet SLURM cluster.
import json, os, sys
name = os.path.basename(sys.argv[0])
stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
log = os.environ["FAKE_SLURM_LOG"]
with open(log, "a") as fh:
    fh.write(json.dumps({{"tool": name, "argv": sys.argv[1:], "stdin": stdin}}) + "\\n")
if name == "sbatch":
    with open(log) as fh:
        n = sum(1 for line in fh if '"tool": "sbatch"' in line)
    print(1000 + n)
elif name in ("sacctmgr", "sshare"):
    print(os.environ["FAKE_SLURM_ACCOUNT"])
elif name == "sinfo":
    print("PARTITION")
    print("cpu*")
    print("gpu")
"""


def snakemake_files(workdir: Path, configfiles: list[Path], *args, timeout=600):
    return run_snakemake(workdir, *args, configfiles=configfiles, timeout=timeout)


def small_config(tmp_path: Path, models: dict[str, int]) -> Path:
    """One dataset, one prompt, one seed; local-path models with the given n_gpu_layers."""
    cfg = repo_config()
    cfg["datasets"] = ["pima"]
    cfg["prompts"]["types"] = ["A"]
    cfg["seeds"] = [1]
    cfg["generation"]["models"] = list(models)
    cfg["models"] = {
        name: {"source": {"path": f"models/{name}.gguf"}, "sha256": f"{i:064x}", "n_ctx": 2048, "n_gpu_layers": ngl}
        for i, (name, ngl) in enumerate(models.items(), start=1)
    }
    path = tmp_path / "test_config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def fake_upstream(workdir: Path, models: list[str]) -> None:
    """Outputs of prepare_data, make_prompt, prepare_model and check_backend, so that only generation jobs are left
    to submit."""
    for name in ("train.csv", "holdout.csv", "reference.csv", "split.json", "groups.csv"):
        (workdir / "results/data/pima").mkdir(parents=True, exist_ok=True)
        (workdir / "results/data/pima" / name).write_text("x\n")
    time.sleep(0.05)
    (workdir / "results/prompts/pima/train-all/A/default").mkdir(parents=True)
    (workdir / "results/prompts/pima/train-all/A/default/seed1.json").write_text("{}\n")
    (workdir / "resources/models").mkdir(parents=True)
    (workdir / "results/backend").mkdir(parents=True)
    for model in models:
        (workdir / f"resources/models/{model}.gguf").write_bytes(b"GGUF" + bytes(2**20))
        (workdir / f"results/backend/{model}.json").write_text("{}\n")


# --- resources -----------------------------------------------------------------------------------------------------


def submit_with_fake_scheduler(tmp_path: Path, profile: Path, submit_tool: str, env: dict) -> list[list[str]]:
    """Run the workflow with ``profile`` and fake scheduler commands on PATH until one CPU and one GPU model's
    generation job are submitted, then stop it (Ctrl-C). Returns the submit command's argument lists."""
    models = {"cpu-model": 0, "gpu-model": -1}
    workdir = tmp_path / "run"
    workdir.mkdir(exist_ok=True)
    config = small_config(tmp_path, models)
    fake_upstream(workdir, list(models))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "fake_scheduler_tool"
    tool.write_text(FAKE_TOOL.format(python=sys.executable))
    tool.chmod(0o755)
    for name in ("sbatch", "sacct", "squeue", "sinfo", "sacctmgr", "sshare", "scontrol", "scancel", "qsub", "qdel"):
        (bindir / name).symlink_to(tool)
    record = tmp_path / "scheduler_calls.jsonl"
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", FAKE_SLURM_LOG=str(record), **env)
    targets = [f"results/models/{m}/pima/train-all/A/grammar/default/seed1/raw.jsonl" for m in models]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--workflow-profile", str(profile), *targets, "--configfile", str(config)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)

    def submissions():
        if not record.exists():
            return []
        calls = [json.loads(line) for line in record.read_text().splitlines()]
        return [c["argv"] for c in calls if c["tool"] == submit_tool]

    deadline = time.monotonic() + 180
    while len(submissions()) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if proc.poll() is None:  # the jobs "stay queued" forever: stop Snakemake (Ctrl-C), which cancels them
        os.killpg(proc.pid, signal.SIGINT)
    try:
        output = proc.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0]
    calls = submissions()
    assert len(calls) == 2, f"expected 2 {submit_tool} calls, got {len(calls)}:\n{output[-4000:]}"
    return calls


def test_slurm_profile_sends_gpu_models_with_a_gpu_request(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    account = str(profile["default-resources"]["slurm_account"])
    calls = submit_with_fake_scheduler(tmp_path, SLURM_PROFILE, "sbatch", {"FAKE_SLURM_ACCOUNT": account})

    def call_for(model):
        matches = [argv for argv in calls if argv[argv.index("--comment") + 1].startswith(
            f"rule_generate_wildcards_{model}_")]
        assert len(matches) == 1, calls
        return matches[0]

    gpu, cpu = call_for("gpu-model"), call_for("cpu-model")
    print("GPU job: sbatch", " ".join(a for a in gpu if not a.startswith("--wrap")))
    print("CPU job: sbatch", " ".join(a for a in cpu if not a.startswith("--wrap")))
    assert "--gpus=1" in gpu and "--cpus-per-gpu=8" in gpu
    assert gpu[gpu.index("-p") + 1] == "gpu"  # partitions.yaml: GPU jobs fit only the GPU partition
    assert not any(a.startswith(("--gpus", "--gres", "--cpus-per-gpu")) for a in cpu)
    assert "--cpus-per-task=4" in cpu and cpu[cpu.index("-p") + 1] == "cpu"
    for argv in (gpu, cpu):
        assert int(argv[argv.index("--mem") + 1]) > 1000 and argv[argv.index("-t") + 1] == "120"
        assert argv[argv.index("-A") + 1] == account


def test_generic_profile_passes_the_gpu_resource_to_the_submit_command(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    (tmp_path / "run" / "logs" / "cluster").mkdir(parents=True)
    calls = submit_with_fake_scheduler(tmp_path, GENERIC_PROFILE, "qsub", {})
    by_model = {}
    for argv in calls:
        script = Path(argv[-1]).read_text()  # the job script Snakemake wrote and handed to qsub
        by_model["gpu-model" if "gpu-model" in script else "cpu-model"] = " ".join(argv)
    print(by_model)
    assert set(by_model) == {"gpu-model", "cpu-model"}
    assert "ngpus=1" in by_model["gpu-model"] and "ngpus=0" in by_model["cpu-model"]
    assert "ncpus=4" in by_model["gpu-model"] and "ncpus=4" in by_model["cpu-model"]


# --- planning a large grid -------------------------------------------------------------------------------------------


def test_dry_run_plans_1200_generation_jobs(tmp_path):
    """3 datasets x 20 models x 4 prompts x 5 seeds, planned in full from the configs alone."""
    grid = yaml.safe_load(GRID.read_text())
    assert len(grid["generation"]["models"]) == 20 and len(grid["seeds"]) == 5 and len(grid["datasets"]) == 3
    started = time.perf_counter()
    proc = snakemake_files(tmp_path, [REPO / "config" / "config.yaml", GRID], "-n", "results/report.html",
                         "--quiet", "rules")
    seconds = time.perf_counter() - started
    print(f"dry-run of the 1,200-run grid: {seconds:.1f} s")
    counts = job_counts(proc.stdout)
    runs = 3 * 20 * 4 * 5
    assert counts["generate"] == runs and counts["parse"] == runs and counts["evaluate_run"] == runs
    assert counts["prepare_model"] == 20 and counts["check_backend"] == 20 and counts["prepare_data"] == 3 and counts["make_prompt"] == 3 * 4 * 5
    baselines = (4 + 1) * 3 * 5  # the four configured and steered-default (the default recipe steers)
    assert counts["make_baseline"] == baselines
    # baselines are evaluated in batches of evaluation.batch_size (20): two jobs per dataset here (25 tables each)
    assert [n for job, n in counts.items() if job.startswith("evaluate_baseline_")] == [1] * 6
    assert counts["report"] == 1 and counts["aggregate_metrics"] == 1
    assert seconds < 60  # target: under 20 s on 2 idle cores (docs/cluster-gpu-cpu.md); generous here for shared CI machines


def test_gpu_resource_follows_n_gpu_layers(tmp_path):
    """`gpu` is 1 exactly for models that offload layers; mem_mb grows with the model's context."""
    models = {"cpu-model": 0, "gpu-model": -1, "partial-gpu": 12}
    config = small_config(tmp_path, models)
    proc = snakemake_files(tmp_path, [config], "-n", "--printshellcmds",
                         *[f"results/models/{m}/pima/train-all/A/grammar/default/seed1/raw.jsonl" for m in models])
    jobs = {}
    for block in proc.stdout.split("\nrule generate:")[1:]:
        model = re.search(r"wildcards: model=([^,\s]+)", block)[1]
        jobs[model] = dict(re.findall(r"(\w+)=(\d+)", re.search(r"resources: (.*)", block)[1]))
    assert set(jobs) == set(models)
    assert {m: jobs[m].get("gpu") for m in models} == {"cpu-model": "0", "gpu-model": "1", "partial-gpu": "1"}
    assert all(int(j["mem_mb"]) >= 1200 and j["runtime"] == "120" for j in jobs.values())


# --- single-model reruns ---------------------------------------------------------------------------------------------


def test_editing_one_model_outdates_only_its_jobs(tmp_path):
    """Run (touch) everything, edit one model's registry entry: a dry-run plans only that model's jobs again."""
    models = {"model-a": 0, "model-b": 0, "model-c": 0}
    config = small_config(tmp_path, models)
    workdir = tmp_path / "run"
    workdir.mkdir()
    fake_upstream(workdir, list(models))
    for model in models:  # stand-ins for a finished run's outputs
        run = workdir / f"results/models/{model}/pima/train-all/A/grammar/default/seed1"
        run.mkdir(parents=True)
        for name in ("raw.jsonl", "generation.json", "synthetic.csv", "parse_report.json", "rejects.tsv"):
            (run / name).write_text("x\n")
        (workdir / f"results/models/{model}/summary.json").write_text("{}\n")
    targets = [f"results/models/{m}/summary.json" for m in models]
    # --touch --forceall records every job as done, with its params, without running it
    snakemake_files(workdir, [config], "--touch", "--forceall", *targets)
    proc = snakemake_files(workdir, [config], "-n", *targets)
    assert "Nothing to be done" in proc.stdout + proc.stderr

    cfg = yaml.safe_load(config.read_text())
    cfg["models"]["model-b"]["n_ctx"] = 4096
    config.write_text(yaml.safe_dump(cfg))
    proc = snakemake_files(workdir, [config], "-n", *targets)
    out = proc.stdout + proc.stderr
    print(out[out.index("Job stats:"):])
    counts = job_counts(out)
    # the file's source and sha256 are unchanged, and so is what the backend preflight checks
    assert counts["generate"] == 1 and "prepare_model" not in counts and "check_backend" not in counts
    planned = set(re.findall(r"wildcards: model=([^,\s]+)", out))
    assert planned == {"model-b"}
    assert "Params have changed since last execution" in out


# --- GPU builds ----------------------------------------------------------------------------------------------


def test_gpu_model_on_a_cpu_build_stops_with_the_fix():
    from medsyn.errors import ModelError
    from medsyn.llm.backend import require_gpu_offload

    require_gpu_offload("cpu-model", 0, supported=False)  # CPU models never need offload
    require_gpu_offload("gpu-model", -1, supported=True)
    with pytest.raises(ModelError) as err:
        require_gpu_offload("qwen-gpu", -1, supported=False)
    message = str(err.value)
    assert "model 'qwen-gpu' would silently run on the CPU" in message and "n_gpu_layers=-1" in message
    assert "models.qwen-gpu.n_gpu_layers: 0" in message
    assert 'CMAKE_ARGS="-DGGML_CUDA=on" bash scripts/install.sh --cuda' in message


def test_llama_backend_refuses_gpu_layers_before_loading(tmp_path):
    """The installed build is checked before any model file is opened (the path here does not even exist)."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from medsyn.errors import ModelError
    from medsyn.llm.backend import LlamaBackend

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama-cpp-python build can offload to a GPU")
    with pytest.raises(ModelError, match=r"n_gpu_layers=20 .*model 'gpu-model'"):
        LlamaBackend(str(tmp_path / "missing.gguf"), n_ctx=512, n_threads=1, n_gpu_layers=20, model_id="gpu-model")


def test_cluster_profiles_replace_the_local_gpu_cap():
    """The local profile allows one GPU job at a time; a cluster run (--workflow-profile) must not inherit that cap,
    and site settings stay in the profiles."""
    from snakemake.cli import parse_args

    pytest.importorskip("snakemake_executor_plugin_slurm")
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    local = parse_args(["--snakefile", str(SNAKEFILE), "-n"])[1]
    assert local.resources["gpu"].value == 1 and local.executor is None
    for profile, executor in ((SLURM_PROFILE, "slurm"), (GENERIC_PROFILE, "cluster-generic")):
        args = parse_args(["--snakefile", str(SNAKEFILE), "--workflow-profile", str(profile), "-n"])[1]
        assert args.executor == executor and "gpu" not in args.resources
        assert args.retries >= 1 and args.latency_wait >= 30
    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    assert not re.search(r"slurm_(account|partition)|\bqueue\b|partition", rules)
