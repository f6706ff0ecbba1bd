"""Deterministic seeds derived from names, so every random choice is reproducible and independent of order."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A seed in [1, 2**31 - 1] from any parts. Never 0: llama-cpp-python treats seed 0 as 'use the default'."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1) + 1
