"""Where every file of a run lives: the one owner of the results layout.

Rules use the patterns (with Snakemake wildcards), Python code the functions; nothing else spells a path.

    results/specs/{dataset}.yaml                                          a spec drafted from the dataset's CSV
    results/data/{dataset}/{train,holdout,reference}.csv, split.json     the real split (never leaves the machine)
    results/data/{dataset}/groups.csv                                     each real row's group: evaluation only
    results/prompts/{dataset}/{prompt}/{recipe}/seed{seed}.json           one prompt per recipe (its column order)
    results/models/{model}/{dataset}/{prompt}/{mode}/{recipe}/seed{seed}/ one LLM run
    results/baselines/{baseline}/{dataset}/seed{seed}/                    one classical baseline table
    results/external/{generator}/{dataset}/{label}/                       one imported table
    results/evaluation/{dataset}/real_side.{json,npz}                     the evaluation's real side of a dataset
    resources/models/{model}.gguf                                         a model file (sha256-checked)
    results/backend/{model}.json                                          the backend preflight of one model
"""

from __future__ import annotations

import re

DRAFTED_SPEC = "results/specs/{dataset}.yaml"  # drafted from dataset_options.<id>.csv when no spec file exists
DATA_DIR = "results/data/{dataset}"
SPLIT_PARTS = ("train", "holdout", "reference")
GROUPS = f"{DATA_DIR}/groups.csv"  # each real row's group (spec group_column): an input of the evaluation only
PROMPT = "results/prompts/{dataset}/{prompt}/{recipe}/seed{seed}.json"
RUN_DIR = "results/models/{model}/{dataset}/{prompt}/{mode}/{recipe}/seed{seed}"
BASELINE_DIR = "results/baselines/{baseline}/{dataset}/seed{seed}"
EXTERNAL_DIR = "results/external/{generator}/{dataset}/{label}"
EVALUATION_DIR = "results/evaluation/{dataset}"  # the evaluation's real side of a dataset (real_side.json, .npz)
MODEL_FILE = "resources/models/{model}.gguf"
BACKEND_CHECK = "results/backend/{model}.json"  # llama.cpp decoded this model correctly here (check_backend)


def in_run(name: str) -> str:
    """Pattern of a file in an LLM run folder (for rules: wildcards left in)."""
    return f"{RUN_DIR}/{name}"


def in_baseline(name: str) -> str:
    return f"{BASELINE_DIR}/{name}"


def in_external(name: str) -> str:
    return f"{EXTERNAL_DIR}/{name}"


def in_evaluation(name: str) -> str:
    return f"{EVALUATION_DIR}/{name}"


def in_data(name: str) -> str:
    return f"{DATA_DIR}/{name}"


def drafted_spec(dataset: str) -> str:
    return DRAFTED_SPEC.format(dataset=dataset)


def split_file(dataset: str, part: str) -> str:
    """``part``: train, holdout, reference (CSV) or split (the JSON record of the split)."""
    return f"{DATA_DIR.format(dataset=dataset)}/{part}.{'json' if part == 'split' else 'csv'}"


def groups_file(dataset: str) -> str:
    """``row_id,part,group`` of the real split (``medsyn.data.write_groups``): an input of the evaluation only,
    never of a rule that feeds a generator (prompts, generation, baselines)."""
    return GROUPS.format(dataset=dataset)


def prompt_file(dataset: str, prompt: str, recipe: str, seed: int) -> str:
    return PROMPT.format(dataset=dataset, prompt=prompt, recipe=recipe, seed=seed)


def run_dir(model: str, dataset: str, prompt: str, mode: str, recipe: str, seed: int) -> str:
    return RUN_DIR.format(model=model, dataset=dataset, prompt=prompt, mode=mode, recipe=recipe, seed=seed)


def baseline_dir(baseline: str, dataset: str, seed: int) -> str:
    return BASELINE_DIR.format(baseline=baseline, dataset=dataset, seed=seed)


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

    ``table_key("results/models/m/pima/A/grammar/default/seed1/synthetic.csv")`` ->
    ``{"kind": "llm", "model": "m", "dataset": "pima", "prompt": "A", "mode": "grammar", "recipe": "default",
    "seed": "1"}``. A path of no table raises ValueError naming it.
    """
    text = str(path).replace("\\", "/")
    start = text.find("results/")
    text = text[start:] if start >= 0 else text
    for kind, pattern in _TABLES.items():
        match = pattern.match(text)
        if match:
            return {"kind": kind, **match.groupdict()}
    raise ValueError(f"{path} is not inside a table folder of the results layout (medsyn.layout)")
