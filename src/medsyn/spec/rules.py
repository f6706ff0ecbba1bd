"""Load-time checks of a spec's clinical rules against its own columns and levels.

The evaluation (``medsyn.evaluate.clinical``) never raises for a bad rule: it records an error and the report shows
"-". That is right for a synthetic table that lacks a column, but a typo in the spec itself should stop the run
when the spec is loaded, naming the rule, the column and the closest name. Queries are parsed with Python's
``ast`` after the two rewrites pandas makes before its own ``ast`` parse: backtick-quoted names become plain
identifiers, and ``&``/``|`` become ``and``/``or`` (so ``x == 'a' & y > 1`` groups as pandas groups it).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Any, Sequence

from medsyn.errors import SpecError
from medsyn.spec.model import Column, Rule
from medsyn.suggest import closest

QUERY = "query"
NUMERIC = "numeric"
# kind -> {key: what it holds}; every key is required except range's min/max (at least one of them)
KIND_KEYS: dict[str, dict[str, str | None]] = {
    "implication": {"if": QUERY, "then": QUERY},
    "direction": {"outcome": QUERY, "predictor": NUMERIC, "sign": None},
    "group_difference": {"column": NUMERIC, "group": QUERY},
    "range": {"column": NUMERIC, "min": None, "max": None},
}
OPTIONAL = {"range": ("min", "max")}
_BACKTICKED = re.compile(r"`([^`]*)`")


class _Problem(Exception):
    """One thing wrong with a rule; ``check_rules`` prefixes the spec file and rule id."""


def check_rules(rules: Sequence[Rule], columns: Sequence[Column], origin: str) -> None:
    """Raise SpecError for the first rule that names an unknown column, a column of the wrong type or a level
    its column does not have, or that misses a key its kind needs."""
    by_name = {c.name: c for c in columns}
    ids = [r.id for r in rules]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SpecError(f"{origin}: rule ids listed twice: {twice} (each rule's metrics are keyed by its id)")
    for rule in rules:
        try:
            _check_rule(rule, by_name)
        except _Problem as exc:
            raise SpecError(f"{origin}: rule '{rule.id}' ({rule.kind}): {exc}") from None


def _check_rule(rule: Rule, by_name: dict[str, Column]) -> None:
    keys = KIND_KEYS[rule.kind]  # the schema allows only these kinds
    stray = [k for k in rule.params if k not in keys]
    if stray:
        raise _Problem(f"{stray[0]!r} is not a key of {rule.kind} rules (they take {list(keys)})")
    optional = OPTIONAL.get(rule.kind, ())
    missing = [k for k in keys if k not in optional and rule.params.get(k) in (None, "")]
    if missing:
        raise _Problem(f"needs {missing[0]!r}")
    if optional and all(rule.params.get(k) is None for k in optional):
        raise _Problem(f"needs {' or '.join(repr(k) for k in optional)}")
    if rule.kind == "range" and None not in (rule.params.get("min"), rule.params.get("max")):
        if rule.params["min"] > rule.params["max"]:
            raise _Problem(f"min {rule.params['min']} > max {rule.params['max']}")
    for key, holds in keys.items():
        value = rule.params.get(key)
        if holds == QUERY:
            _check_query(key, value, by_name)
        elif holds == NUMERIC:
            col = _column(str(value), by_name, f"{key} {value!r}")
            if not col.is_numeric:
                raise _Problem(f"{key} '{col.name}' is {col.type}, but a {rule.kind} rule needs a numeric "
                               "(integer or float) column there")


def _column(name: str, by_name: dict[str, Column], what: str) -> Column:
    if name in by_name:
        return by_name[name]
    match = closest(name, by_name)
    hint = f"did you mean {match!r}?" if match else f"the columns are {list(by_name)}"
    raise _Problem(f"{what} is not a column of the spec; {hint}")


def _check_query(key: str, expr: Any, by_name: dict[str, Column]) -> None:
    if not isinstance(expr, str) or not expr.strip():
        raise _Problem(f"{key!r} must be a pandas query, got {expr!r}")
    where = f"{key!r} expression {expr!r}"
    placeholders: dict[str, str] = {}

    def hide(match: re.Match) -> str:
        placeholders[f"__medsyn_col{len(placeholders)}__"] = match.group(1)
        return f"__medsyn_col{len(placeholders) - 1}__"

    text = _BACKTICKED.sub(hide, expr).strip()
    if "@" in text:
        raise _Problem(f"{where} uses a local variable ('@'), which rules do not support")
    try:
        tree = ast.parse(_booleans_as_pandas_reads_them(text), mode="eval")
    except SyntaxError as exc:
        raise _Problem(f"{where} is not a valid pandas query ({exc.msg})") from None
    except tokenize.TokenError as exc:
        raise _Problem(f"{where} is not a valid pandas query ({exc.args[0]})") from None

    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}  # abs(x): 'abs' is no column
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions]
    for node in sorted(names, key=lambda n: n.col_offset):  # the first unknown name as the user reads it
        name = placeholders.get(node.id, node.id)
        _column(name, by_name, f"{where} names {name!r}, which")
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for a, b in zip(operands, operands[1:]):
                for side, other in ((a, b), (b, a)):
                    if isinstance(side, ast.Name) and id(side) not in functions:
                        _check_literals(by_name[placeholders.get(side.id, side.id)], _literals(other), where)


def _booleans_as_pandas_reads_them(text: str) -> str:
    """``&`` -> ``and``, ``|`` -> ``or``, like ``pandas.core.computation.expr._replace_booleans``."""
    swap = {"&": "and", "|": "or"}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return tokenize.untokenize((tokenize.NAME, swap[t.string]) if t.type == tokenize.OP and t.string in swap
                               else (t.type, t.string) for t in tokens)


def _literals(node: ast.AST) -> list | None:
    """The constant(s) a comparison operand holds ('x', 3, -1, ['3', '4']), or None when it is not a literal."""
    if isinstance(node, ast.Constant) and node.value is not None:
        return [node.value]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literals(node.operand)
        return [-v if isinstance(node.op, ast.USub) else v for v in inner] if inner and len(inner) == 1 else None
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_literals(e) for e in node.elts]
        return None if any(i is None or len(i) != 1 for i in items) else [i[0] for i in items]
    return None


def _check_literals(col: Column, values: list | None, where: str) -> None:
    for value in values or []:
        is_text = isinstance(value, str)
        if col.is_numeric and is_text:
            raise _Problem(f"{where} compares numeric column '{col.name}' with the text {value!r}; write the number "
                           "without quotes")
        if col.is_numeric or (is_text and value in col.levels):
            continue
        if not is_text:
            # rules see categorical values as text: stroke == 1 never matches the level '1'
            text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            hint = f"; quote it: '{text}'" if text in col.levels else ""
            raise _Problem(f"{where} compares {col.type} column '{col.name}' with {value!r}, but its values are the "
                           f"text levels {list(col.levels)}{hint}")
        alias_of = {a.lower(): lvl for lvl, spellings in col.aliases.items() for a in spellings}
        match = alias_of.get(value.lower()) or closest(value, col.levels)
        hint = f"; did you mean {match!r}?" if match else ""
        raise _Problem(f"{where}: {value!r} is not a level of column '{col.name}' {list(col.levels)}{hint}")
