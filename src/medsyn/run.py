"""The identity of one LLM run: model x dataset x train size x prompt type x mode x recipe x seed, the grid's unit."""

from __future__ import annotations

from dataclasses import dataclass

from medsyn import layout


@dataclass(frozen=True)
class Run:
    model: str
    dataset: str
    prompt: str
    mode: str
    recipe: str
    seed: int
    train_rows: str = layout.ALL_TRAIN  # config split.train_rows: "all" or a subsample's size, as its folder names it

    @classmethod
    def from_wildcards(cls, wc) -> "Run":
        """The run of a job's wildcards (``layout.RUN_KEY``)."""
        return cls(wc.model, wc.dataset, wc.prompt, wc.mode, wc.recipe, int(wc.seed), str(wc.train_rows))

    @property
    def dir(self) -> str:
        return layout.run_dir(self.model, self.dataset, self.train_rows, self.prompt, self.mode, self.recipe,
                              self.seed)

    @property
    def call_key(self) -> tuple:
        """What its calls' seeds derive from. No model, no recipe and no train size: every model, recipe and
        train size of a run gets the same call seeds (common random numbers for comparisons and ablations)."""
        return self.dataset, self.prompt, self.mode, self.seed
