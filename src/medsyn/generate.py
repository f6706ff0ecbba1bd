"""Generation with llama-cpp-python: prompt rendering, seeded calls, raw JSONL records.

Only newly generated tokens are kept (the paper decoded the echoed prompt too and parsed it as data).
Chat models get their GGUF's own chat template, rendered in a Jinja2 sandbox (templates come from model
files, which are untrusted input); base models get plain completion.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime
import hashlib
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from medsyn.errors import GenerationError, ModelError
from medsyn.models import check_gguf
from medsyn.parse import RowParser
from medsyn.seeds import derive_seed
from medsyn.spec import DatasetSpec


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


MAX_TEMPLATE_OUTPUT = 1_000_000  # characters a chat template may produce (a real prompt is a few thousand)
MAX_TEMPLATE_SECONDS = 10.0


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no attribute of Python internals, no mutation of the arguments), plus limits on
    what could exhaust memory or CPU: huge repetitions (``'a' * 10**10``) and powers are refused."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            bits = left.bit_length() if isinstance(left, int) else 64
            if isinstance(right, (int, float)) and (abs(right) > 64 or bits * abs(right) > 4096):
                raise SecurityError(f"power ** {right} too large")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_TEMPLATE_OUTPUT:
                    raise SecurityError(f"repetition to {len(seq) * n:,} items exceeds {MAX_TEMPLATE_OUTPUT:,}")
        return super().call_binop(context, operator, left, right)


def render_chat_template(template: str, messages: list[dict], bos_token: str, eos_token: str) -> str:
    """Render a GGUF chat template in a sandbox: a template cannot reach Python internals or mutate objects,
    and its output is capped (MAX_TEMPLATE_OUTPUT characters, MAX_TEMPLATE_SECONDS). Any failure is a ModelError."""

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    def strftime_now(fmt: str) -> str:
        return datetime.datetime.now().strftime(fmt)

    env = TemplateSandbox(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
    deadline = time.perf_counter() + MAX_TEMPLATE_SECONDS
    try:
        with _time_limit(MAX_TEMPLATE_SECONDS):
            return _render_capped(env, template, deadline, messages=messages, bos_token=bos_token,
                                  eos_token=eos_token, add_generation_prompt=True, raise_exception=raise_exception,
                                  strftime_now=strftime_now, tools=None)
    except (jinja2.TemplateError, ArithmeticError, RecursionError, TypeError, ValueError, TimeoutError) as exc:
        # TemplateError includes the sandbox's SecurityError; OverflowError: range() beyond the sandbox's MAX_RANGE
        raise ModelError(f"the model's chat template failed to render: {type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def _time_limit(seconds: float):
    """SIGALRM after ``seconds`` (main thread only): a template looping without output cannot hang the job."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(f"rendering took longer than {seconds:.0f}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _render_capped(env, template: str, deadline: float, **variables) -> str:
    chunks, size = [], 0
    for chunk in env.from_string(template).generate(**variables):
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT:
            raise SecurityError(f"output longer than {MAX_TEMPLATE_OUTPUT:,} characters")
        if time.perf_counter() > deadline:
            raise SecurityError(f"rendering took longer than {MAX_TEMPLATE_SECONDS:.0f}s")
        chunks.append(chunk)
    return "".join(chunks)


def build_prompt_text(prompt: dict, chat: str, template: str | None, bos: str, eos: str, prefill: bool) -> str:
    messages = [{"role": "system", "content": prompt["system"]}, {"role": "user", "content": prompt["user"]}]
    if chat == "template":
        if not template:
            raise ModelError(
                "the model has no chat template (tokenizer.chat_template); set 'chat: completion' for base models"
            )
        text = render_chat_template(template, messages, bos, eos)
    elif chat == "completion":
        text = f"{prompt['system']}\n\n{prompt['user']}\n\n"
    else:
        raise ModelError(f"unknown chat handling {chat!r}; expected 'template' or 'completion'")
    return text + (prompt["prefill"] if prefill else "")


def require_gpu_offload(model_id: str, n_gpu_layers: int, supported: bool) -> None:
    """Stop before loading when a model asks for GPU layers that this llama.cpp build cannot offload.

    A CPU-only build ignores ``n_gpu_layers`` and would silently run the model on the CPU.
    """
    if n_gpu_layers and not supported:
        raise ModelError(
            f"the model asks for n_gpu_layers={n_gpu_layers} but this llama-cpp-python build cannot offload to a "
            f"GPU (llama_supports_gpu_offload() is false): model '{model_id}' would silently run on the CPU. "
            'Rebuild it with CUDA: CMAKE_ARGS="-DGGML_CUDA=on" bash scripts/install.sh --cuda '
            f"(README, GPU (CUDA)), or set models.{model_id}.n_gpu_layers: 0 in the config"
        )


