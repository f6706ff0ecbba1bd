"""Run the metric families on one table and collect one flat, documented metrics record."""

from __future__ import annotations

import importlib
import time
import traceback

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.results import split_errors

FAMILIES = ("fidelity", "clinical", "privacy", "utility", "diversity")
MODULES = {"paper": "paper_metrics"}  # family -> module, where they differ (paper: the SynLLM paper's own metrics)


def evaluate_table(inputs: EvalInputs, families: list[str] | tuple[str, ...] = FAMILIES) -> dict:
    """``{"metrics": {"<family>.<key>": value}, "errors": {...}, "seconds": {...}}``.

    A family that raises is recorded under ``errors`` with its traceback's last line: it never disappears
    silently and never takes the other families down with it.
    """
    metrics: dict = {}
    errors: dict = {}
    seconds: dict = {}
    for family in families:
        started = time.perf_counter()
        try:
            result = importlib.import_module(f"medsyn.evaluate.{MODULES.get(family, family)}").compute(inputs)
        except Exception as exc:  # noqa: BLE001 - recorded, reported, and visible in the tables
            errors[family] = f"{type(exc).__name__}: {exc}"
            errors[f"{family}.traceback"] = traceback.format_exc(limit=3)
            result = {}
        seconds[family] = round(time.perf_counter() - started, 3)
        values, reasons = split_errors(family, result)
        metrics.update(values)
        errors.update(reasons)
    return {"metrics": metrics, "errors": errors, "seconds": seconds}
