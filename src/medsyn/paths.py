"""The one root medsyn reads its own files from: the config schemas (workflow/schemas) and the shipped dataset
specs (config/datasets).

``MEDSYN_ROOT`` names it when set; the workflow sets it to its own checkout (workflow/rules/common.smk), so every
job, also one in a per-rule conda env with a non-editable install of the package, reads the schemas of the
workflow that runs it. Without it, the checkout this package was imported from is the root (an editable install,
tests, benchmarks).
"""

from __future__ import annotations

import os
from pathlib import Path

from medsyn.errors import ConfigError

ENV = "MEDSYN_ROOT"


def root() -> Path:
    if os.environ.get(ENV):
        path = Path(os.environ[ENV])
        if not (path / "workflow" / "schemas").is_dir():
            raise ConfigError(f"{ENV}={path} is not a medsyn checkout (no workflow/schemas there)")
        return path
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "workflow" / "schemas").is_dir():
        return checkout
    raise ConfigError(
        f"cannot find medsyn's schemas: set {ENV} to the medsyn checkout (the folder with workflow/ and config/); "
        "the workflow sets it for its own jobs"
    )


def schema(name: str) -> Path:
    """``workflow/schemas/<name>.schema.yaml`` of the root."""
    return root() / "workflow" / "schemas" / f"{name}.schema.yaml"


def shipped_specs() -> Path:
    """The dataset specs shipped with the workflow (``config/datasets``)."""
    return root() / "config" / "datasets"
