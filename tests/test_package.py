"""medsyn's own files (medsyn.paths): the schemas and the shipped dataset specs are package data, so an installed
package, imported from a folder with no checkout, validates the default config; a user's
config/datasets/<id>.yaml in the working directory still wins over a shipped spec.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, missing, repo_config
from medsyn import paths
from medsyn.config import find_spec, load_config


def test_schemas_and_shipped_specs_are_package_data():
    package = Path(importlib.util.find_spec("medsyn").origin).parent
    assert paths.schema("config") == package / "schemas" / "config.schema.yaml"
    assert paths.schema("dataset").is_file()
    assert {p.stem for p in paths.shipped_specs().glob("*.yaml")} >= {"pima", "stroke", "diabetes", "cirrhosis",
                                                                        "breast_cancer"}
    assert not (REPO / "workflow" / "schemas").exists(), "a second copy of the schemas beside the package data"


def test_a_spec_in_the_working_directory_wins_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_spec("pima", {}) == str(paths.shipped_spec("pima"))
    mine = tmp_path / "config" / "datasets" / "pima.yaml"
    mine.parent.mkdir(parents=True)
    shutil.copyfile(paths.shipped_spec("pima"), mine)
    assert find_spec("pima", {}) == "config/datasets/pima.yaml"
    assert load_config(repo_config() | {"datasets": ["pima"]})["dataset_options"]["pima"]["spec"] == (
        "config/datasets/pima.yaml")


INSTALLED_CHECK = """
import sys, yaml
import medsyn
from medsyn import paths
from medsyn.config import check_dataset_specs, load_config
assert medsyn.__file__.startswith(sys.argv[1]), medsyn.__file__
with open(sys.argv[2]) as fh:
    cfg = load_config(yaml.safe_load(fh))
check_dataset_specs(cfg)
specs = {d: cfg["dataset_options"][d]["spec"] for d in cfg["datasets"]}
assert all(s.startswith(sys.argv[1]) for s in specs.values()), specs
print("validated", sorted(specs), "schema", paths.schema("config"))
"""


def test_an_installed_package_validates_the_default_config_from_another_folder(tmp_path):
    """The package's own files only: setuptools builds it (build_py: the packages and their package data, what a
    wheel holds) from a copy of the sources into a folder that is the one thing on PYTHONPATH besides the
    dependencies, and it runs from a folder with no checkout."""
    if importlib.util.find_spec("setuptools") is None:
        missing("setuptools is not installed (bash scripts/install.sh --test installs it)")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    site = tmp_path / "site"
    build = [sys.executable, "-c", "import setuptools; setuptools.setup()", "build_py", "--build-lib", str(site)]
    proc = subprocess.run(build, cwd=source, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert {"medsyn/schemas/config.schema.yaml", "medsyn/schemas/dataset.schema.yaml", "medsyn/datasets/pima.yaml",
            "medsyn/templates/report.html.j2"} <= built, sorted(built)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MEDSYN_ROOT")}
    env["PYTHONPATH"] = str(site)  # before site-packages, and so before an editable install of the checkout
    proc = subprocess.run([sys.executable, "-c", INSTALLED_CHECK, str(site), str(REPO / "config" / "config.yaml")],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    datasets = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["datasets"]
    assert proc.stdout.startswith(f"validated {sorted(datasets)}"), proc.stdout
