# Pure Python helpers: config loading (load_config: validate the keys, then resolve the files they name), the run
# grid, wildcard constraints and parameter lookups.
# The logic lives in src/medsyn/config.py so tests import it directly.
import re
from pathlib import Path

from medsyn import layout
from medsyn.config import (
    baseline_dirs,
    baseline_names,
    check_dataset_specs,
    check_writable,
    external_dirs,
    external_entry,
    external_names,
    load_config,
    paper_runs,
    recipe_generation,
    runs,
)
from medsyn.split import main_train_size
from snakemake.exceptions import WorkflowError

load_config(config)  # validated and filled in place: the one config object (schema defaults, spec paths)
check_dataset_specs(config)
RUNS = runs(config)
PAPER_RUNS = paper_runs(config)  # the SynLLM paper's imported raw outputs (config paper_raw), see paper.smk


wildcard_constraints:
    model="|".join(re.escape(m) for m in config["models"]),
    dataset="|".join(re.escape(d) for d in config["datasets"]),
    prompt="[A-D]",
    mode="grammar|free",
    recipe="|".join(re.escape(r) for r in config["generation"]["recipes"]),
    seed=r"\d+",
    train_rows=r"all|\d+",
    baseline="|".join(re.escape(b) for b in baseline_names(config)),
    generator="|".join(re.escape(g) for g in external_names(config)) or "NO_EXTERNAL",


def run_files(name, model=None):
    """One file per run (model x dataset x prompt x mode x seed); ``model`` restricts to one model."""
    return [f"{run.dir}/{name}" for run in runs(config, model)]


def all_metrics_files():
    """Every table the evaluation scores: LLM runs, baselines and imported generators."""
    return (
        run_files("metrics.json")
        + [f"{d}/metrics.json" for d in baseline_dirs(config)]
        + [f"{d}/metrics.json" for d in external_dirs(config)]
    )


def baseline_rows():
    return config["evaluation"]["baseline_rows"] or config["generation"]["target_rows"]


def external_run(wildcards):
    return external_entry(config, wildcards.generator, wildcards.dataset)["runs"][wildcards.label]


def external_inputs(wildcards):
    run = external_run(wildcards)
    return {k: v for k, v in run.items() if k in ("csv", "raw", "prompt")}


def train_set(wildcards):
    """The train rows of a job's train size: train.csv for all, else its subsample (every consumer of train reads
    this, never train.csv directly)."""
    return layout.train_file(wildcards.dataset, wildcards.train_rows)


def split_files(wildcards):
    """train (of the job's train size), holdout and reference; ``wildcards``: a job's, or an evaluation Batch."""
    return {
        "train": train_set(wildcards),
        **{part: layout.split_file(wildcards.dataset, part) for part in layout.SPLIT_PARTS if part != "train"},
    }


def dataset_params(wildcards):
    entry = config["dataset_options"][wildcards.dataset]
    return {"spec": entry["spec"], "csv": entry.get("csv")}


def dataset_csv(wildcards):
    return config["dataset_options"][wildcards.dataset]["csv"]


def spec_path(wildcards):
    return config["dataset_options"][wildcards.dataset]["spec"]


def model_entry(wildcards):
    return config["models"][wildcards.model]


def model_source(wildcards):
    """Only what determines the file's bytes, so editing n_ctx or chat reruns generation, not materialization."""
    entry = config["models"][wildcards.model]
    return {"source": entry["source"], "sha256": entry["sha256"]}


def model_preflight(wildcards):
    """What the backend preflight depends on besides the file: editing n_ctx or chat does not rerun it."""
    entry = config["models"][wildcards.model]
    return {key: entry[key] for key in ("sha256", "n_gpu_layers", "preflight_text")}


def recipe_block(recipe):
    """A recipe resolved over the base generation keys (medsyn.settings maps it to GenerationSettings)."""
    gen = recipe_generation(config, recipe)
    for key in ("models", "modes"):
        gen.pop(key)
    return gen


def generation_params(wildcards):
    return recipe_block(wildcards.recipe)


def prompt_column_order(wildcards):
    """The recipe's generation column order; the word ``target`` is resolved by the step from the spec, which a
    drafted dataset does not have before its draft_spec job."""
    return recipe_generation(config, wildcards.recipe)["column_order"]


def model_mem_mb(wildcards, attempt):
    """GGUF size plus KV cache and runtime headroom; grows with each retry."""
    entry = config["models"][wildcards.model]
    path = Path(layout.model_file(wildcards.model))
    size_mb = path.stat().st_size / 2**20 if path.exists() else 1200
    return int((size_mb + entry["n_ctx"] * 0.25 + 500) * attempt)


def model_gpu(wildcards):
    """1 GPU for a model that offloads layers (n_gpu_layers != 0), else 0: executors request GPUs from this."""
    return int(config["models"][wildcards.model]["n_gpu_layers"] != 0)


def generate_threads():
    """Threads of one generation job. A small model is compute-bound in llama.cpp, and a job's second thread waits
    while Python samples and at every op's barrier: on 2 cores, two jobs of one thread each generated the default
    grid in 0.70 of the time one job of two threads took, with byte-identical tables (docs/performance.md). So one
    thread on a run of at most 2 cores; 4 elsewhere (larger machines, cluster jobs), as before."""
    try:
        cores = workflow.cores
    except WorkflowError:  # cluster runs set no total of cores (it raises): their jobs keep 4
        return 4
    return 1 if isinstance(cores, int) and cores <= 2 else 4


def generate_runtime(wildcards, attempt):
    """Minutes of wall time for one generation job; a retry gets more."""
    return 120 * attempt


def generate_env(wildcards):
    """Under --sdm conda: the CUDA build of llama-cpp-python for models that offload layers, else the CPU build."""
    return "../envs/medsyn-cuda.yaml" if model_gpu(wildcards) else "../envs/medsyn.yaml"


def dataset_tables(wildcards):
    """Every synthetic table scored for one dataset: LLM runs, baselines and imports."""
    dirs = [run.dir for run in RUNS if run.dataset == wildcards.dataset]
    dirs += [
        d for d in baseline_dirs(config) + external_dirs(config) if layout.table_key(d)["dataset"] == wildcards.dataset
    ]
    return [f"{d}/synthetic.csv" for d in dirs]


def prompt_files(train_rows=None):
    """Every run's prompt file, or those of one train size."""
    return sorted(
        {
            layout.prompt_file(r.dataset, r.train_rows, r.prompt, r.recipe, r.seed)
            for r in RUNS
            if train_rows is None or r.train_rows == train_rows
        }
    )


def paper_report_tables(wildcards):
    """The paper-audit tables for the report when the SynLLM raw outputs are imported (config paper_raw)."""
    if not config.get("paper_raw"):
        return {}
    return {
        "paper_comparison": layout.table("paper_comparison"),
        "paper_rankings": layout.table("paper_rankings"),
        "paper_copies": layout.table("paper_copy_shares"),
    }


def paper_files(name):
    """One file per imported paper run (results/external/paper-<model>/<dataset>/P<n>/<name>)."""
    return [f"{r['dir']}/{name}" for r in PAPER_RUNS]


def baseline_recipe(wildcards):
    """For a ``drawn-<recipe>`` or ``steered-<recipe>`` baseline: the recipe's generation block, the one its
    generation runs read (the step builds the same GenerationSettings from it); None for the other baselines."""
    prefix = wildcards.baseline.split("-", 1)[0]
    if prefix not in ("drawn", "steered"):
        return None
    return recipe_block(wildcards.baseline.removeprefix(prefix + "-"))
