"""One table's metrics.json: read its files, evaluate it against the real splits and the real side, and the memo
that lets a batch skip the tables whose inputs did not change.

The record: ``{"kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe", "seed", "n_rows", "synthetic",
"generation", "metrics", "errors", "seconds"}``; ``synthetic`` is the path of the table it scores (the report finds
the table there), ``generation`` the parse report's accounting (LLM runs and imports).

Memo: ``<table folder>/metrics.memo.json`` = ``{"fingerprint", "record"}``, written next to every metrics.json
(not a declared output: Snakemake deletes those before a job runs, and the memo must outlive that). The fingerprint
is the sha256 of everything the record depends on: the table's input files, the real side, the spec, the families,
the table's labels, the medsyn package's source and the versions of the libraries that compute metrics. A batch
job run again because one of its tables changed re-evaluates that table only and copies the others' records from
their memos (their ``seconds`` are those of the original evaluation); remove the memo to force a table.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import medsyn
from medsyn import layout
from medsyn.data import read_table
from medsyn.evaluate import EvalInputs
from medsyn.evaluate.suite import evaluate_table
from medsyn.models import sha256_file
from medsyn.parse import example_copy_rate
from medsyn.step import read_json, write_json

GENERATION_KEYS = (
    "candidate_rows", "rows_kept", "example_copies", "duplicates", "spec_valid_share", "valid_share",
    "rows_per_second", "tokens_per_valid_row", "calls", "status",
    # generation recipes (present for LLM runs only): decode-time resampling, cost, exposure of train patients
    "resampled_rows", "resampled_earlier", "resampled_examples", "resampled_train", "resampled_near",
    "decoded_tokens_per_valid_row", "seconds_per_valid_row", "exposed_train_rows",
)
LABELS = ("kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe", "seed")  # as metrics.json has them
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "sdmetrics")


def examples_of(table: dict, spec, train):
    """The rows the generator was shown: every example row the run's prompts showed (LLM runs; per call with
    fresh examples), the imported prompt's rows (imports), none (baselines)."""
    if "meta" in table["inputs"]:
        return train.loc[read_json(table["inputs"]["meta"])["exposed_train_row_ids"]]
    if "examples" in table["inputs"]:
        return read_table(table["inputs"]["examples"], spec, real=False)
    return train.iloc[:0]


def generation_of(table: dict) -> dict:
    """The parse report's accounting; ``example_copy_rate`` = example copies / candidate rows (medsyn.parse's
    definition, not the table's share)."""
    if "parse_report" not in table["inputs"]:
        return {}
    report = read_json(table["inputs"]["parse_report"])
    generation = {k: report.get(k) for k in GENERATION_KEYS}
    generation["example_copy_rate"] = example_copy_rate(report)
    return generation


def evaluate_record(table: dict, spec, splits: dict, real, families, groups=None) -> dict:
    """The metrics.json record of one table; ``splits``: train/holdout/reference frames, ``real``: its RealSide,
    ``groups``: each real row's group (``medsyn.split.read_groups``; None without a spec group_column)."""
    synthetic = read_table(table["inputs"]["synthetic"], spec, real=False)
    examples = examples_of(table, spec, splits["train"])
    inputs = EvalInputs(spec, splits["train"], splits["holdout"], splits["reference"], synthetic, examples,
                        seed=table["eval_seed"], real=real, groups=groups)
    result = evaluate_table(inputs, families)
    return {**{k: table[k] for k in LABELS}, "n_rows": len(synthetic), "synthetic": table["inputs"]["synthetic"],
            "generation": generation_of(table), **result}


# --- memo --------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of the medsyn package's Python source and the metric libraries' versions."""
    digest = hashlib.sha256()
    root = Path(medsyn.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for lib in LIBRARIES:
        digest.update(f"{lib}=={metadata.version(lib)}".encode())
    return digest.hexdigest()


def fingerprint(table: dict, shared_files: list[str], families, extra: str = "") -> str:
    """sha256 over the table's labels and input files, the files every table of the batch reads (real side,
    spec), the families, ``extra`` (the calling script's source) and ``code_version``."""
    parts = {"labels": {k: table[k] for k in LABELS + ("eval_seed",)}, "families": list(families),
             "code": code_version(), "extra": hashlib.sha256(extra.encode()).hexdigest(),
             "files": {role: sha256_file(Path(p)) for role, p in sorted(table["inputs"].items())},
             "shared": [sha256_file(Path(p)) for p in shared_files]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def memo_path(table: dict) -> Path:
    return layout.memo(table["metrics"])


def recall(table: dict, print_: str) -> dict | None:
    """The memo's record when its fingerprint is ``print_``, else None."""
    path = memo_path(table)
    if not path.is_file():
        return None
    try:
        memo = read_json(path)
    except (OSError, ValueError):
        return None
    return memo.get("record") if memo.get("fingerprint") == print_ else None


def remember(table: dict, print_: str, record: dict) -> None:
    write_json(memo_path(table), {"fingerprint": print_, "record": record})
