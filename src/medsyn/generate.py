"""One generation run: seeded calls of one model on one prompt until ``target_rows`` valid rows, as raw JSONL.

Only newly generated tokens are kept (the paper decoded the echoed prompt too and parsed it as data). Calls are
decoded in groups (``parallel_sequences``) by a backend (``medsyn.llm.backend.LlamaBackend`` or any object with
the ``Backend`` protocol's methods). Each call gets its own seed derived from (run key, call index), so a call's
text depends only on the prompt, its seed and, with the row-level recipes, the rows the run kept before its group:
a run resumed from its checkpoint (``medsyn.checkpoint``) is byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import pandas as pd

from medsyn import checkpoint as ckpt
from medsyn.errors import GenerationError
from medsyn.llm.chat_template import build_prompt_text
from medsyn.llm.decode import Call, CallResult, RowHooks
from medsyn.parse import RowParser, prompt_parser
from medsyn.recipes.examples import ExampleSource
from medsyn.recipes.hooks import RecipeHooks, RunRows
from medsyn.recipes.novelty import NoveltyJudge
from medsyn.recipes.rowtext import row_texts, text_frame
from medsyn.recipes.outside import OutsideDraws
from medsyn.recipes.steering import MarginalSteering
from medsyn.row_language import RowLanguage
from medsyn.seeds import derive_seed
from medsyn.settings import GenerationSettings
from medsyn.spec import DatasetSpec

if TYPE_CHECKING:
    from medsyn.run import Run
    from medsyn.prompts import PromptArtifact

EXAMPLE_MARKER = "\x00medsyn-example\x00"


class Backend(Protocol):
    n_ctx: int
    chat_template: str | None
    bos_token: int
    eos_token: int

    def special_text(self, token: int) -> str: ...

    def tokenize(self, text: str, add_bos: bool = True) -> list[int]: ...

    def use_sequences(self, n_seq: int, stream_cells: int | None = None, prompt_cells: int = 0) -> None: ...

    def complete_many(self, prompt_tokens: list[int], calls: list[Call], grammar_text: str | None, max_tokens: int,
                      settings: GenerationSettings, hooks: RowHooks | None = None,
                      language: RowLanguage | None = None) -> list[CallResult]: ...


@dataclass
class RealRows:
    """The real rows a recipe reads (never written out): train, in spec order with train row ids; holdout."""

    train: pd.DataFrame
    holdout: pd.DataFrame | None = None


def row_token_budget(backend: Backend, prompt: PromptArtifact, rows: int) -> int:
    """Completion tokens for ``rows`` grammar rows: 1.25x the tokens of the widest row the spec allows.

    Too small a budget cuts the last row (counted as 'truncated'); too large only reserves context.
    """
    samples = [prompt.widest_row] + prompt.example_rows
    longest = max(len(backend.tokenize(r + "\n", add_bos=False)) for r in samples)
    return int(math.ceil(1.25 * longest * rows)) + 16


def parallel_sequences(settings: GenerationSettings) -> int:
    """Calls decoded together: as many as asked for. The context is made for them (``stream_cells``): the prompt
    is evaluated once and shared by the calls (or copied to each, ``llama_cpp.kv_cache``), so a long prompt does
    not cost parallelism. Depends only on the config, so a rerun groups calls the same way."""
    return max(1, settings.parallel_sequences)


def stream_cells(n_prompt: int, max_tokens: int) -> int:
    """KV cells one call uses: its prompt and completion budget, rounded up to llama.cpp's 256-cell pad."""
    return -(-(n_prompt + max_tokens) // 256) * 256


def group_size(parallel: int, calls_left: int, rows_wanted: int, rows_per_call: float) -> int:
    """Calls to decode together next: as many as the rows still wanted need at the valid rows per call seen so far
    (the rows asked per call before the first call), within ``parallel`` and the calls left. A group costs
    about one call's wall time, so the next group is sized to finish the run rather than to ask one call at a time.
    """
    need = math.ceil(rows_wanted / rows_per_call) if rows_per_call > 0 else parallel
    return max(1, min(parallel, calls_left, need))


class _Prompts:
    """The prompt as tokens: the part every call shares (evaluated once, its state cached) and, with examples of
    its own per call, each call's rest (``suffix``)."""

    def __init__(self, backend: Backend, prompt: PromptArtifact, chat: str, settings: GenerationSettings):
        self.backend, self.prompt, self.chat, self.settings = backend, prompt, chat, settings
        shows = bool(prompt.example_rows)
        self.per_call = settings.examples.per_call and shows
        # examples.placement "prefill": the rows only as the first rows of the prefilled table, not in the user
        # message too (a mode without prefill keeps them there, or they would not be shown at all)
        self.in_user = not (shows and settings.prefill and settings.examples.placement == "prefill")
        self.text = self._render(prompt if self.in_user else prompt.with_examples(prompt.example_rows, False))
        self.static_text = self.text
        if self.per_call:
            marked = self._render(prompt.with_examples([EXAMPLE_MARKER], self.in_user))
            self.static_text = marked[: marked.index(EXAMPLE_MARKER)]
        self.tokens = backend.tokenize(self.static_text)
        widest = [prompt.widest_row] * len(prompt.example_rows)
        self.suffix_budget = int(1.25 * len(self.suffix(widest))) + 16 if self.per_call else 0

    def _render(self, prompt: PromptArtifact) -> str:
        b = self.backend
        return build_prompt_text(prompt, self.chat, b.chat_template, b.special_text(b.bos_token),
                                 b.special_text(b.eos_token), self.settings.prefill)

    def suffix(self, rows: list[str]) -> list[int]:
        text = self._render(self.prompt.with_examples(rows, self.in_user))
        if not text.startswith(self.static_text):
            raise GenerationError("the chat template renders the instructions differently per example set")
        return self.backend.tokenize(text[len(self.static_text):], add_bos=False)


class _Recipe:
    """What the run's recipe needs across groups: example draws, outside draws, the run-wide row state."""

    def __init__(self, backend, spec: DatasetSpec, prompt: PromptArtifact, settings: GenerationSettings, run: Run,
                 real: RealRows | None):
        s = settings
        self.spec = prompt.row_spec(spec)
        needs_real = s.examples.per_call or s.uses_row_hooks
        if needs_real and real is None:
            raise GenerationError("this recipe (per-call examples, novelty, outside draws or steering) needs the "
                                  "train rows; pass RealRows")
        self.examples = ExampleSource(s.examples, real.train, spec, len(prompt.example_rows),
                                      s.seed) if s.examples.per_call else None
        self.outside = OutsideDraws(s.outside, self.spec, real.train,
                                    derive_seed("outside-fit", *run.call_key)) if s.outside.method != "none" else None
        self.rows = None
        if s.uses_row_hooks:
            novelty = NoveltyJudge(s.novelty, self.spec, real.train, real.holdout) if s.novelty.reject else None
            steering = MarginalSteering(s.steering, self.spec, real.train,
                                        backend.pieces()) if s.steering.strength else None
            self.rows = RunRows(novelty, steering)
        self.max_retries = s.novelty.max_retries

    def call_examples(self, call: int, parser: RowParser) -> tuple[list[int], list[str]]:
        generated = text_frame([",".join(r) for r in parser.result.rows], self.spec) if parser.result.rows else None
        frame = self.examples.for_call(call, generated)
        return [int(i) for i in frame.index], row_texts(frame, self.spec)

    def hooks(self, examples: list[list[str]], seeds: list[int]) -> RecipeHooks | None:
        if self.rows is None:
            return None
        prefixes = [self.outside.prefixes(seed) for seed in seeds] if self.outside is not None else None
        return RecipeHooks(self.rows, [frozenset(e) for e in examples], prefixes, self.max_retries)


def _max_tokens(backend: Backend, prompt: PromptArtifact, s: GenerationSettings, n_prompt: int) -> int:
    """Completion tokens per call: the configured number, or in grammar mode the budget of ``rows_per_call`` rows;
    a prompt and completion that do not fit the model's context are an error naming the way out."""
    if s.max_tokens:
        max_tokens = s.max_tokens
    elif s.mode == "grammar":
        max_tokens = row_token_budget(backend, prompt, prompt.rows_per_call)
    else:
        max_tokens = s.free_max_tokens
    if n_prompt + max_tokens > backend.n_ctx:
        raise GenerationError(
            f"prompt {prompt.dataset}/{prompt.prompt_type} needs {n_prompt} prompt tokens + {max_tokens} "
            f"completion tokens, more than the model's n_ctx={backend.n_ctx}; raise n_ctx for this model, lower "
            "prompts.n_examples or generation.rows_per_call"
        )
    return max_tokens


@dataclass
class _Progress:
    """The run so far: calls made or replayed, valid rows the parser counted, calls replayed from the checkpoint,
    the train rows the prompts showed; ``replay`` and ``decode`` add one group of calls each."""

    parser: RowParser
    recipe: _Recipe
    settings: GenerationSettings
    log: Callable[[str], None]
    exposed: set[int]
    calls: int = 0
    valid: int = 0
    resumed: int = 0

    def replay(self, done: list[dict], seeds: list[int], fh, checkpoint) -> None:
        """Calls completed before the job was killed: fed to the parser and the row state again, not regenerated."""
        s, parser, recipe, log = self.settings, self.parser, self.recipe, self.log
        for seed in seeds:
            record = done[self.calls]
            if record.get("seed") != seed:
                raise GenerationError(f"checkpoint {checkpoint}: call {self.calls} has seed "
                                      f"{record.get('seed')}, expected {seed}")
            accepted = parser.feed(record["text"], call=self.calls,
                                   truncated=record.get("finish_reason") == "length",
                                   examples=record.get("example_rows"))
            if recipe.rows is not None:
                recipe.rows.replay(record["text"])
            self.exposed.update(record.get("example_row_ids", []))
            self.valid += len(accepted)
            self.resumed += 1
            fh.write(json.dumps(record) + "\n")
            self.calls += 1
            log(f"call {self.calls}/{s.max_calls}: replayed from checkpoint, {len(accepted)} valid rows "
                f"(total {self.valid}/{s.target_rows})")

    def decode(self, backend: Backend, prompts: _Prompts, prompt: PromptArtifact, grammar: str | None, max_tokens: int,
               seeds: list[int], language: RowLanguage | None = None) -> list[str]:
        """Decode one group of calls together; returns their JSONL records."""
        s, parser, recipe, log = self.settings, self.parser, self.recipe, self.log
        group = len(seeds)
        shown = [recipe.call_examples(self.calls + k, parser) for k in range(group)] if prompts.per_call else []
        batch = [Call(seed, prompts.suffix(rows) if prompts.per_call else [])
                 for seed, (_, rows) in zip(seeds, shown or [(None, None)] * group)]
        hooks = recipe.hooks([rows for _, rows in shown] or [prompt.example_rows] * group, seeds)
        t0 = time.perf_counter()
        results = backend.complete_many(prompts.tokens, batch, grammar, max_tokens, s, hooks, language)
        seconds = time.perf_counter() - t0
        lines = []
        for k, (result, seed) in enumerate(zip(results, seeds)):
            examples = shown[k][1] if shown else None
            accepted = parser.feed(result.text, call=self.calls, truncated=result.finish == "length",
                                   examples=examples)
            self.valid += len(accepted)
            record = {"call": self.calls, "prompt_id": prompt.id, "seed": seed, "text": result.text,
                      "finish_reason": result.finish,
                      "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                      "seconds": round(seconds / group, 4),  # the group's wall time, shared equally
                      "parallel": group, "rows_accepted": len(accepted)}
            if hooks is not None:
                record.update(decoded_tokens=result.decoded_tokens, rejected_rows=result.rejected_rows)
            if language is not None:
                record.update(forced_tokens=result.forced_tokens)
            if shown:
                record.update(example_row_ids=shown[k][0], example_rows=shown[k][1])
                self.exposed.update(shown[k][0])
            lines.append(json.dumps(record) + "\n")
            self.calls += 1
            together = f" ({group} calls decoded together in {seconds:.1f}s)" if group > 1 else \
                f" in {seconds:.1f}s"
            log(f"call {self.calls}/{s.max_calls}: {result.completion_tokens} tokens{together}, {len(accepted)} "
                f"valid rows (total {self.valid}/{s.target_rows})"
                + (f", resampled rows {result.rejected_rows}" if result.rejected_rows else ""))
        return lines


def run_generation(
    backend: Backend,
    spec: DatasetSpec,
    prompt: PromptArtifact,
    chat: str,
    settings: GenerationSettings,
    run: Run,
    out_jsonl: str | Path,
    log: Callable[[str], None] = print,
    checkpoint: str | Path | None = None,
    fingerprint: str = "",
    real: RealRows | None = None,
    parser: RowParser | None = None,
) -> dict:
    """Call the model until ``target_rows`` valid rows or ``max_calls`` calls; one JSONL record per call.

    With ``checkpoint``, every completed group of calls is appended there (flushed and fsynced) after a header
    holding ``fingerprint``; a rerun with the same fingerprint replays those calls instead of generating them
    again, so a killed job loses at most the group in progress and duplicates nothing. The caller removes the
    checkpoint once ``out_jsonl`` is published. ``parser`` counts the valid rows (the parse step's, so that both
    agree; default: ``prompt_parser`` with the default parse options). ``real``: the train/holdout rows the recipe
    needs. ``run``: the run's identity, whose ``call_key`` seeds the calls.
    """
    s = settings
    prompts = _Prompts(backend, prompt, chat, s)
    recipe = _Recipe(backend, spec, prompt, s, run, real)
    grammar = prompt.grammar if s.mode == "grammar" else None
    n_prompt = len(prompts.tokens) + prompts.suffix_budget
    max_tokens = _max_tokens(backend, prompt, s, n_prompt)
    if parser is None:
        parser = prompt_parser(prompt, spec)
    done = ckpt.read(checkpoint, fingerprint) if checkpoint is not None else []
    if checkpoint is not None and Path(checkpoint).exists() and not done:
        log(f"checkpoint {checkpoint}: no usable calls (other config or empty); starting afresh")
    saver = ckpt.Checkpoint(checkpoint, fingerprint, done) if checkpoint is not None else None
    parallel = parallel_sequences(s)
    backend.use_sequences(parallel, stream_cells(n_prompt, max_tokens), prompt_cells=len(prompts.tokens))
    language = RowLanguage(prompt.row_spec(spec)) if grammar is not None and s.jump_forward else None
    progress = _Progress(parser, recipe, s, log, set() if prompts.per_call else set(prompt.example_row_ids))
    started = time.perf_counter()
    try:
        with open(out_jsonl, "w") as fh:
            while progress.valid < s.target_rows and progress.calls < s.max_calls:
                group = group_size(parallel, s.max_calls - progress.calls, s.target_rows - progress.valid,
                                   progress.valid / progress.calls if progress.calls else prompt.rows_per_call or 1)
                seeds = [derive_seed(*run.call_key, progress.calls + k) for k in range(group)]
                if progress.calls + group <= len(done):  # done before the job was killed: replay, do not regenerate
                    progress.replay(done, seeds, fh, checkpoint)
                    continue
                if saver is not None and progress.calls < len(done):  # a group the kill cut short: decoded again whole
                    done = done[:progress.calls]
                    saver.restart(done)
                lines = progress.decode(backend, prompts, prompt, grammar, max_tokens, seeds, language)
                if saver is not None:  # the whole group at once: a resumed run replays whole groups only
                    saver.append(lines)
                fh.write("".join(lines))
                fh.flush()
    finally:
        if saver is not None:
            saver.close()
    return {
        "calls": progress.calls,
        "resumed_calls": progress.resumed,
        "valid_rows_seen": progress.valid,
        "prompt_tokens": len(prompts.tokens),
        "max_tokens": max_tokens,
        "parallel_sequences": parallel,
        "exposed_train_rows": len(progress.exposed),  # distinct train patients the prompts showed
        "exposed_train_row_ids": sorted(progress.exposed),
        "near_copy_threshold": recipe.rows.novelty.near_threshold if recipe.rows and recipe.rows.novelty else None,
        "seconds": round(time.perf_counter() - started, 3),
        "prompt_text": prompts.text,
    }
