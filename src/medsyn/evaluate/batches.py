"""Which tables the workflow evaluates, and how they are grouped into evaluation jobs.

A table is described by a plain dict (``table_entry``), the unit the evaluate step works on: its kind and labels
(what metrics.json records), its input files by role and its metrics.json. Baselines and imported tables of a
dataset are evaluated in batches of up to ``evaluation.batch_size`` tables per job, so Python's start, the imports
and reading the real side are paid once per batch, not per table (a small table costs about as much to evaluate as
that start). Each table still gets its own metrics.json; within a batch a table whose inputs did not change is
taken from its memo instead of being evaluated again (``medsyn.evaluate.record``). LLM runs are one job each:
batching them would make one run's evaluation wait for (and ask for) the generation of the others.

Folders: ``medsyn.layout``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from medsyn import layout
from medsyn.run import Run
from medsyn.seeds import derive_seed
from medsyn.split import train_sizes

BATCHED_KINDS = ("baseline", "external")


def table_entry(kind: str, dataset: str, train_rows: str, generator: str, prompt: str, mode: str, recipe: str,
                seed: int, folder: str, eval_seed: int | None = None, inputs: dict[str, str] | None = None) -> dict:
    """One table: labels (``train_rows``: the train size it learnt from, "all" or n; ``seed``: the run's seed, 0
    for imports), the seed of its evaluation's random choices (``eval_seed``, default ``seed``), ``inputs`` (role
    -> path: synthetic, parse_report, examples, meta) and its metrics.json."""
    return {"kind": kind, "dataset": dataset, "train_rows": str(train_rows), "generator": generator,
            "prompt": prompt, "mode": mode,
            "recipe": recipe, "seed": int(seed), "eval_seed": int(seed if eval_seed is None else eval_seed),
            "inputs": {"synthetic": f"{folder}/synthetic.csv", **(inputs or {})}, "metrics": f"{folder}/metrics.json"}


def external_seed(dataset: str, generator: str, label: str) -> int:
    """The evaluation seed of an imported table (it has no run seed of its own)."""
    return derive_seed("external", dataset, generator, label)


def llm_table(run: Run) -> dict:
    """The table of one LLM run, with its parse report and its generation record (which train rows its prompts
    showed)."""
    folder = run.dir
    return table_entry("llm", run.dataset, run.train_rows, run.model, run.prompt, run.mode, run.recipe, run.seed,
                       folder,
                       inputs={"parse_report": f"{folder}/parse_report.json", "meta": f"{folder}/generation.json"})


def baseline_tables(config: dict, baselines: list[str]) -> list[dict]:
    """The tables of ``baselines`` (``medsyn.config.baseline_names``) for every dataset, train size and seed."""
    return [
        table_entry("baseline", d, n, b, "-", "-", "-", s, layout.baseline_dir(b, d, n, s))
        for b, d, n, s in itertools.product(baselines, config["datasets"], train_sizes(config["split"]),
                                            config["seeds"])
    ]


def external_tables(config: dict) -> list[dict]:
    out = []
    for key, ext in config["external"].items():
        name, dataset = ext.get("name", key), ext["dataset"]
        for label in ext["runs"]:
            folder = layout.external_dir(name, dataset, label)
            # generated elsewhere, from the whole train split (or none of it): scored against train-all
            out.append(table_entry("external", dataset, layout.ALL_TRAIN, name, label, "import", "-", 0, folder,
                                   eval_seed=external_seed(dataset, name, label),
                                   inputs={"parse_report": f"{folder}/parse_report.json",
                                           "examples": f"{folder}/examples.csv"}))
    return out


@dataclass(frozen=True)
class Batch:
    name: str  # also the evaluation rule's name: evaluate_<kind>_<dataset>[_train<n>]_<n>
    dataset: str
    train_rows: str
    tables: tuple[dict, ...]

    def files(self, role: str) -> list[str]:
        return [t["inputs"][role] for t in self.tables if role in t["inputs"]]

    @property
    def outputs(self) -> list[str]:
        return [t["metrics"] for t in self.tables]


def batches(config: dict, baselines: list[str]) -> list[Batch]:
    """Baseline and imported tables, per kind, dataset and train size, in config order, cut into batches of
    ``batch_size``.
    ``baselines``: the configured baselines with the recipes' own (``medsyn.config.baseline_names``: the config
    grid sits above the evaluation, so the workflow passes them in)."""
    tables = baseline_tables(config, baselines) + external_tables(config)
    size = config["evaluation"]["batch_size"]
    out = []
    # imports are scored against the whole train split even when split.train_rows leaves "all" out
    keys = dict.fromkeys((t["kind"], t["dataset"], t["train_rows"]) for t in tables)
    for kind, dataset, train_rows in sorted(keys, key=lambda k: (BATCHED_KINDS.index(k[0]),
                                                                 config["datasets"].index(k[1]))):
        mine = [t for t in tables if (t["kind"], t["dataset"], t["train_rows"]) == (kind, dataset, train_rows)]
        # the whole train split keeps the rule names it always had
        size_part = "" if train_rows == layout.ALL_TRAIN else f"_train{train_rows}"
        for i in range(0, len(mine), size):
            out.append(Batch(f"evaluate_{kind}_{dataset}{size_part}_{i // size + 1}", dataset, train_rows,
                             tuple(mine[i:i + size])))
    return out
