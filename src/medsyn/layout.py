"""Where every file of a run lives: the one owner of the paths the workflow reads and writes.

Rules use the patterns (with Snakemake wildcards), Python code the functions; nothing else spells a path: rule
outputs, logs and benchmarks, the tables under results/tables/, the siblings a step keeps beside an output
(``.tmp``, ``.checkpoint``, ``.memo.json``), a user's spec in config/datasets/, and the one committed resource
of the workflow. Paths are relative to the working directory (``snakemake --directory``) unless said otherwise;
medsyn's own files (schemas, shipped dataset specs) are package data (``medsyn.paths``).

``TREE``, ``FILES`` and ``TABLES`` describe every path; results/README.md is generated from them
(``python -m medsyn.layout > results/README.md``) and tests/test_layout.py fails when the two disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = "results"
LOGS = "logs"
BENCHMARKS = "benchmarks"

# the wildcards that name one job's table; a table's folder, log and benchmark share them
# the train-size level (config split.train_rows): `train-all` (the whole train split) or `train-<n>` (a nested,
# stratified subsample of n rows); everything that learns from train learns from that set only
TRAIN_LEVEL = "train-{train_rows}"
ALL_TRAIN = "all"
RUN_KEY = f"{{model}}/{{dataset}}/{TRAIN_LEVEL}/{{prompt}}/{{mode}}/{{recipe}}/seed{{seed}}"
PROMPT_KEY = f"{{dataset}}/{TRAIN_LEVEL}/{{prompt}}/{{recipe}}/seed{{seed}}"
BASELINE_KEY = f"{{baseline}}/{{dataset}}/{TRAIN_LEVEL}/seed{{seed}}"
EXTERNAL_KEY = "{generator}/{dataset}/{label}"  # imports were generated elsewhere: scored against the whole train
TRAIN_KEY = f"{{dataset}}/{TRAIN_LEVEL}"  # one train set: a dataset at one train size

SPEC = "config/datasets/{dataset}.yaml"  # a hand-written spec: wins over a shipped or a drafted one
DRAFTED_SPEC = f"{RESULTS}/specs/{{dataset}}.yaml"  # drafted from dataset_options.<id>.csv when no spec file exists
DATA_DIR = f"{RESULTS}/data/{{dataset}}"
SPLIT_PARTS = ("train", "holdout", "reference")
GROUPS = f"{DATA_DIR}/groups.csv"  # each real row's group (spec group_column): an input of the evaluation only
TRAIN_SUBSAMPLE = f"{DATA_DIR}/train-{{train_rows}}.csv"  # train-<n>.csv; train-all is train.csv itself (train_file)
PROMPT = f"{RESULTS}/prompts/{PROMPT_KEY}.json"
RUN_DIR = f"{RESULTS}/models/{RUN_KEY}"
MODEL_SUMMARY = f"{RESULTS}/models/{{model}}/summary.json"
BASELINE_DIR = f"{RESULTS}/baselines/{BASELINE_KEY}"
EXTERNAL_DIR = f"{RESULTS}/external/{EXTERNAL_KEY}"
EVALUATION_DIR = f"{RESULTS}/evaluation/{TRAIN_KEY}"  # the evaluation's real side of a train set (real_side.json, .npz)
TABLES_DIR = f"{RESULTS}/tables"
FIGURES_DIR = f"{RESULTS}/figures/{{dataset}}"
RELEASE_DIR = f"{RESULTS}/release"
REPORT = f"{RESULTS}/report.html"
MODEL_FILE = "resources/models/{model}.gguf"
BACKEND_CHECK = f"{RESULTS}/backend/{{model}}.json"  # llama.cpp decoded this model correctly here (check_backend)
# relative to the workflow's checkout, not the working directory: the one committed input file of the workflow
PAPER_SCORES = "workflow/resources/synllm_paper_scores.tsv"

# the files of a table folder (LLM run, baseline, import) and of a dataset's data and evaluation folders; the in_*
# helpers refuse a name not listed here
FILES = {
    "raw.jsonl": "the model's raw text, one record per call (LLM runs)",
    "generation.json": "provenance: model, settings, llama.cpp build, counts and seconds (LLM runs)",
    "synthetic.csv": "the synthetic table",
    "parse_report.json": "rows accepted and rejected per reason (LLM runs, imports)",
    "rejects.tsv": "every rejected candidate row with its reason (LLM runs, imports)",
    "examples.csv": "the real rows the import's prompts showed (imports)",
    "metrics.json": "every metric family's scores, and why a missing one is missing",
    "train.csv": "the rows a generator may see",
    "train-{train_rows}.csv": "a nested, stratified subsample of n train rows (config split.train_rows): all a generator at that train size sees",
    "holdout.csv": "rows no generator sees: privacy non-members, the utility test set",
    "reference.csv": "an unseen real sample scored like a generator",
    "split.json": "the split's record: seed, fractions, row ids, the spec used",
    "groups.csv": "each real row's group (spec group_column); read by the evaluation only",
    "real_side.json": "the evaluation's work on the real splits alone",
    "real_side.npz": "its arrays (no pickle)",
}
TABLES = {
    "metrics": "one row per evaluated table (rule aggregate_metrics)",
    "summary": "means and 95% intervals over seeds",
    "key_metrics": "the key metrics of each table",
    "release_gate": "each table releasable or not, with the reasons (rule release_gate)",
    "leaderboard": "composite scores, intervals over seeds, the Pareto front (rule report_tables)",
    "recommendation": "a pick per use case",
    "train_sizes": "every generator group per train size: fidelity and privacy with intervals, the gate's count, "
                   "the best classical and LLM groups (releasable and ignoring the gate), each LLM group's "
                   "contribution over its recipe's pull (steered-<recipe>)",
    "paper_copy_shares": "per imported paper run: copies of prompt examples and of train rows (config paper_raw)",
    "paper_comparison": "the SynLLM paper's published scores beside ours (config paper_raw)",
    "paper_rankings": "models and prompts ranked per dataset, paper vs ours (config paper_raw)",
}
TEMPORARY_SUFFIX = ".tmp"
CHECKPOINT_SUFFIX = ".checkpoint"
MEMO_SUFFIX = ".memo.json"

TREE = (
    (SPEC, "a hand-written dataset spec in the working directory (not under results/): wins over the one "
           "shipped with medsyn and over a drafted one"),
    (DRAFTED_SPEC, "a spec drafted from the dataset's CSV when it has no spec file (review it; keep it as "
                   f"`{SPEC}`)"),
    (f"{DATA_DIR}/", "the seeded, stratified real split (real rows: never leaves the machine): "
                     "`train.csv`, `holdout.csv`, `reference.csv`, `split.json`, `groups.csv`, and "
                     "`train-{train_rows}.csv` per train size of config split.train_rows"),
    (PROMPT, "one prompt: exact messages, prefill, example row ids, grammar, column order"),
    (f"{RUN_DIR}/", "one LLM run: `raw.jsonl`, `generation.json`, `synthetic.csv`, `parse_report.json`, "
                    "`rejects.tsv`, `metrics.json`"),
    (MODEL_SUMMARY, "every run of one model (ask for it to (re)run one model only)"),
    (f"{BASELINE_DIR}/", "one classical baseline table: `synthetic.csv`, `metrics.json`"),
    (f"{EXTERNAL_DIR}/", "one imported table (config external, paper_raw): `synthetic.csv`, `parse_report.json`, "
                         "`rejects.tsv`, `examples.csv`, `metrics.json`"),
    (f"{EVALUATION_DIR}/", "the evaluation's real side of a train set: `real_side.json`, `real_side.npz`"),
    (f"{TABLES_DIR}/<name>.tsv", "tables over every evaluated table (below)"),
    (f"{FIGURES_DIR}/", "the report's figures of a dataset (PNG)"),
    (REPORT, "the self-contained report"),
    (f"{RELEASE_DIR}/", "only the tables that pass the privacy gate, with `manifest.tsv` (rule release)"),
    (BACKEND_CHECK, "the backend preflight of one model"),
    (MODEL_FILE, "a model file (sha256-checked; not under results/)"),
    (f"{LOGS}/<rule>/<wildcards>.log", "one log per job (`logs/<rule>.log` for a rule with a single job)"),
    (f"{BENCHMARKS}/<rule>/<wildcards>.tsv", "time and memory of the jobs of the heavier rules"),
)


def in_run(name: str) -> str:
    """Pattern of a file in an LLM run folder (for rules: wildcards left in)."""
    return f"{RUN_DIR}/{_file(name)}"


def in_baseline(name: str) -> str:
    return f"{BASELINE_DIR}/{_file(name)}"


def in_external(name: str) -> str:
    return f"{EXTERNAL_DIR}/{_file(name)}"


def in_evaluation(name: str) -> str:
    return f"{EVALUATION_DIR}/{_file(name)}"


def in_data(name: str) -> str:
    return f"{DATA_DIR}/{_file(name)}"


def _file(name: str) -> str:
    if name not in FILES:
        raise ValueError(f"'{name}' is no file of the results layout: describe it in medsyn.layout.FILES "
                         "(results/README.md is generated from it)")
    return name


def table(name: str) -> str:
    """``results/tables/<name>.tsv`` of one of ``TABLES``."""
    if name not in TABLES:
        raise ValueError(f"'{name}' is no table of the results layout: describe it in medsyn.layout.TABLES")
    return f"{TABLES_DIR}/{name}.tsv"


def log(rule: str, key: str | None = None) -> str:
    """``logs/<rule>/<key>.log``, or ``logs/<rule>.log`` for a rule with a single job (``key`` None). ``key``:
    the job's wildcards as a path, e.g. ``RUN_KEY``."""
    return f"{LOGS}/{rule}/{key}.log" if key else f"{LOGS}/{rule}.log"


