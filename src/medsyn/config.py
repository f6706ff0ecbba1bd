"""Workflow config: schema validation with defaults, and the run grid derived from it."""

from __future__ import annotations

import copy
import functools
import itertools
import os
from pathlib import Path

import jsonschema
import yaml

from medsyn import layout, paths
from medsyn.errors import ConfigError
from medsyn.run import Run
from medsyn.settings import settings_from_config
from medsyn.spec import load_spec
from medsyn.split import train_sizes

def _schema() -> dict:
    with open(paths.schema("config")) as fh:
        return yaml.safe_load(fh)


def _error_message(exc: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
    if exc.validator == "additionalProperties":
        allowed = sorted(exc.schema.get("properties", {}))
        return f"config key '{where}': {exc.message}; allowed keys: {allowed}"
    return f"config key '{where}': {exc.message}"



def load_config(config: dict) -> dict:
    """What the workflow runs on: ``validate_config`` (keys and values, no file read) then ``resolve_files``. Both
    fill ``config`` in place: the workflow keeps one config object (Snakemake's own)."""
    return resolve_files(validate_config(config))


def schema_defaults() -> dict:
    """A config with nothing set but what the schema requires, its defaults filled: what a key left out means
    (the switches-off state of the recipe switches, for instance). A fresh copy each call."""
    return copy.deepcopy(_schema_defaults())


@functools.lru_cache(maxsize=1)
def _schema_defaults() -> dict:
    model = {"source": {"path": "none.gguf"}, "sha256": "0" * 64}  # the registry needs one entry to validate
    return validate_config({"datasets": ["none"], "seeds": [1], "models": {"none": model},
                            "generation": {"models": []}})


def validate_config(config: dict) -> dict:
    """``config`` validated against the schema, with every default filled in place (``snakemake.utils.validate``
    with ``set_default``: the schema is the only place a default lives), then the checks across keys (models,
    grid, recipes, external). Raises ConfigError naming the key at fault.

    Pure: reads no file but the schema (the files the config names are found by ``resolve_files``).
    """
    from snakemake.utils import validate  # snakemake's import is slow; only a config load needs it

    schema = _schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:  # our message names the key; snakemake's would name only the schema rule
        raise ConfigError("; ".join(_error_message(e) for e in errors[:5]))
    validate(config, str(paths.schema("config")), set_default=True)
    for model in config["generation"]["models"]:
        if model not in config["models"]:
            raise ConfigError(
                f"config key 'generation.models': unknown model id '{model}'; registered: {sorted(config['models'])}"
            )
    check_grid(config)
    check_recipes(config)
    for name, ext in config["external"].items():
        if ext["dataset"] not in config["datasets"]:
            raise ConfigError(
                f"config key 'external.{name}.dataset': '{ext['dataset']}' is not in datasets {config['datasets']}"
            )
    return config


def resolve_files(config: dict) -> dict:
    """A validated config with the files it names found: the paper's raw outputs under ``paper_raw`` become
    external generators, and each dataset gets its spec path (``find_spec``). Filled in place."""
    config["external"].update(expand_paper_raw(config))
    options = config["dataset_options"]
    for name in config["datasets"]:
        entry = options.setdefault(name, {})
        entry["spec"] = find_spec(name, entry)
    return config


def find_spec(name: str, entry: dict) -> str:
    """The spec of a dataset, the first of: ``dataset_options.<id>.spec``; config/datasets/<id>.yaml of the
    working directory (``layout.spec_file``); the one shipped with medsyn (``medsyn.paths.shipped_spec``, so
    ``--directory`` runs need no copies); else, when the dataset names a CSV, the spec the ``draft_spec`` rule
    drafts from it (``layout.drafted_spec``). A hand-written spec always wins over a drafted one."""
    if "spec" in entry:
        return str(entry["spec"])
    for spec in (Path(layout.spec_file(name)), paths.shipped_spec(name)):
        if spec.is_file():
            return str(spec)
    if entry.get("csv"):
        return layout.drafted_spec(name)
    return layout.spec_file(name)  # absent: check_dataset_specs names it, where the user would add it


def is_drafted(config: dict, dataset: str) -> bool:
    return config["dataset_options"][dataset]["spec"] == layout.drafted_spec(dataset)


def check_dataset_specs(config: dict) -> None:
    for name in config["datasets"]:
        entry = config["dataset_options"][name]
        if is_drafted(config, name):
            if not Path(entry["csv"]).is_file():
                raise ConfigError(f"config key 'dataset_options.{name}.csv': CSV file not found: {entry['csv']} "
                                  f"(the spec of '{name}' is drafted from it)")
            continue
        if entry.get("target"):
            raise ConfigError(f"config key 'dataset_options.{name}.target': only a drafted spec takes its target "
                              f"from the config; '{name}' uses the spec {entry['spec']}, whose 'target' decides")
        if not Path(entry["spec"]).is_file():
            shipped = ", and medsyn ships none of that id" if entry["spec"] == layout.spec_file(name) else ""
            raise ConfigError(
                f"config key 'datasets': unknown dataset id '{name}'; no spec file {entry['spec']}{shipped} "
                f"(add one, set dataset_options.{name}.spec, or set dataset_options.{name}.csv to draft one from "
                "a CSV)"
            )
        load_spec(entry["spec"])  # a broken spec (a rule's column typo) stops the run before any job starts


def check_writable(folder: str | Path) -> None:
    """Fail before any job starts when outputs cannot be written (read-only mount, full quota, a file in the way)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"results folder '{folder.resolve()}' is not writable (a file, not a folder, is in the way); move it "
            "or run from another working directory (snakemake --directory)"
        )
    probe = folder / f".medsyn_write_probe_{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok\n")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"results folder '{folder.resolve()}' is not writable ({exc.strerror or exc}); fix its permissions or "
            "run from another working directory (snakemake --directory)"
        ) from None


def recipe_generation(config: dict, recipe: str) -> dict:
    """The generation block of one recipe: the base ``generation`` keys with the recipe's overrides (nested
    blocks such as ``novelty`` are merged key by key)."""
    gen = copy.deepcopy(config["generation"])
    overrides = gen.pop("recipes")[recipe]
    for key, value in overrides.items():
        gen[key] = {**gen[key], **value} if isinstance(value, dict) else value
    return gen


def check_recipes(config: dict) -> None:
    """Recipes that cannot run: row-level switches in free mode (free text has no reliable row boundaries)."""
    for name in sorted({run.recipe for run in runs(config) if run.mode == "free"}):
        if settings_from_config(recipe_generation(config, name), "free", seed=0).uses_row_hooks:
            raise ConfigError(
                f"config key 'generation.recipes.{name}': novelty, outside draws and steering act on grammar rows; "
                "they cannot run in free mode (turn them off in this recipe, or leave free mode out of its runs with grid)"
            )


def resolve_column_order(order: list[str], target: str) -> list[str]:
    """A recipe's ``column_order`` for one dataset: the word ``target`` stands for the dataset's target column.
    Resolved by the steps that read the spec (a drafted spec does not exist when the workflow is parsed)."""
    return [target if name == "target" else name for name in order]


def baseline_names(config: dict) -> list[str]:
    """The configured baselines, plus ``drawn-<recipe>`` for every recipe that draws values outside the model (the
    same draws with the model's columns resampled independently) and ``steered-<recipe>`` for every recipe that
    steers (its pull applied to train's marginals instead of the model): the model's own contribution is above
    them."""
    names = list(config["evaluation"]["baselines"])
    for recipe in config["generation"]["recipes"]:
        gen = recipe_generation(config, recipe)
        if gen["outside"]["method"] != "none":
            names.append(f"drawn-{recipe}")
        if gen["steering"]["strength"]:
            names.append(f"steered-{recipe}")
    return names


def baseline_dirs(config: dict) -> list[str]:
    """Every baseline table: each baseline at each dataset, train size and seed."""
    return [
        layout.baseline_dir(b, d, n, s)
        for b, d, n, s in itertools.product(baseline_names(config), config["datasets"],
                                            train_sizes(config["split"]), config["seeds"])
    ]


def external_dirs(config: dict) -> list[str]:
    return [
        layout.external_dir(ext.get("name", name), ext["dataset"], label)
        for name, ext in config["external"].items()
        for label in ext["runs"]
    ]


def external_entry(config: dict, generator: str, dataset: str) -> dict:
    """The ``external`` entry of a generator on a dataset (``paper_raw`` ones share a name across datasets)."""
    for key, ext in config["external"].items():
        if ext.get("name", key) == generator and ext["dataset"] == dataset:
            return ext
    raise KeyError(f"no external generator {generator} for dataset {dataset}")


def external_names(config: dict) -> list[str]:
    return sorted({ext.get("name", key) for key, ext in config["external"].items()})


PAPER_PROMPTS = {"P1": "A", "P2": "B", "P3": "C", "P4": "D"}  # the paper's prompt N is our type A-D


def paper_model_id(model_dir: str) -> str:
    """'mistralai_Mistral-7B-Instruct-v0.2' -> 'mistralai/Mistral-7B-Instruct-v0.2' (the Hugging Face id)."""
    return model_dir.replace("_", "/", 1) if "_" in model_dir else model_dir


def expand_paper_raw(config: dict) -> dict:
    """``paper_raw`` -> external generators ``paper-<model dir>``, one entry per dataset, runs P1..P4.

    Each run is the published raw output ``<root>/<dataset>/<model dir>/prompt<N>.txt`` with the prompt file
    ``<root>/<dataset>/prompts/prompt<N>.txt`` (its example rows count as copies). Only files that exist are
    imported (the paper's grid has gaps); a model named explicitly but absent everywhere is an error.
    """
    paper = config.get("paper_raw")
    if not paper:
        return {}
    root = Path(paper["root"])
    if not root.is_dir():
        raise ConfigError(f"config key 'paper_raw.root': {root} is not a folder (the SynLLM raw outputs)")
    out: dict = {}
    wanted = paper["models"]
    for dataset in paper["datasets"]:
        if dataset not in config["datasets"]:
            raise ConfigError(f"config key 'paper_raw.datasets': '{dataset}' is not in datasets {config['datasets']}")
        folder = root / dataset
        dirs = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name != "prompts") if folder.is_dir() else []
        for model_dir in dirs if wanted == "all" else [m for m in wanted if m in dirs]:
            runs = {
                label: {"raw": str(folder / model_dir / f"prompt{label[1]}.txt"),
                        "prompt": str(folder / "prompts" / f"prompt{label[1]}.txt")}
                for label in PAPER_PROMPTS
                if (folder / model_dir / f"prompt{label[1]}.txt").is_file()
            }
            if runs:
                name = f"paper-{model_dir}"
                out[f"{name}@{dataset}"] = {
                    "name": name, "dataset": dataset, "model": paper_model_id(model_dir),
                    "description": f"{paper_model_id(model_dir)} raw outputs published with the SynLLM paper",
                    "keep_example_copies": paper["keep_example_copies"],
                    "reject_duplicates": paper["reject_duplicates"],
                    "keep_prompt_echo": paper["keep_prompt_echo"],
                    "runs": runs,
                }
    if wanted != "all":
        found = {ext["name"][len("paper-"):] for ext in out.values()}
        missing = sorted(set(wanted) - found)
        if missing:
            raise ConfigError(f"config key 'paper_raw.models': no raw outputs under {root} for {missing}")
    return out


GRID_AXES = {"models": ("generation", "models"), "datasets": (None, "datasets"),
             "train_rows": ("split", "train_rows"), "prompts": ("prompts", "types"),
             "modes": ("generation", "modes"), "recipes": ("generation", "recipes")}


def _axis(config: dict, name: str) -> list:
    section, key = GRID_AXES[name]
    return list((config[section] if section else config)[key])


def check_grid(config: dict) -> None:
    """Every value a ``grid`` block names must be configured (a typo would silently drop runs)."""
    for i, block in enumerate(config.get("grid") or []):
        for name, values in block.items():
            configured = [str(v) for v in _axis(config, name)]
            unknown = [v for v in values if str(v) not in configured]
            if unknown:
                raise ConfigError(f"config key 'grid.{i}.{name}': {unknown} not in the configured {name} "
                                  f"{_axis(config, name)}")


def runs(config: dict, model: str | None = None) -> list[Run]:
    """The LLM runs: the cross product of models, datasets, train sizes, prompt types, modes, recipes and seeds,
    or, when ``grid`` is set, the union of its blocks' cross products (an axis a block does not name is taken
    whole)."""
    blocks = config.get("grid") or [{}]
    out: dict[Run, None] = {}
    for block in blocks:
        axes = [block.get(name, _axis(config, name)) for name in GRID_AXES]
        for m, d, n, p, mode, r in itertools.product(*axes):
            if model and m != model:
                continue
            for s in config["seeds"]:
                out.setdefault(Run(m, d, p, mode, r, s, str(n)))
    return list(out)


def paper_runs(config: dict) -> list[dict]:
    """The imported paper runs (``paper_raw``): dir, dataset, generator, model and label (P1..P4) of each."""
    return [
        {"dir": layout.external_dir(ext["name"], ext["dataset"], label), "dataset": ext["dataset"],
         "generator": ext["name"], "model": ext["model"], "label": label}
        for ext in config["external"].values() if ext.get("model") and ext.get("name", "").startswith("paper-")
        for label in ext["runs"]
    ]
