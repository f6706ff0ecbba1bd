"""Atomic outputs: the one owner of "write beside, then rename into place".

A job killed mid-write must never leave a file (or folder) that looks complete, because Snakemake would take it
for a finished output. Everything a step publishes goes through these helpers: the content is written to
``<name>.tmp`` next to the target and renamed over it only once complete (a rename within one folder is atomic on
POSIX). On an error the temporary is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import IO, Iterator

from medsyn import layout


def temporary_for(path: str | Path) -> Path:
    """The temporary name a write of ``path`` uses: ``<name>.tmp`` in the same folder."""
    return layout.temporary(path)


@contextlib.contextmanager
def atomic_path(path: str | Path, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; it replaces ``path`` when the block succeeds.

    ``fsync``: flush the file to disk before the rename (checkpoints, which must survive a machine crash).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_for(path)
    try:
        yield tmp
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", fsync: bool = False, **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` whose content appears at ``path`` only when the block succeeds."""
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder; it replaces the folder ``path`` (whole) when the block succeeds."""
    path = Path(path)
    tmp = temporary_for(path)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        tmp.replace(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
