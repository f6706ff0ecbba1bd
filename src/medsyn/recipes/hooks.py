"""The row hooks the decoder calls (``medsyn.llm.decode.RowHooks``), built from a run's recipe.

``RunRows`` is the run-wide state the hooks share: the novelty judge's accepted rows and the steering's running
counts. It is fed with every row kept, in the order kept; a resumed run feeds it the rows of the replayed calls
first, so the next group starts from the same state as in an uninterrupted run (the counts are order-free).
"""

from __future__ import annotations

from typing import Iterator

from medsyn.recipes.novelty import NoveltyJudge
from medsyn.recipes.steering import MarginalSteering


class RunRows:
    def __init__(self, novelty: NoveltyJudge | None = None, steering: MarginalSteering | None = None):
        self.novelty = novelty
        self.steering = steering

    def observe(self, row: str) -> None:
        if self.novelty is not None:
            self.novelty.accept(row)
        if self.steering is not None:
            self.steering.observe(row)

    def replay(self, text: str) -> None:
        """The rows of a call decoded earlier (every complete line: what the decoder kept)."""
        for line in text.split("\n")[:-1]:
            if line:
                self.observe(line)


class RecipeHooks:
    """Hooks for one group of calls: ``examples[i]`` and ``prefixes[i]`` belong to the group's call i."""

    def __init__(self, rows: RunRows, examples: list[frozenset], prefixes: list[Iterator[str]] | None,
                 max_retries: int):
        self.rows = rows
        self.examples = examples
        self.prefixes = prefixes
        self.max_retries = max_retries

    def row_prefix(self, seq: int) -> str:
        return next(self.prefixes[seq]) if self.prefixes is not None else ""

    def steer(self, seq: int, row: bytes):
        return self.rows.steering.steer(row) if self.rows.steering is not None else None

    def judge(self, seq: int, row: str) -> str | None:
        return self.rows.novelty.reason(row, self.examples[seq]) if self.rows.novelty is not None else None

    def accepted(self, seq: int, row: str) -> None:
        self.rows.observe(row)