class LlamaBackend:
    """One loaded GGUF. One per job: llama-cpp-python objects are not shared between threads or jobs."""

    def __init__(
        self,
        model_path: str,
        n_ctx: int,
        n_threads: int,
        n_gpu_layers: int = 0,
        seed: int = 1,
        model_id: str = "",
    ):
        import llama_cpp

        require_gpu_offload(model_id or model_path, n_gpu_layers, bool(llama_cpp.llama_supports_gpu_offload()))
        self.llama_cpp = llama_cpp
        if not Path(model_path).is_file():
            raise ModelError(f"model file not found: {model_path}")
        check_gguf(Path(model_path))
        try:
            self.llm = llama_cpp.Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                verbose=False,
            )
        except ValueError as exc:  # llama.cpp: "Failed to load model from file"
            size = Path(model_path).stat().st_size
            raise ModelError(
                f"llama.cpp cannot load model file {model_path} ({size:,} bytes): {exc}; the file is truncated or "
                "corrupt: delete it and rerun prepare_model (its sha256 is checked there)"
            ) from None
        self.n_ctx = n_ctx
        self.n_seq = 1  # sequences the context holds (use_sequences)
        self.prompt_eval_seconds = 0.0  # time spent evaluating prompts (the benchmark reads it)
        self._prompt_state = None  # (prompt tokens, llama.cpp state bytes right after evaluating them)
        self._n_vocab = self.llm.n_vocab()
        self._vocab = self.llm._model.vocab
        self._pieces: dict[int, bytes] = {}
        # one-token candidate array: checks the sampled token against the grammar without touching the vocabulary
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        self._all = None  # full-vocabulary candidate array, only built when the grammar rejects a sampled token

    def use_sequences(self, n_seq: int) -> None:
        """Make the context hold ``n_seq`` sequences decoded together (llama-cpp-python makes it for one).

        The KV cache is split into one stream of n_ctx / n_seq cells per sequence (``kv_unified`` false), so a
        sequence attends only to its own cells, not to masked cells of the others; the prompt's cells are copied
        from stream 0 into each other stream (``llama_memory_seq_cp``). Memory is the same n_ctx cells as for one.
        """
        if n_seq == self.n_seq:
            return
        from llama_cpp import _internals

        params = self.llm.context_params
        params.n_seq_max = n_seq
        params.kv_unified = False
        try:
            context = _internals.LlamaContext(model=self.llm._model, params=params, verbose=False)
        except ValueError as exc:
            raise ModelError(f"llama.cpp cannot make a context for {n_seq} parallel sequences: {exc}") from None
        self.llm._ctx.close()
        self.llm._ctx = context
        self.n_seq = n_seq
        self._prompt_state = None

    def _restore_prompt_state(self, tokens: list[int]) -> None:
        """Start every call from the same state: the prompt evaluated once (in batches), then restored.

        So a call's text depends only on (prompt, seed), never on the calls before it, and a run resumed from a
        checkpoint is byte-identical to an uninterrupted one, without re-evaluating the prompt for every call.
        The KV cache of the prompt (a few MB) is saved and restored with llama.cpp's ``llama_state_get_data`` /
        ``llama_state_set_data`` (llama-cpp-python's ``save_state`` would also copy its n_batch x n_vocab score
        buffer, 300 MB for Qwen, on every call). That state does not bring back the logits, so the last prompt
        token's logits are kept here and the first token of every call is sampled from them.
        """
        import numpy as np

        lc = self.llama_cpp
        ctx = self.llm._ctx.ctx
        if self._prompt_state is None or self._prompt_state[0] != tokens:
            self._prompt_state = None
            started = time.perf_counter()
            # all sequences' cells go: Llama.eval's own clean-up removes sequence 0 only, and llama_state_get_data
            # would save the other sequences' cells of an earlier prompt with this one
            lc.llama_memory_clear(lc.llama_get_memory(ctx), True)
            self.llm.reset()
            self.llm.eval(tokens)
            self.prompt_eval_seconds += time.perf_counter() - started
            size = lc.llama_state_get_size(ctx)
            buf = (ctypes.c_uint8 * size)()
            n = lc.llama_state_get_data(ctx, buf, size)
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, -1), shape=(self._n_vocab,)).copy()
            self._prompt_state = (list(tokens), buf, n, logits)
        _, buf, n, _ = self._prompt_state
        if lc.llama_state_set_data(ctx, buf, n) != n:
            raise GenerationError("llama.cpp could not restore the prompt state")
        self.llm.n_tokens = len(tokens)

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self.llm.detokenize([token])
        return piece

    def _sampler_chain(self, s: GenerationSettings, seed: int, grammar=None):
        """llama.cpp's native sampler chain, in llama-cpp-python's order (penalties, grammar, top-k, typical,
        top-p, min-p, temperature, dist with the call's seed): no Python logits processing."""
        lc = self.llama_cpp
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if s.repeat_penalty != 1.0:
            penalties = lc.llama_sampler_init_penalties(self._n_vocab, 64, s.repeat_penalty, 0.0, 0.0)
            lc.llama_sampler_chain_add(chain, penalties)
        if grammar is not None:
            lc.llama_sampler_chain_add(chain, grammar)
        if s.temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
            return chain
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_k(s.top_k))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_typical(1.0, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(s.top_p, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_min_p(s.min_p, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(s.temperature))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        return chain

    def _sample_array(self, chain, grammar=None, logits=None, index: int = -1) -> int:
        """Sample from a full-vocabulary candidate array: ``logits`` (default: the context's logits of batch entry
        ``index``) through the grammar (if given), then the chain. Used for the first token of a call (sampled from
        the saved prompt logits) and when the grammar rejected the token the chain sampled."""
        import numpy as np

        lc = self.llama_cpp
        if self._all is None:
            data = (lc.llama_token_data * self._n_vocab)()
            view = np.ctypeslib.as_array(data).view(np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)]))
            self._all = (data, view, np.arange(self._n_vocab, dtype=np.intc))
        data, view, ids = self._all
        if logits is None:
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(self.llm._ctx.ctx, index), shape=(self._n_vocab,))
        view["id"] = ids
        view["logit"] = logits
        view["p"] = 0.0
        array = lc.llama_token_data_array(data, self._n_vocab, -1, False)
        if grammar is not None:
            lc.llama_sampler_apply(grammar, ctypes.byref(array))
        lc.llama_sampler_apply(chain, ctypes.byref(array))
        if array.selected < 0:
            raise GenerationError("the grammar allows no token here")
        return int(array.data[array.selected].id)

    @property
    def chat_template(self) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template")

    def special_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def tokenize(self, text: str) -> list[int]:
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        bos = self.llm.token_bos()
        add_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "true") != "false"
        if add_bos and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens = [bos] + tokens
        return tokens

    def system_info(self) -> dict:
        return {
            "llama_cpp_python": self.llama_cpp.__version__,
            "system_info": self.llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
            "gpu_offload_supported": bool(self.llama_cpp.llama_supports_gpu_offload()),
        }

    def complete(self, tokens: list[int], grammar_text: str | None, max_tokens: int, seed: int, s: GenerationSettings):
        """One call (see ``complete_many``). Returns text, finish reason, usage."""
        return self.complete_many(tokens, grammar_text, max_tokens, [seed], s)[0]

    def complete_many(
        self, tokens: list[int], grammar_text: str | None, max_tokens: int, seeds: list[int], s: GenerationSettings
    ) -> list[tuple[str, str, dict]]:
        """Calls decoded together, one sequence per seed: the prompt state restored, then up to ``max_tokens``
        tokens per sequence, one token of every unfinished sequence per ``llama_decode``.

        A batch of n tokens costs much less than n single-token decodes (the weights are read once per batch), so
        sequences decoded together give more tokens per second. Sequence i has its own KV stream starting from a
        copy of the prompt's cells (``use_sequences``), its own sampler chain seeded with ``seeds[i]`` and its own
        grammar. With one seed this is the plain single-call path. The output of a group depends only on (prompt,
        seeds), never on calls before it.

        Sampling and the grammar run in llama.cpp's native sampler chain. The grammar is checked against the token
        the chain sampled first (one candidate); only when it rejects that token is the whole vocabulary
        constrained and sampled again (llama.cpp's own common_sampler does the same): grammar cost then no longer
        grows with the vocabulary on every token. After each line break the grammar is asked whether end of text
        is allowed; our grammars (``spec_to_gbnf``: exactly ``rows_per_call`` rows) allow it only once every row is
        written, and then allow nothing else, so the sequence stops there without sampling the forced end-of-text
        token. Returns (text, finish reason, usage) per seed.
        """
        if len(seeds) > self.n_seq:
            raise GenerationError(f"{len(seeds)} sequences asked for, the context was made for {self.n_seq}")
        lc = self.llama_cpp
        ctx = self.llm._ctx.ctx
        self._restore_prompt_state(tokens)
        if len(seeds) > 1:
            memory = lc.llama_get_memory(ctx)
            for seq in range(1, len(seeds)):
                lc.llama_memory_seq_cp(memory, 0, seq, -1, -1)  # whole stream: it holds just the prompt
        # with a repeat penalty the chain must not see rejected tokens: the grammar then constrains every token
        grammar_first = grammar_text is not None and s.repeat_penalty != 1.0
        sequences = []
        try:
            for seed in seeds:
                grammar = None
                if grammar_text:
                    grammar = lc.llama_sampler_init_grammar(self._vocab, grammar_text.encode("utf-8"), b"root")
                    if not grammar:
                        raise GenerationError("llama.cpp could not parse the grammar")
                chain = self._sampler_chain(s, seed, grammar if grammar_first else None)
                sequences.append(_Sequence(chain=chain, grammar=grammar, grammar_in_chain=grammar_first))
            self._decode_sequences(sequences, len(tokens), max_tokens)
        finally:
            for seq in sequences:
                if seq.grammar is not None and not seq.grammar_in_chain:
                    lc.llama_sampler_free(seq.grammar)
                lc.llama_sampler_free(seq.chain)  # frees a grammar inside the chain too
        results = []
        for seq in sequences:
            text = self.llm.detokenize(seq.out).decode("utf-8", errors="ignore")
            results.append((text, seq.finish, {"prompt_tokens": len(tokens), "completion_tokens": len(seq.out),
                                               "total_tokens": len(tokens) + len(seq.out)}))
        return results

    def _decode_sequences(self, sequences: list["_Sequence"], n_prompt: int, max_tokens: int) -> None:
        """The decode loop: sample one token per unfinished sequence, then decode them all in one batch."""
        lc = self.llama_cpp
        ctx = self.llm._ctx.ctx
        batch = self.llm._batch.batch
        prompt_logits = self._prompt_state[3]
        eog = self.llm.token_eos()
        pos = n_prompt
        active = list(range(len(sequences)))
        index = {}  # sequence -> its entry in the last decoded batch (where its logits are)
        while active:
            still = []
            for i in active:
                seq = sequences[i]
                if seq.out:
                    token = lc.llama_sampler_sample(seq.chain, ctx, index[i])  # samples and accepts in llama.cpp
                else:  # first token: the saved prompt logits
                    token = self._sample_array(seq.chain, logits=prompt_logits)
                    lc.llama_sampler_accept(seq.chain, token)
                if seq.grammar is not None and not seq.grammar_in_chain:
                    if not self._grammar_allows(seq.grammar, token):
                        logits = None if seq.out else prompt_logits
                        token = self._sample_array(seq.chain, seq.grammar, logits, index.get(i, -1))
                    lc.llama_sampler_accept(seq.grammar, token)
                if lc.llama_vocab_is_eog(self._vocab, token):
                    seq.finish = "stop"
                    continue
                seq.out.append(token)
                # after a line break: end of text allowed = every row written (our grammars then allow nothing else)
                if seq.grammar is not None and eog >= 0 and b"\n" in self._piece(token) \
                        and self._grammar_allows(seq.grammar, eog):
                    seq.finish = "stop"
                    continue
                if len(seq.out) < max_tokens:
                    still.append(i)
            active = still
            if not active:
                break
            for j, i in enumerate(active):
                batch.token[j] = sequences[i].out[-1]
                batch.pos[j] = pos
                batch.seq_id[j][0] = i
                batch.n_seq_id[j] = 1
                batch.logits[j] = True
                index[i] = j
            batch.n_tokens = len(active)
            self.llm._ctx.decode(self.llm._batch)
            pos += 1

    def _grammar_allows(self, grammar, token: int) -> bool:
        """Whether the grammar accepts ``token`` next: applied to a one-candidate array, not the whole vocabulary."""
        one, one_array = self._one, self._one_array
        one[0].id, one[0].logit, one[0].p = token, 1.0, 0.0
        one_array.size, one_array.selected, one_array.sorted = 1, -1, False
        self.llama_cpp.llama_sampler_apply(grammar, ctypes.byref(one_array))
        return one[0].logit != -math.inf


