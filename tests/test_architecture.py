"""The package's floors (docs/architecture.md, "Floors"): every import of src/medsyn, at module level or inside a
function, goes down a floor or sideways inside its own package; no import cycle; no module over 400 lines and no
function over 80. The floors are read from the picture in docs/architecture.md, so the picture is the rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules(src: Path = SRC) -> dict[str, Path]:
    """medsyn's modules by dotted name (a package by its ``__init__.py``)."""
    out = {}
    for path in sorted((src / "medsyn").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def floors(doc: Path = DOC) -> dict[str, tuple[int, str]]:
    """``floor N  label  names...`` lines of the fenced block after the "## Floors" heading (continuation lines
    indented): a name ``x/`` is the package medsyn.x, ``x`` the module medsyn.x, ``__init__`` medsyn itself.
    Returns name (medsyn.x) -> (floor, label)."""
    text = doc.read_text()
    block = re.search(r"^## Floors\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert block, f"{doc}: no fenced floors picture under '## Floors'"
    out: dict[str, tuple[int, str]] = {}
    current = None
    for line in block.group(1).splitlines():
        head = re.match(r"floor (\d+)\s+(\S+)\s+(.*)", line)
        if head:
            current = (int(head.group(1)), head.group(2))
            names = head.group(3).split()
        elif line.strip() and current is not None:
            names = line.split()
        else:
            continue
        for name in names:
            key = "medsyn" if name == "__init__" else "medsyn." + name.rstrip("/").replace("/", ".")
            assert key not in out, f"{doc}: {name} is on two floors"
            out[key] = current
    return out


def unit(module: str, table: dict[str, tuple[int, str]]) -> str | None:
    """The floors-table entry a module belongs to: itself, or the package it is in (``medsyn`` itself is only the
    package's ``__init__``, not a catch-all)."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in table:
            return ".".join(parts[:n])
    return module if module in table else None


def package(module: str, path: Path) -> str:
    """The package whose modules may import each other on one floor: medsyn.x for everything in medsyn/x/, and
    medsyn itself for the top-level modules."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or path.name == "__init__.py" and len(parts) == 2 else "medsyn"


def imports(path: Path, module: str, known: dict[str, Path]):
    """(line, imported medsyn module, at module level?) for every import in the file: ``from a import b`` names the
    module a.b when that is one, else a."""
    tree = ast.parse(path.read_text())
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(pkg[:len(pkg) - node.level + 1] + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "medsyn" or target.startswith("medsyn."):
                yield node.lineno, target, id(node) not in inner


def floor_violations(known: dict[str, Path], table: dict[str, tuple[int, str]], root: Path = ROOT) -> list[str]:
    """One line per import against the floors (file:line, both modules with their floors), and per module on no
    floor."""
    problems = []
    for module, path in known.items():
        mine = unit(module, table)
        if mine is None:
            problems.append(f"{path.relative_to(root)}: {module} is on no floor: add it to the picture in "
                            "docs/architecture.md")
            continue
        floor, label = table[mine]
        for line, target, _ in imports(path, module, known):
            theirs = unit(target, table)
            if theirs is None:
                continue  # reported as a module on no floor
            t_floor, t_label = table[theirs]
            sideways_ok = t_floor == floor and package(module, path) == package(target, known.get(target, path))
            if t_floor < floor or sideways_ok:
                continue
            where = "a higher floor" if t_floor > floor else "another package on the same floor"
            problems.append(f"{path.relative_to(root)}:{line}: {module} (floor {floor} {label}) imports {target} "
                            f"(floor {t_floor} {t_label}): {where}; imports go down a floor, or sideways inside "
                            "one package")
    return problems


def cycles(known: dict[str, Path]) -> list[list[str]]:
    """Import cycles among the modules (strongly connected components, Tarjan), function-level imports included."""
    graph = {m: sorted({t for _, t, _ in imports(p, m, known) if t in known and t != m}) for m, p in known.items()}
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_every_import_goes_down_a_floor_or_sideways_inside_its_package():
    problems = floor_violations(modules(), floors())
    assert not problems, "imports against the floors:\n" + "\n".join(problems)


def test_no_import_cycle():
    found = cycles(modules())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_floors_name_only_modules_that_exist():
    known = modules()
    stale = [name for name in floors() if name not in known]
    assert not stale, f"{DOC.relative_to(ROOT)} names modules that do not exist: {stale}"


def test_modules_and_functions_stay_small():
    big = []
    for module, path in modules().items():
        text = path.read_text()
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(ROOT)}: {n} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    big.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} has {size} lines "
                               f"(at most {MAX_FUNCTION_LINES})")
    assert not big, "too large:\n" + "\n".join(big)


def test_the_checks_catch_a_planted_upward_import_and_a_cycle(tmp_path):
    """The checker itself: a function-level import of a higher floor, a module on no floor and two modules that
    import each other are all found."""
    pkg = tmp_path / "src" / "medsyn"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from medsyn.high import g\n")
    (pkg / "high.py").write_text("from medsyn import low\n")
    (pkg / "stray.py").write_text("")
    doc = tmp_path / "architecture.md"
    doc.write_text("## Floors\n\n```\nfloor 1  top    high\nfloor 0  base   __init__\n                low\n```\n")
    known = modules(tmp_path / "src")
    problems = floor_violations(known, floors(doc), tmp_path)
    assert problems == [
        "src/medsyn/low.py:2: medsyn.low (floor 0 base) imports medsyn.high (floor 1 top): a higher floor; imports "
        "go down a floor, or sideways inside one package",
        "src/medsyn/stray.py: medsyn.stray is on no floor: add it to the picture in docs/architecture.md",
    ]
    assert cycles(known) == [["medsyn.high", "medsyn.low"]]
