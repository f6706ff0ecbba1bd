"""Generation settings: the typed shape of the config's ``generation:`` block (one recipe resolved, see
``medsyn.config.recipe_generation``) that the generation code and the recipe baselines read. Recorded whole in
``generation.json`` and in the checkpoint fingerprint.

No field has a default here: the config schema (``workflow/schemas/config.schema.yaml``) is the only place a default
lives, and a block reaches these classes with its defaults filled (``medsyn.config.validate_config``). A key these
classes do not know is an error, never dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from medsyn.errors import ConfigError


@dataclass(frozen=True)
class ExampleSettings:
    per_call: bool  # fresh example rows for every call (seeded per call), not one set per run
    stratify: bool  # per-call examples stratified by the target
    residual: bool  # per-call examples from the train region the rows so far cover worst (TabGen-ICL)
    neighbors: bool  # per-call examples: a random train patient and its nearest train rows
    # where the rows are shown: "both" (the user message and the assistant turn's prefill) or "prefill" (only as the
    # first rows of the assistant's table, where the mode prefills): each example's tokens are then evaluated once
    placement: str


@dataclass(frozen=True)
class NoveltySettings:
    reject: tuple[str, ...]  # resample a completed row equal to: earlier, examples, train; or near a train row
    max_retries: int  # resamples of one row; then the call ends before it
    near_quantile: float  # 'near': the quantile of the holdout's distances to train that counts as near


@dataclass(frozen=True)
class OutsideSettings:
    method: str  # none | marginal | copula: how the first values of a row are drawn outside the model
    columns: int  # how many leading columns (of the generation column order) are drawn


@dataclass(frozen=True)
class SteeringSettings:
    strength: float  # logit-bias strength pulling generated values toward the train marginals; 0 = off
    bins: int  # quantile bins of a numeric column the bias acts on; 0 = every distinct train value
    train_values_only: bool  # a value no train row shows (per column) is never written
    conditional: bool  # each column pulled toward train's distribution given one earlier column's bin


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
    parallel_sequences: int  # calls decoded together as sequences of one batch (the prompt evaluated once)
    jump_forward: bool  # grammar mode: text the grammar forces is appended to the next decode, not sampled
    examples: ExampleSettings
    novelty: NoveltySettings
    outside: OutsideSettings
    steering: SteeringSettings

    def as_record(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def uses_row_hooks(self) -> bool:
        """Whether the decoder must act at row boundaries (novelty, outside draws or steering)."""
        return bool(self.novelty.reject) or self.outside.method != "none" or self.steering.strength != 0


BLOCKS = {"examples": ExampleSettings, "novelty": NoveltySettings, "outside": OutsideSettings,
          "steering": SteeringSettings}
# generation keys read elsewhere (the prompt step, the grid): not generation settings
NOT_SETTINGS = ("models", "modes", "recipes", "rows_per_call", "column_order")


def _build(cls, values: dict, where: str):
    """``cls`` from a block of the config: every field given, no other key."""
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(names))
    missing = [n for n in names if n not in values]
    problems = []
    if unknown:
        problems.append(f"unknown keys {unknown}")
    if missing:
        problems.append(f"missing keys {missing} (a block must reach the settings with the schema's defaults "
                        "filled: medsyn.config.validate_config)")
    if problems:
        raise ConfigError(f"config key '{where}': " + "; ".join(problems))
    return cls(**{n: tuple(values[n]) if isinstance(values[n], list) else values[n] for n in names})


def block_settings(name: str, values: dict):
    """One recipe switch block (``examples``, ``novelty``, ``outside``, ``steering``) from its config values."""
    return _build(BLOCKS[name], values, f"generation.{name}")


def settings_from_config(gen: dict, mode: str, seed: int) -> GenerationSettings:
    """``gen``: one recipe's generation block (validated, defaults filled); ``prefill`` is per mode."""
    top = {k: v for k, v in gen.items() if k not in NOT_SETTINGS and k not in BLOCKS}
    top["prefill"] = gen["prefill"][mode] if isinstance(gen["prefill"], dict) else gen["prefill"]
    blocks = {key: block_settings(key, gen[key]) for key in BLOCKS}
    return _build(GenerationSettings, {**top, **blocks, "mode": mode, "seed": seed}, "generation")