@dataclass
class _Sequence:
    """One sequence of a batched call: its sampler chain, its grammar (None in free mode), its tokens."""

    chain: object
    grammar: object = None
    grammar_in_chain: bool = False  # grammar-first: the chain applies it to every token (and frees it)
    out: list = dataclasses.field(default_factory=list)
    finish: str = "length"


def row_token_budget(backend: LlamaBackend, prompt: dict, rows: int) -> int:
    """Completion tokens for ``rows`` grammar rows: 1.25x the tokens of the widest row the spec allows.

    Too small a budget cuts the last row (counted as 'truncated'); too large only reserves context.
    """
    samples = [prompt["widest_row"]] + prompt["example_rows"]
    longest = max(len(backend.llm.tokenize((r + "\n").encode(), add_bos=False, special=False)) for r in samples)
    return int(math.ceil(1.25 * longest * rows)) + 16


def parallel_sequences(backend: LlamaBackend, settings: GenerationSettings, n_prompt: int, max_tokens: int) -> int:
    """Calls decoded together: as many as asked for and as n_ctx holds (each sequence's stream of n_ctx / n
    cells holds the prompt and ``max_tokens``). Depends only on the config, so a rerun groups calls the same way."""
    fits = backend.n_ctx // (n_prompt + max_tokens)
    return max(1, min(settings.parallel_sequences, fits))


