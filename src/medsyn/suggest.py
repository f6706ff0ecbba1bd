"""Closest-name suggestions for error messages ("did you mean ...?")."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``word`` (ignoring case), or None when none is close enough.

    Case is ignored because the commonest slips are 'bmi' for 'BMI' and 'm' for 'M', which difflib alone scores as
    unrelated.
    """
    candidates = [str(c) for c in candidates]
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    word = str(word)
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'X'?' for the closest candidate, or '' when none is close."""
    match = closest(word, candidates)
    return f"; did you mean {match!r}?" if match is not None else ""
