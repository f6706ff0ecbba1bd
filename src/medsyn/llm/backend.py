"""One loaded GGUF model and its llama.cpp context: the only module that touches llama-cpp-python's internals.

llama-cpp-python's public ``Llama`` class decodes one sequence at a time. Our decoder needs more of llama.cpp:
several sequences in one context (``n_seq_max``, split KV streams), the prompt's state saved and restored, cells
removed when a row is rolled back. Those need the private attributes ``Llama._model``, ``Llama._ctx`` and
``Llama.context_params`` and the class ``llama_cpp._internals.LlamaContext``; they are used here and nowhere
else, and only with a llama-cpp-python version they were checked against (``SUPPORTED_VERSIONS``).
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import time
from pathlib import Path

import numpy as np

from medsyn.errors import ConfigError, GenerationError, ModelError
from medsyn.grammar import grammar_alphabet
from medsyn.llm.decode import BatchDecoder
from medsyn.models import check_gguf

# The private llama-cpp-python API below was read and tested against these releases (pyproject pins one).
SUPPORTED_VERSIONS = ("0.3.36",)


def check_llama_cpp_version(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(
            f"llama-cpp-python {version} is installed, but medsyn's backend (src/medsyn/llm/backend.py) uses its "
            f"internals as of {', '.join(SUPPORTED_VERSIONS)}: install llama-cpp-python=={SUPPORTED_VERSIONS[-1]} "
            "(bash scripts/install.sh does) or check the backend against the new release and add it there"
        )


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


# -- llama.cpp's extra CPU buffer types (AMX, REPACK) -------------------------------------------------------------

EXTRA_BUFFER_TYPE_SETTINGS = ("auto", "on", "off")
_AMX_IN_BUILD = re.compile(r"\bAMX_INT8\s*=\s*1\b")


def build_has_amx(system_info: str) -> bool:
    """Whether this llama.cpp build runs matrix products on AMX tiles (its system info lists ``AMX_INT8 = 1``).

    llama.cpp compiles the AMX backend only when the compiler targets AMX (a native build on an AMX CPU), and then
    puts every weight it can in an AMX buffer; the line says so whatever the model."""
    return bool(_AMX_IN_BUILD.search(system_info))


def choose_extra_buffer_types(system_info: str, setting: str = "auto") -> tuple[bool, str]:
    """Whether llama.cpp may load weights into its extra CPU buffer types, and why: the one place that decides.

    Extra buffer types are where llama.cpp repacks weights for faster CPU kernels: AMX tiles first, then REPACK
    (interleaved Q4_0, Q4_K, Q5_K, Q6_K, IQ4_NL, Q8_0 blocks). The AMX backend segfaults in
    ``ggml_backend_amx_mul_mat`` on some Sapphire Rapids machines (llama.cpp issue 20824, closed without a fix)
    and computes garbage for Q4_0 / Q4_1 (llama.cpp PR 16315); our default model is Q4_1. So ``auto`` turns the
    extra buffer types off when the build has AMX, and leaves them on (REPACK) everywhere else: unchanged loading there.
    ``on`` / ``off`` force either (config key ``llama_cpp.extra_buffer_types``), for a llama.cpp with the fix."""
    if setting not in EXTRA_BUFFER_TYPE_SETTINGS:
        raise ConfigError(
            f"llama_cpp.extra_buffer_types is {setting!r}: use one of {', '.join(EXTRA_BUFFER_TYPE_SETTINGS)}"
        )
    if setting == "on":
        return True, "on (llama_cpp.extra_buffer_types: on): AMX and REPACK buffers allowed"
    if setting == "off":
        return False, "off (llama_cpp.extra_buffer_types: off): weights stay in plain CPU buffers"
    if build_has_amx(system_info):
        return False, (
            "auto: this llama.cpp build has the AMX backend (AMX_INT8 = 1), which crashes or computes wrong "
            "results on some CPUs (llama.cpp issue 20824, PR 16315): weights stay in plain CPU buffers, no AMX or "
            "REPACK (llama_cpp.extra_buffer_types: on allows them)"
        )
    return True, "auto: no AMX in this llama.cpp build: REPACK buffers allowed"


def llama_system_info() -> str:
    """llama.cpp's build features (``CPU : AVX2 = 1 | ... | REPACK = 1 |``); needs no model loaded."""
    import llama_cpp  # not at module load: a missing or broken build must not stop the import (preflight says so)

    return llama_cpp.llama_print_system_info().decode(errors="replace").strip()


@contextlib.contextmanager
def _model_params_with(llama_cpp_module, **fields):
    """Llama() has no argument for some llama_model_params fields (use_extra_bufts): it fills its params from
    ``llama_model_default_params()``, looked up on the low-level module at call time, so that function is wrapped
    for the duration of one load. The caller checks the loaded model's params afterwards."""
    low = llama_cpp_module.llama_cpp
    default_params = low.llama_model_default_params

    def with_fields():
        params = default_params()
        for name, value in fields.items():
            setattr(params, name, value)
        return params

    low.llama_model_default_params = with_fields
    try:
        yield
    finally:
        low.llama_model_default_params = default_params