def group_size(parallel: int, calls_left: int, rows_wanted: int, rows_per_call: float) -> int:
    """Calls to decode together next: as many as the rows still wanted need at the run's yield so far (valid rows
    per call; the rows asked per call before the first call), within ``parallel`` and the calls left. A group costs
    about one call's wall time, so the next group is sized to finish the run rather than to ask one call at a time.
    """
    need = math.ceil(rows_wanted / rows_per_call) if rows_per_call > 0 else parallel
    return max(1, min(parallel, calls_left, need))


CHECKPOINT_HEADER = "medsyn_checkpoint"


def read_checkpoint(path: str | Path, fingerprint: str) -> list[dict]:
    """Call records a killed attempt completed, if its fingerprint (model, prompt, settings, seed) matches.

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
    if not isinstance(header, dict) or header.get(CHECKPOINT_HEADER) != fingerprint:
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


def checkpoint_fingerprint(model_entry: dict, prompt: dict, settings: GenerationSettings, run_key: tuple,
                           threads: int) -> str:
    """What a run's calls depend on: model bytes and handling, the exact prompt, sampling settings, seed, threads."""
    payload = {
        "model_sha256": model_entry.get("sha256"),
        "chat": model_entry.get("chat"),
        "n_ctx": model_entry.get("n_ctx"),
        "n_gpu_layers": model_entry.get("n_gpu_layers"),
        "prompt_sha256": hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest(),
        "settings": dataclasses.asdict(settings),
        "run_key": [str(k) for k in run_key],
        "threads": threads,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _start_checkpoint(path: Path, fingerprint: str, records: list[dict]):
    """Rewrite the checkpoint as header + the records kept (atomically), then open it for appending."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(json.dumps({CHECKPOINT_HEADER: fingerprint}) + "\n")
        for record in records:
            fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return open(path, "a")


def run_generation(
    backend: LlamaBackend,
    spec: DatasetSpec,
    prompt: dict,
    chat: str,
    settings: GenerationSettings,
    run_key: tuple,
    out_jsonl: str | Path,
    log: Callable[[str], None] = print,
    checkpoint: str | Path | None = None,
    fingerprint: str = "",
) -> dict:
    """Call the model until ``target_rows`` valid rows or ``max_calls`` calls; one JSONL record per call.

    With ``checkpoint``, every completed call is appended there (flushed and fsynced) after a header holding
    ``fingerprint``; a rerun with the same fingerprint replays those calls instead of generating them again
    (every call has its own derived seed), so a killed job loses at most the call in progress and duplicates
    nothing. The caller removes the checkpoint once ``out_jsonl`` is published.
    """
    text = build_prompt_text(
        prompt,
        chat,
        backend.chat_template,
        backend.special_text(backend.llm.token_bos()),
        backend.special_text(backend.llm.token_eos()),
        settings.prefill,
    )
    tokens = backend.tokenize(text)
    grammar = prompt["grammar"] if settings.mode == "grammar" else None
    if settings.max_tokens:
        max_tokens = settings.max_tokens
    elif settings.mode == "grammar":
        max_tokens = row_token_budget(backend, prompt, prompt["rows_per_call"])
    else:
        max_tokens = settings.free_max_tokens
    if len(tokens) + max_tokens > backend.n_ctx:
        raise GenerationError(
            f"prompt {prompt['dataset']}/{prompt['prompt_type']} needs {len(tokens)} prompt tokens + {max_tokens} "
            f"completion tokens, more than the model's n_ctx={backend.n_ctx}; raise n_ctx for this model, lower "
            "prompts.n_examples or generation.rows_per_call"
        )
    parser = RowParser(spec, prompt["example_rows"], prompt["user"])
    out_jsonl = Path(out_jsonl)
    done: list[dict] = []
    ckpt = None
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        done = read_checkpoint(checkpoint, fingerprint)
        if checkpoint.exists() and not done:
            log(f"checkpoint {checkpoint}: no usable calls (other config or empty); starting afresh")
        ckpt = _start_checkpoint(checkpoint, fingerprint, done)
    parallel = parallel_sequences(backend, settings, len(tokens), max_tokens)
    backend.use_sequences(parallel)
    rows_per_call = prompt.get("rows_per_call") or 1
    valid = 0
    calls = 0
    resumed = 0
    started = time.perf_counter()
    try:
        with open(out_jsonl, "w") as fh:
            while valid < settings.target_rows and calls < settings.max_calls:
                group = group_size(parallel, settings.max_calls - calls, settings.target_rows - valid,
                                   valid / calls if calls else rows_per_call)
                seeds = [derive_seed(*run_key, calls + k) for k in range(group)]
                if calls + group <= len(done):  # completed before the job was killed: replay, do not regenerate
                    for k, seed in enumerate(seeds):
                        record = done[calls]
                        if record.get("seed") != seed:
                            raise GenerationError(
                                f"checkpoint {checkpoint}: call {calls} has seed {record.get('seed')}, expected {seed}"
                            )
                        truncated = record.get("finish_reason") == "length"
                        accepted = parser.feed(record["text"], call=calls, truncated=truncated)
                        valid += len(accepted)
                        resumed += 1
                        fh.write(json.dumps(record) + "\n")
                        calls += 1
                        log(f"call {calls}/{settings.max_calls}: replayed from checkpoint, {len(accepted)} valid rows "
                            f"(total {valid}/{settings.target_rows})")
                    continue
                if calls < len(done):  # a group the kill cut short: drop its calls, the group is decoded again
                    done = done[:calls]
                    ckpt.close()
                    ckpt = _start_checkpoint(checkpoint, fingerprint, done)
                t0 = time.perf_counter()
                results = backend.complete_many(tokens, grammar, max_tokens, seeds, settings)
                seconds = time.perf_counter() - t0
                lines = []
                for (completion, finish, usage), seed in zip(results, seeds):
                    accepted = parser.feed(completion, call=calls, truncated=finish == "length")
                    valid += len(accepted)
                    record = {
                        "call": calls,
                        "prompt_id": f"{prompt['dataset']}/{prompt['prompt_type']}/seed{prompt['seed']}",
                        "seed": seed,
                        "text": completion,
                        "finish_reason": finish,
                        "prompt_tokens": usage["prompt_tokens"],
                        "completion_tokens": usage["completion_tokens"],
                        "seconds": round(seconds / group, 4),  # the group's wall time, shared equally
                        "parallel": group,
                        "rows_accepted": len(accepted),
                    }
                    lines.append(json.dumps(record) + "\n")
                    calls += 1
                    log(
                        f"call {calls}/{settings.max_calls}: {usage['completion_tokens']} tokens"
                        + (f" ({group} calls decoded together in {seconds:.1f}s)" if group > 1 else f" in {seconds:.1f}s")
                        + f", {len(accepted)} valid rows (total {valid}/{settings.target_rows})"
                    )
                if ckpt is not None:  # the whole group at once: a resumed run replays whole groups only
                    ckpt.write("".join(lines))
                    ckpt.flush()
                    os.fsync(ckpt.fileno())
                fh.write("".join(lines))
                fh.flush()
    finally:
        if ckpt is not None:
            ckpt.close()
    return {
        "calls": calls,
        "resumed_calls": resumed,
        "valid_rows_seen": valid,
        "prompt_tokens": len(tokens),
        "max_tokens": max_tokens,
        "parallel_sequences": parallel,
        "seconds": round(time.perf_counter() - started, 3),
        "prompt_text": text,
    }