def benchmark(rule: str, key: str) -> str:
    """``benchmarks/<rule>/<key>.tsv``, beside the job's log."""
    return f"{BENCHMARKS}/{rule}/{key}.tsv"


def temporary(path: str | Path) -> Path:
    """``<path>.tmp``: where a write of ``path`` goes before it is renamed into place (``medsyn.atomic``)."""
    path = Path(path)
    return path.with_name(path.name + TEMPORARY_SUFFIX)


def checkpoint(raw: str | Path) -> Path:
    """``raw.jsonl.checkpoint`` beside a run's raw.jsonl: the finished calls of a generation, replayed when a
    killed job reruns (not a declared output, so Snakemake does not delete it)."""
    raw = Path(raw)
    return raw.with_name(raw.name + CHECKPOINT_SUFFIX)


def memo(metrics: str | Path) -> Path:
    """``metrics.memo.json`` beside a table's metrics.json: its last evaluation and what it depended on."""
    metrics = Path(metrics)
    return metrics.with_name(metrics.stem + MEMO_SUFFIX)


def spec_file(dataset: str) -> str:
    """``config/datasets/<id>.yaml`` of the working directory: a user's own spec of a dataset."""
    return SPEC.format(dataset=dataset)


def drafted_spec(dataset: str) -> str:
    return DRAFTED_SPEC.format(dataset=dataset)


