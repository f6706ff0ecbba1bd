"""The one place that decides how a metric family reports its values, and why a value is missing.

Convention: a family returns a FLAT mapping ``key -> float | int | str | bool | None``. A value that cannot be
computed is ``None`` and has ``"<key>.error"`` beside it, a string that says why (e.g. "no synthetic rows",
"holdout standard deviation is 0"). NaN and infinities never leave a family: they become None with a reason.
``split_errors`` separates the reasons from the values for metrics.json, where they live under ``errors``.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Iterable

import numpy as np

ERROR = ".error"
NOT_COMPUTABLE = "not computable"


def clean(value):
    """JSON-safe scalar: numpy -> python, NaN/inf -> None."""
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class Metrics(dict):
    """The flat result of one family. ``put`` enforces the convention; read it like a dict."""

    def put(self, key: str, value, error: str | None = None) -> None:
        """``value`` under ``key``; a None (or NaN) value gets ``<key>.error`` = ``error`` (or "not computable")."""
        value = clean(value)
        self[key] = value
        if value is None:
            self[key + ERROR] = error or NOT_COMPUTABLE
        else:
            self.pop(key + ERROR, None)

    def fail(self, keys: Iterable[str], why: str) -> None:
        """Every key in ``keys`` is not computable, for the same reason."""
        for key in keys:
            self.put(key, None, why)


def guard(fn: Callable, *args, **kwargs) -> tuple[float | None, str | None]:
    """``(value, None)`` or ``(None, reason)``: exceptions and NaN become a reason; library warnings are silenced.

    For calls into libraries (sdmetrics, scipy) whose failure on odd data must not stop the other metrics.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a metric that cannot be computed must not stop the others
        return None, f"{type(exc).__name__}: {exc}"
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(float(value))):
        return None, "not computable (undefined for these values)"
    return float(value), None


def is_error_key(key: str) -> bool:
    return key.endswith(ERROR) or key == ERROR[1:]


def split_errors(family: str, result: dict) -> tuple[dict, dict]:
    """(``{"<family>.<key>": value}``, ``{"<family>.<key>.error": reason}``) of one family's flat result."""
    metrics, errors = {}, {}
    for key, value in result.items():
        if is_error_key(key):
            errors[f"{family}.{key}"] = value
        else:
            metrics[f"{family}.{key}"] = clean(value)
    return metrics, errors
