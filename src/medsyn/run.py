"""The identity of one LLM run: model x dataset x prompt type x mode x recipe x seed, the grid's unit."""

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

    @classmethod
    def from_wildcards(cls, wc) -> "Run":
        """The run of a job's wildcards ({model}/{dataset}/{prompt}/{mode}/{recipe}/seed{seed})."""
        return cls(wc.model, wc.dataset, wc.prompt, wc.mode, wc.recipe, int(wc.seed))

    @property
    def dir(self) -> str:
        return layout.run_dir(self.model, self.dataset, self.prompt, self.mode, self.recipe, self.seed)

    @property
    def call_key(self) -> tuple:
        """What its calls' seeds derive from. No model and no recipe: every model and recipe of a run gets the
        same call seeds (common random numbers for comparisons and ablations)."""
        return self.dataset, self.prompt, self.mode, self.seed