def split_file(dataset: str, part: str) -> str:
    """``part``: train, holdout, reference (CSV) or split (the JSON record of the split)."""
    return f"{DATA_DIR.format(dataset=dataset)}/{part}.{'json' if part == 'split' else 'csv'}"


def groups_file(dataset: str) -> str:
    """``row_id,part,group`` of the real split (``medsyn.data.write_groups``): an input of the evaluation only,
    never of a rule that feeds a generator (prompts, generation, baselines)."""
    return GROUPS.format(dataset=dataset)


def train_file(dataset: str, train_rows: str | int) -> str:
    """The train set of one train size: ``train.csv`` for ``all``, else ``train-<n>.csv`` (its subsample)."""
    if str(train_rows) == ALL_TRAIN:
        return split_file(dataset, "train")
    return TRAIN_SUBSAMPLE.format(dataset=dataset, train_rows=train_rows)


def evaluation_file(dataset: str, train_rows: str | int, name: str) -> str:
    return in_evaluation(name).format(dataset=dataset, train_rows=train_rows)


def prompt_file(dataset: str, train_rows: str | int, prompt: str, recipe: str, seed: int) -> str:
    return PROMPT.format(dataset=dataset, train_rows=train_rows, prompt=prompt, recipe=recipe, seed=seed)


