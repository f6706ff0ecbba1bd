"""Rule expressions of the clinical family: pandas query expressions evaluated on complete cases of the columns
they reference (see ``medsyn.evaluate.clinical`` for how rules are scored)."""

from __future__ import annotations

import io
import keyword
import re
import tokenize

import numpy as np
import pandas as pd

from medsyn.spec import DatasetSpec

_QUERY_WORDS = {"and", "or", "not", "in", "is", "True", "False", "None"}
_BACKTICK = "__medsyn_backticked__"


class RuleError(Exception):
    """A rule cannot be evaluated on a table (unknown column, malformed query, non-boolean result)."""



def referenced_columns(expr: str) -> list[str]:
    """Column names an expression reads: backticked names plus bare identifiers (not keywords, calls, attributes).

    Raises RuleError on an expression that cannot be tokenized or that uses ``@`` local variables.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise RuleError(f"empty or non-text expression {expr!r}")
    names = re.findall(r"`([^`]*)`", expr)
    rest = re.sub(r"`[^`]*`", f" {_BACKTICK} ", expr)
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(rest).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise RuleError(f"malformed expression {expr!r}: {exc}") from None
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string == _BACKTICK:
            continue
        if tok.string in _QUERY_WORDS or keyword.iskeyword(tok.string):
            continue
        prev = tokens[i - 1].string if i else ""
        nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if prev == "@":
            raise RuleError(f"expression {expr!r} uses a local variable '@{tok.string}' (not supported)")
        if prev == "." or nxt == "(":
            continue  # attribute or function call (e.g. .str.startswith(...), abs(...))
        names.append(tok.string)
    return list(dict.fromkeys(names))


def eval_mask(frame: pd.DataFrame, expr: str, what: str) -> tuple[pd.Series, pd.Series]:
    """(rows matching ``expr`` with its columns present, rows with its columns present); both plain bool.

    ``frame`` should come from ``eval_frame``. Raises RuleError naming the unknown column(s).
    """
    names = referenced_columns(expr)
    unknown = [n for n in names if n not in frame.columns]
    if unknown:
        raise RuleError(f"{what} expression {expr!r} references unknown column(s) {unknown}")
    complete = frame[names].notna().all(axis=1) if names else pd.Series(True, index=frame.index)
    try:
        result = frame.eval(expr, engine="python")
    except Exception as exc:  # noqa: BLE001 - any pandas parse/eval failure becomes a rule error
        raise RuleError(f"cannot evaluate {what} expression {expr!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(result, pd.Series):
        if isinstance(result, (bool, np.bool_)):
            result = pd.Series(bool(result), index=frame.index)
        else:
            raise RuleError(f"{what} expression {expr!r} does not give true/false per row")
    result = result.reindex(frame.index)
    present = result.notna()
    values = result[present]
    is_bool = pd.api.types.is_bool_dtype(values) or values.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    if len(values) and not is_bool:
        raise RuleError(f"{what} expression {expr!r} does not give true/false per row (dtype {result.dtype})")
    mask = pd.Series(False, index=frame.index)
    mask[present] = values.astype(bool)
    return mask & complete, complete


def eval_frame(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Numeric spec columns as float64 (NaN missing), others as object (NaN missing); other columns untouched."""
    out = frame.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        if col.is_numeric:
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("float64")
        else:
            values = out[col.name].astype(object)
            out[col.name] = values.where(values.notna(), np.nan)
    return out
