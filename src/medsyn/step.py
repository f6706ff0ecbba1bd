"""Helpers shared by the thin Snakemake adapters in scripts/."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from medsyn.atomic import atomic_open, atomic_path
from medsyn.errors import MedsynError


def write_json(path: str | Path, data: Any) -> None:
    """Atomic: a killed job never leaves a half-written file that looks complete."""
    with atomic_open(path) as fh:
        json.dump(data, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")


def write_tsv(frame, path: str | Path) -> None:
    """A pandas frame as TSV without its index, atomically (like ``write_json``)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False)


def read_json(path: str | Path) -> Any:
    with open(path) as fh:
        return json.load(fh)


def run_step(snakemake, main: Callable[[Any, Callable[[str], None]], None]) -> None:
    """Run ``main(snakemake, log)`` with file descriptor 2 redirected to the rule's log.

    llama.cpp writes from C to fd 2, so redirecting ``sys.stderr`` alone would lose its messages. A MedsynError
    (bad input, named file/column/key) is printed without a traceback, to the log and to the terminal, and
    the step exits 1 so Snakemake removes the outputs.
    """
    log_path = snakemake.log[0] if snakemake.log else None
    terminal = os.dup(2)
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log_fd, 2)
        os.close(log_fd)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        main(snakemake, log)
    except MedsynError as exc:
        message = f"ERROR ({type(exc).__name__}): {exc}"
        log(message)
        os.write(terminal, (message + "\n").encode())
        sys.exit(1)
    except Exception:
        log(traceback.format_exc())
        raise