def run_dir(model: str, dataset: str, train_rows: str | int, prompt: str, mode: str, recipe: str, seed: int) -> str:
    return RUN_DIR.format(model=model, dataset=dataset, train_rows=train_rows, prompt=prompt, mode=mode,
                          recipe=recipe, seed=seed)


def baseline_dir(baseline: str, dataset: str, train_rows: str | int, seed: int) -> str:
    return BASELINE_DIR.format(baseline=baseline, dataset=dataset, train_rows=train_rows, seed=seed)


def external_dir(generator: str, dataset: str, label: str) -> str:
    return EXTERNAL_DIR.format(generator=generator, dataset=dataset, label=label)


def model_file(model: str) -> str:
    return MODEL_FILE.format(model=model)


def _pattern(template: str) -> re.Pattern:
    names = re.findall(r"{(\w+)}", template)
    regex = re.escape(template)
    for name in names:
        regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)", 1)
    return re.compile(regex + r"(?:/|$)")


_TABLES = {"llm": _pattern(RUN_DIR), "baseline": _pattern(BASELINE_DIR), "external": _pattern(EXTERNAL_DIR)}


def table_key(path: str) -> dict:
    """Which table a path under results/ belongs to: kind (llm, baseline, external) and its wildcards.

    ``table_key("results/models/m/pima/train-all/A/grammar/default/seed1/synthetic.csv")`` ->
    ``{"kind": "llm", "model": "m", "dataset": "pima", "train_rows": "all", "prompt": "A", "mode": "grammar",
    "recipe": "default", "seed": "1"}``. A path of no table raises ValueError naming it.
    """
    text = str(path).replace("\\", "/")
    start = text.find("results/")
    text = text[start:] if start >= 0 else text
    for kind, pattern in _TABLES.items():
        match = pattern.match(text)
        if match:
            return {"kind": kind, **match.groupdict()}
    raise ValueError(f"{path} is not inside a table folder of the results layout (medsyn.layout)")


def readme() -> str:
    """results/README.md: the results tree for users, from ``TREE``, ``FILES`` and ``TABLES``."""
    lines = [
        "# results/",
        "",
        "Everything the workflow writes (not committed), beside the spec, model, log and benchmark folders it uses.",
        "Generated from `src/medsyn/layout.py` (`python -m medsyn.layout > results/README.md`); edit it there.",
        "Paths are relative to the working directory (`snakemake --directory`); `{name}` is a wildcard.",
        "",
        "| path | what |",
        "|---|---|",
        *(f"| `{path}` | {what} |" for path, what in TREE),
        "",
        "## Files of a table, split and evaluation folder",
        "",
        "| file | what |",
        "|---|---|",
        *(f"| `{name}` | {what} |" for name, what in FILES.items()),
        "",
        "Beside a file a step may keep, not as an output: "
        f"`<file>{TEMPORARY_SUFFIX}` (being written; renamed into place once complete), "
        f"`raw.jsonl{CHECKPOINT_SUFFIX}` (a generation's finished calls, replayed when a killed job reruns) and "
        f"`metrics{MEMO_SUFFIX}` (the last evaluation of a table, reused while its inputs are unchanged).",
        "",
        f"## Tables (`{TABLES_DIR}/<name>.tsv`)",
        "",
        "| table | what |",
        "|---|---|",
        *(f"| `{name}.tsv` | {what} |" for name, what in TABLES.items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(readme(), end="")
