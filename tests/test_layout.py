"""One owner for every path the workflow reads and writes (medsyn.layout).

- results/README.md is generated from the layout and must equal it;
- no rule, step script or package module spells a results, log, benchmark, resource or spec path itself.
"""

from __future__ import annotations

import ast
import re

import pytest

from conftest import REPO
from medsyn import layout

ROOTS = (layout.RESULTS, layout.LOGS, layout.BENCHMARKS, "resources", "config/datasets")
SPELLED = re.compile(r"^(?:%s)(?:/|$)" % "|".join(re.escape(r) for r in ROOTS))


def test_results_readme_is_generated_from_the_layout():
    readme = (REPO / "results" / "README.md").read_text()
    assert readme == layout.readme(), (
        "results/README.md differs from medsyn.layout: regenerate it with "
        "`PYTHONPATH=src python -m medsyn.layout > results/README.md`")


def test_every_layout_path_is_in_the_readme():
    """A pattern added to the layout without a line in TREE (so in results/README.md) fails here."""
    tree = {path.rstrip("/") for path, _ in layout.TREE}
    constants = {name: value for name, value in vars(layout).items()
                 if name.isupper() and isinstance(value, str) and "/" in value and name != "PAPER_SCORES"
                 and not name.endswith("_KEY")}
    assert constants, "no path constants found in medsyn.layout"
    for name, value in constants.items():
        folder, _, file = value.rpartition("/")
        assert (value in tree or value.startswith(layout.TABLES_DIR)
                or (folder in tree and file in layout.FILES)), f"layout.{name} = {value!r} is not in layout.TREE"
    for name in layout.TABLES:
        assert f"`{name}.tsv`" in layout.readme()


def test_the_layout_keeps_todays_paths():
    """The patterns rules use, spelled out once here: moving a file is a decision, not a side effect."""
    assert layout.log("generate", layout.RUN_KEY) == (
        "logs/generate/{model}/{dataset}/train-{train_rows}/{prompt}/{mode}/{recipe}/seed{seed}.log")
    assert layout.benchmark("evaluate", f"models/{layout.RUN_KEY}") == (
        "benchmarks/evaluate/models/{model}/{dataset}/train-{train_rows}/{prompt}/{mode}/{recipe}/seed{seed}.tsv")
    assert layout.log("aggregate_metrics") == "logs/aggregate_metrics.log"
    assert layout.table("release_gate") == "results/tables/release_gate.tsv"
    assert layout.in_run("raw.jsonl") == (
        "results/models/{model}/{dataset}/train-{train_rows}/{prompt}/{mode}/{recipe}/seed{seed}/raw.jsonl")
    assert layout.train_file("pima", "all") == "results/data/pima/train.csv"
    assert layout.train_file("pima", 50) == "results/data/pima/train-50.csv"
    assert layout.evaluation_file("pima", "25", "real_side.json") == "results/evaluation/pima/train-25/real_side.json"
    assert str(layout.temporary("a/raw.jsonl")) == "a/raw.jsonl.tmp"
    assert str(layout.checkpoint("a/raw.jsonl")) == "a/raw.jsonl.checkpoint"
    assert str(layout.memo("a/metrics.json")) == "a/metrics.memo.json"
    assert layout.spec_file("pima") == "config/datasets/pima.yaml"
    with pytest.raises(ValueError, match="no file of the results layout"):
        layout.in_run("raw.json")
    with pytest.raises(ValueError, match="no table of the results layout"):
        layout.table("metric")


def _strings(tree: ast.AST):
    """String literals of a module (f-strings by their leading text), docstrings left out."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                docstrings.add(id(head))  # seen here, with the f-string's line
                yield node.lineno, head.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_nothing_but_the_layout_spells_a_path():
    found = []
    for path in sorted((REPO / "workflow").rglob("*.smk")) + [REPO / "workflow" / "Snakefile"]:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            for match in re.finditer(r"""(?<!["'])f?["']([^"']*)["']""", code):
                if SPELLED.match(match[1]):
                    found.append(f"{path.relative_to(REPO)}:{i}: {match[1]}")
    modules = sorted((REPO / "scripts").glob("*.py")) + sorted((REPO / "src" / "medsyn").rglob("*.py"))
    for path in modules:
        if path == REPO / "src" / "medsyn" / "layout.py":
            continue
        for lineno, text in _strings(ast.parse(path.read_text())):
            if SPELLED.match(text):
                found.append(f"{path.relative_to(REPO)}:{lineno}: {text}")
    assert not found, "paths spelled outside medsyn.layout:\n" + "\n".join(found)
