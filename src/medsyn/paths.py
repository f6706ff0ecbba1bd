"""Where medsyn's own files are: the JSON schemas of the config and of dataset specs (``medsyn/schemas``) and
the dataset specs shipped with medsyn (``medsyn/datasets``).

Both are package data, found with ``importlib.resources`` inside the imported package itself: an editable
install, a wheel (``pip install .``), a per-rule conda env and a plain ``PYTHONPATH=src`` all read the files that
belong to the code reading them, from any working directory, with no checkout and no environment variable.

The working directory's own files (a user's ``config/datasets/<id>.yaml``, results/, logs/) are the layout's
(``medsyn.layout``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from medsyn.errors import ConfigError

SCHEMAS = "schemas"
DATASETS = "datasets"


def _package_dir(name: str) -> Path:
    folder = resources.files("medsyn") / name
    if not isinstance(folder, Path) or not folder.is_dir():
        # a zipped install: the workflow passes spec paths to its jobs, so the files must be on disk
        raise ConfigError(f"medsyn's package data folder '{name}' is not a folder on disk ({folder}); install "
                          "medsyn from a wheel or a checkout (pip install .), not as a zip")
    return folder


def schema(name: str) -> Path:
    """``medsyn/schemas/<name>.schema.yaml``: ``config`` or ``dataset``."""
    return _package_dir(SCHEMAS) / f"{name}.schema.yaml"


def shipped_specs() -> Path:
    """The folder of the dataset specs shipped with medsyn (``medsyn/datasets/<id>.yaml``); a spec of the same id
    in the working directory's ``config/datasets/`` wins over them (``medsyn.config.find_spec``)."""
    return _package_dir(DATASETS)


def shipped_spec(dataset: str) -> Path:
    return shipped_specs() / f"{dataset}.yaml"
