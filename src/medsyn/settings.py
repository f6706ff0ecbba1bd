"""Generation settings: the one mapping from the config's ``generation:`` block (a recipe resolved, see
``medsyn.config.recipe_generation``) to what the generation code reads. Recorded whole in ``generation.json``
and in the checkpoint fingerprint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class ExampleSettings:
    per_call: bool = False  # fresh example rows for every call (seeded per call), not one set per run
    stratify: bool = False  # per-call examples stratified by the target
    residual: bool = False  # per-call examples from the train region the rows so far cover worst (TabGen-ICL)
    neighbors: bool = False  # per-call examples: a random train patient and its nearest train rows
    # where the rows are shown: "both" (the user message and the assistant turn's prefill) or "prefill" (only as the
    # first rows of the assistant's table, where the mode prefills): each example's tokens are then evaluated once
    placement: str = "both"


@dataclass(frozen=True)
class NoveltySettings:
    reject: tuple[str, ...] = ()  # resample a completed row equal to: earlier, examples, train; or near a train row
    max_retries: int = 8  # resamples of one row; then the call ends before it
    near_quantile: float = 0.05  # 'near': the quantile of the holdout's distances to train that counts as near


@dataclass(frozen=True)
class OutsideSettings:
    method: str = "none"  # none | marginal | copula: how the first values of a row are drawn outside the model
    columns: int = 1  # how many leading columns (of the generation column order) are drawn


@dataclass(frozen=True)
class SteeringSettings:
    strength: float = 0.0  # logit-bias strength pulling generated values toward the train marginals; 0 = off
    bins: int = 10  # quantile bins of a numeric column the bias acts on; 0 = every distinct train value
    train_values_only: bool = False  # a value no train row shows (per column) is never written
    conditional: bool = False  # each column pulled toward train's distribution given one earlier column's bin


@dataclass
class GenerationSettings:
    mode: str  # "grammar" | "free"
    target_rows: int
    max_calls: int
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    max_tokens: int | None  # None: derived from rows per call (grammar) / free_max_tokens
    free_max_tokens: int
    prefill: bool
    seed: int
    parallel_sequences: int = 1  # calls decoded together as sequences of one batch (same prompt KV cells)
    examples: ExampleSettings = field(default_factory=ExampleSettings)
    novelty: NoveltySettings = field(default_factory=NoveltySettings)
    outside: OutsideSettings = field(default_factory=OutsideSettings)
    steering: SteeringSettings = field(default_factory=SteeringSettings)

    def as_record(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def uses_row_hooks(self) -> bool:
        """Whether the decoder must act at row boundaries (novelty, outside draws or steering)."""
        return bool(self.novelty.reject) or self.outside.method != "none" or self.steering.strength != 0


def _sub(cls, values: dict | None):
    values = dict(values or {})
    if "reject" in values:
        values["reject"] = tuple(values["reject"])
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})


def settings_from_config(gen: dict, mode: str, seed: int) -> GenerationSettings:
    """``gen``: one recipe's generation block (validated, defaults filled); ``prefill`` may still be per mode."""
    prefill = gen["prefill"][mode] if isinstance(gen["prefill"], dict) else gen["prefill"]
    return GenerationSettings(
        mode=mode,
        target_rows=gen["target_rows"],
        max_calls=gen["max_calls"],
        temperature=gen["temperature"],
        top_p=gen["top_p"],
        top_k=gen["top_k"],
        min_p=gen["min_p"],
        repeat_penalty=gen["repeat_penalty"],
        max_tokens=gen["max_tokens"],
        free_max_tokens=gen["free_max_tokens"],
        prefill=prefill,
        seed=seed,
        parallel_sequences=gen["parallel_sequences"],
        examples=_sub(ExampleSettings, gen.get("examples")),
        novelty=_sub(NoveltySettings, gen.get("novelty")),
        outside=_sub(OutsideSettings, gen.get("outside")),
        steering=_sub(SteeringSettings, gen.get("steering")),
    )
