"""Crash-safe generation: completed calls are appended to a fingerprinted checkpoint and replayed on a rerun.

A checkpoint is a JSONL file: a header line ``{"medsyn_checkpoint": <fingerprint>}``, then one call record per
line in call order. The fingerprint covers everything a call's text depends on (model bytes and handling, the
exact prompt, the generation settings and recipe, the run key), so a checkpoint of another config is ignored.
Records are flushed and fsynced group by group; a killed job loses at most the group in progress.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

from medsyn.atomic import atomic_open

if TYPE_CHECKING:
    from medsyn.run import Run
    from medsyn.prompts import PromptArtifact

CHECKPOINT_HEADER = "medsyn_checkpoint"


def fingerprint(model_entry: dict, prompt: PromptArtifact, settings, run: Run, *, kv_cache: str) -> str:
    """What a run's calls depend on: model bytes and handling (``llama_cpp.kv_cache`` too), the exact prompt, the
    settings and the run's call key.

    Not the thread count: llama.cpp's CPU output does not depend on it (checked byte for byte with 1 and 2
    threads, docs/architecture.md "Reproducibility"), so a run resumed under another ``--cores`` reuses its calls.
    """
    payload = {
        "model_sha256": model_entry.get("sha256"),
        "chat": model_entry.get("chat"),
        "n_ctx": model_entry.get("n_ctx"),
        "n_gpu_layers": model_entry.get("n_gpu_layers"),
        "kv_cache": kv_cache,
        "prompt_sha256": hashlib.sha256(json.dumps(prompt.to_dict(), sort_keys=True).encode()).hexdigest(),
        "settings": dataclasses.asdict(settings),
        "run_key": [str(k) for k in run.call_key],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def read(path: str | Path, expected: str) -> list[dict]:
    """Call records a killed attempt completed, if its fingerprint matches ``expected``.

    A stale checkpoint (other fingerprint) or an unreadable header gives none. Records are kept in call order
    from call 0; a torn last line (killed mid-write) and anything after a gap are dropped.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        return []
    if not isinstance(header, dict) or header.get(CHECKPOINT_HEADER) != expected:
        return []
    records: list[dict] = []
    for line in lines[1:]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            break
        if not isinstance(record, dict) or record.get("call") != len(records) or "text" not in record:
            break
        records.append(record)
    return records


class Checkpoint:
    """The append side: rewritten as header + the records kept, then appended to one group at a time."""

    def __init__(self, path: str | Path, fingerprint_: str, records: list[dict]):
        self.path = Path(path)
        self.fingerprint = fingerprint_
        self._fh: IO | None = None
        self.restart(records)

    def restart(self, records: list[dict]) -> None:
        """Rewrite the file (atomically) as header + ``records`` and reopen it for appending."""
        self.close()
        with atomic_open(self.path, fsync=True) as fh:
            fh.write(json.dumps({CHECKPOINT_HEADER: self.fingerprint}) + "\n")
            for record in records:
                fh.write(json.dumps(record) + "\n")
        self._fh = open(self.path, "a")

    def append(self, lines: list[str]) -> None:
        """One group's records at once, flushed and fsynced: a resumed run replays whole groups only."""
        self._fh.write("".join(lines))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