# How calls decoded together keep their KV cache (config ``llama_cpp.kv_cache``; values always f16, a quantized V needs
# flash attention, slower on the CPU). shared-q8_0: one unified cache, the prompt's cells once for every sequence,
# keys in q8_0 (whose kernels batch queries; a unified f16 cache costs more than copies of the prompt). streams-f16:
# a KV stream per sequence with its own copy of the prompt, f16 keys: medsyn's layout before (docs/performance.md).
KV_CACHE_LAYOUTS = {"shared-q8_0": (True, "GGML_TYPE_Q8_0"), "streams-f16": (False, "GGML_TYPE_F16")}


def kv_cache_layout(llama_cpp_module, name: str) -> tuple[bool, int]:
    """(unified, ggml type id of the keys) of a ``llama_cpp.kv_cache`` value."""
    if name not in KV_CACHE_LAYOUTS:
        raise ConfigError(f"llama_cpp.kv_cache is {name!r}: use one of {', '.join(KV_CACHE_LAYOUTS)}")
    unified, type_k = KV_CACHE_LAYOUTS[name]
    return unified, getattr(llama_cpp_module, type_k)


class LlamaBackend:
    """One loaded GGUF. One per job: llama-cpp-python objects are not shared between threads or jobs.

    Seeds are per call (each sequence's sampler chain gets its own), so the context itself takes none.
    """

    def __init__(self, model_path: str, n_ctx: int, n_threads: int, n_gpu_layers: int = 0, model_id: str = "",
                 extra_buffer_types: str = "auto", kv_cache: str = "streams-f16"):
        """``kv_cache``: the KV cache's layout and key type (``KV_CACHE_LAYOUTS``); the workflow passes the
        config's (default shared-q8_0), the default here is llama.cpp's own f16 keys."""
        import llama_cpp  # as in llama_system_info

        check_llama_cpp_version(llama_cpp.__version__)
        require_gpu_offload(model_id or model_path, n_gpu_layers, bool(llama_cpp.llama_supports_gpu_offload()))
        self.lc = llama_cpp
        if not Path(model_path).is_file():
            raise ModelError(f"model file not found: {model_path}")
        check_gguf(Path(model_path))
        self.kv_unified, type_k = kv_cache_layout(llama_cpp, kv_cache)
        self.extra_buffer_types, self.extra_buffer_types_reason = choose_extra_buffer_types(
            llama_system_info(), extra_buffer_types
        )
        try:
            with _model_params_with(llama_cpp, use_extra_bufts=self.extra_buffer_types):
                self.llm = llama_cpp.Llama(
                    model_path=model_path,
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    n_gpu_layers=n_gpu_layers,
                    type_k=type_k,
                    verbose=False,
                )
        except ValueError as exc:  # llama.cpp: "Failed to load model from file"
            size = Path(model_path).stat().st_size
            raise ModelError(
                f"llama.cpp cannot load model file {model_path} ({size:,} bytes): {exc}; the file is truncated or "
                "corrupt: delete it and rerun prepare_model (its sha256 is checked there)"
            ) from None
        if bool(self.llm.model_params.use_extra_bufts) != self.extra_buffer_types:
            raise ModelError(
                f"llama-cpp-python {llama_cpp.__version__} loaded {model_path} with use_extra_bufts="
                f"{bool(self.llm.model_params.use_extra_bufts)}, not {self.extra_buffer_types} as medsyn asked "
                "(src/medsyn/llm/backend.py, _model_params_with): check the backend against this release"
            )
        self.n_ctx = n_ctx
        self.kv_cache = kv_cache
        self.n_batch = self.llm.n_batch  # most tokens one llama_decode takes
        self.n_seq = 1  # sequences the context holds (use_sequences)
        self.stream_cells = n_ctx  # KV cells each sequence may use (use_sequences)
        self.prompt_cells = 0  # of them, the prompt's, shared by the sequences (use_sequences)
        self.decode_calls = 0  # llama_decode calls so far (decode steps: the benchmark reads it)
        self.n_vocab = self.llm.n_vocab()
        self.vocab = self.llm._model.vocab
        self.prompt_eval_seconds = 0.0  # time spent evaluating prompts (the benchmark reads it)
        self._prompt_state = None  # (tokens, state buffer, its size, logits of the last prompt token)
        self._pieces: dict[int, bytes] = {}
        self._grammar_candidates: dict[str, np.ndarray | None] = {}  # grammar text -> grammar_candidates()

    # -- the context -----------------------------------------------------------------------------------------

    @property
    def ctx(self):
        """The raw ``llama_context *`` (changes when ``use_sequences`` makes a new context)."""
        return self.llm._ctx.ctx

    @property
    def memory(self):
        return self.lc.llama_get_memory(self.ctx)

    def use_sequences(self, n_seq: int, stream_cells: int | None = None, prompt_cells: int = 0) -> None:
        """Make the context hold ``n_seq`` sequences decoded together, each using at most ``stream_cells`` KV cells
        (its prompt and completion; default: n_ctx / n_seq), the first ``prompt_cells`` of them the prompt every
        sequence shares. A sequence never gets more than n_ctx cells: n_ctx is the most one call uses.

        The prompt is evaluated once into sequence 0 and ``copy_sequence`` gives it to the others. With the shared
        layout (``kv_cache`` shared-q8_0) that tags the prompt's cells with every sequence: one cache of
        prompt_cells + n_seq x the completion cells. With streams (streams-f16) the cache is split into one stream
        per sequence (``kv_unified`` false) and the copy is a real one: n_seq x stream_cells.
        """
        cells = min(stream_cells or self.n_ctx // n_seq, self.n_ctx)
        prompt_cells = min(prompt_cells, cells)
        if (n_seq, cells, prompt_cells) == (self.n_seq, self.stream_cells, self.prompt_cells):
            return
        from llama_cpp import _internals  # as in llama_system_info

        params = self.llm.context_params
        params.n_seq_max = n_seq
        params.kv_unified = self.kv_unified
        total = prompt_cells + n_seq * (cells - prompt_cells) if self.kv_unified else n_seq * cells
        params.n_ctx = -(-total // 256) * 256  # llama.cpp pads the cache to 256 cells
        try:
            context = _internals.LlamaContext(model=self.llm._model, params=params, verbose=False)
        except ValueError as exc:
            raise ModelError(f"llama.cpp cannot make a context for {n_seq} parallel sequences of {cells} cells "
                             f"({self.kv_cache}): {exc}") from None
        self.llm._ctx.close()
        self.llm._ctx = context
        self.n_seq = n_seq
        self.stream_cells = cells
        self.prompt_cells = prompt_cells
        self._prompt_state = None

    def restore_prompt(self, tokens: list[int]) -> np.ndarray:
        """Put the context in the state right after ``tokens`` (in sequence 0); returns that state's logits.

        The prompt is evaluated once (in batches of n_batch) and its state saved; later calls restore it, so a
        call's text depends only on (prompt, seed), never on the calls before it, and a run resumed from a
        checkpoint is byte-identical to an uninterrupted one. The KV cache of the prompt (a few MB) is saved and
        restored with llama.cpp's ``llama_state_get_data`` / ``llama_state_set_data`` (llama-cpp-python's
        ``save_state`` would also copy its n_batch x n_vocab score buffer, 300 MB for Qwen, on every call). That
        state does not bring back the logits, so the last prompt token's logits are kept here (read-only).
        """
        lc = self.lc
        ctx = self.ctx
        if self._prompt_state is None or self._prompt_state[0] != tokens:
            self._prompt_state = None
            started = time.perf_counter()
            # all sequences' cells go: Llama.eval's own clean-up removes sequence 0 only, and llama_state_get_data
            # would save the other sequences' cells of an earlier prompt with this one
            lc.llama_memory_clear(self.memory, True)
            self.llm.reset()
            self.llm.eval(tokens)
            self.prompt_eval_seconds += time.perf_counter() - started
            size = lc.llama_state_get_size(ctx)
            buf = (ctypes.c_uint8 * size)()
            n = lc.llama_state_get_data(ctx, buf, size)
            logits = self.logits(-1).copy()
            logits.flags.writeable = False
            self._prompt_state = (list(tokens), buf, n, logits)
        _, buf, n, logits = self._prompt_state
        if lc.llama_state_set_data(ctx, buf, n) != n:
            raise GenerationError("llama.cpp could not restore the prompt state")
        self.llm.n_tokens = len(tokens)
        return logits

    def copy_sequence(self, src: int, dst: int) -> None:
        """Sequence ``dst`` gets ``src``'s cells: the same cells, tagged with both (shared layout), or a copy in its
        own stream (streams)."""
        self.lc.llama_memory_seq_cp(self.memory, src, dst, -1, -1)

    def remove_from(self, seq: int, pos: int) -> None:
        """Forget sequence ``seq``'s cells from position ``pos`` on (a rolled-back row)."""
        if not self.lc.llama_memory_seq_rm(self.memory, seq, pos, -1):
            raise GenerationError(f"llama.cpp could not remove sequence {seq}'s cells from position {pos}")

    def decode(self, batch) -> None:
        """Evaluate a ``llama_batch`` (see ``medsyn.llm.decode.TokenBatch``)."""
        self.decode_calls += 1
        code = self.lc.llama_decode(self.ctx, batch)
        if code != 0:
            raise GenerationError(f"llama_decode returned {code}")

    def logits(self, index: int) -> np.ndarray:
        """The logits of batch entry ``index`` of the last decode (-1: the last entry), as a writable view."""
        return np.ctypeslib.as_array(self.lc.llama_get_logits_ith(self.ctx, index), shape=(self.n_vocab,))

    # -- tokens and text -------------------------------------------------------------------------------------

    @property
    def chat_template(self) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template")

    @property
    def bos_token(self) -> int:
        return self.llm.token_bos()

    @property
    def eos_token(self) -> int:
        return self.llm.token_eos()

    def is_end_of_generation(self, token: int) -> bool:
        return bool(self.lc.llama_vocab_is_eog(self.vocab, token))

    def special_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        """Tokens of ``text`` (special tokens parsed); a BOS first when the model wants one and ``add_bos``."""
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        bos = self.llm.token_bos()
        wants_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "true") != "false"
        if add_bos and wants_bos and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens = [bos] + tokens
        return tokens

    def tokens_of(self, data: bytes) -> list[int]:
        """Tokens of generated text ``data`` (no BOS, special tokens not parsed: data is never a control token);
        their pieces join to ``data`` exactly, else an error (a tokenizer that adds a space prefix to fragments)."""
        tokens = self.llm.tokenize(data, add_bos=False, special=False)
        if b"".join(self.piece(t) for t in tokens) != data:
            raise GenerationError(f"the tokenizer does not spell {data!r} back exactly: jump-forward cannot force it")
        return tokens

    def piece(self, token: int) -> bytes:
        """The bytes one token decodes to (cached)."""
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self.llm.detokenize([token])
        return piece

    def pieces(self) -> dict[bytes, int]:
        """Every token's bytes -> its id (the first id for a repeated piece); built once, for logit steering."""
        if not hasattr(self, "_piece_ids"):
            ids: dict[bytes, int] = {}
            for token in range(self.n_vocab):
                ids.setdefault(self.piece(token), token)
            self._piece_ids = ids
        return self._piece_ids

    def grammar_candidates(self, grammar_text: str) -> np.ndarray | None:
        """Ids of the tokens a grammar could ever accept: those made only of bytes of its terminals' characters
        (``medsyn.grammar.grammar_alphabet``), and the end-of-generation tokens; None when the grammar's characters
        cannot be read (then the whole vocabulary is used). Built once per grammar."""
        cache = self._grammar_candidates
        if grammar_text not in cache:
            chars = grammar_alphabet(grammar_text)
            ids = None
            if chars is not None:
                allowed = set("".join(chars).encode("utf-8"))
                ids = np.array([t for t in range(self.n_vocab)
                                if set(self.piece(t)) <= allowed or self.is_end_of_generation(t)], dtype=np.intc)
            cache[grammar_text] = ids
        return cache[grammar_text]

    def detokenize(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="ignore")

    def system_info(self) -> dict:
        return {
            "llama_cpp_python": self.lc.__version__,
            "system_info": llama_system_info(),
            "gpu_offload_supported": bool(self.lc.llama_supports_gpu_offload()),
            "extra_buffer_types": self.extra_buffer_types,
            "extra_buffer_types_reason": self.extra_buffer_types_reason,
            "kv_cache": self.kv_cache,
        }

    def greedy(self, text: str, n_tokens: int) -> tuple[str, float]:
        """The ``n_tokens`` most likely tokens after ``text`` (no chat template, no BOS rules beyond the model's),
        as text, and the smallest gap between the first and second logit on the way (how far the text is from
        flipping on a backend that rounds differently). Used by the backend preflight."""
        self.lc.llama_memory_clear(self.memory, True)
        self.llm.reset()
        self.llm.eval(self.tokenize(text))
        out, margin = [], float("inf")
        for _ in range(n_tokens):
            logits = self.logits(-1)
            second, first = np.argpartition(logits, -2)[-2:]
            if logits[second] > logits[first]:
                first, second = second, first
            margin = min(margin, float(logits[first] - logits[second]))
            if self.is_end_of_generation(int(first)):
                break
            out.append(int(first))
            self.llm.eval([int(first)])
        self._prompt_state = None  # the context no longer holds a saved prompt
        return self.detokenize(out), margin

    # -- generation ------------------------------------------------------------------------------------------

    def complete_many(self, prompt_tokens, calls, grammar_text, max_tokens, settings, hooks=None, language=None):
        """Decode ``calls`` (``medsyn.llm.decode.Call``) together after ``prompt_tokens``; see ``BatchDecoder``."""
        return BatchDecoder(self, settings, grammar_text, max_tokens, hooks, language).run(prompt_tokens, calls)
