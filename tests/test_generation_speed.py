"""The fast generation path (issue 7) with the real SmolLM2 GGUF: the prompt's KV state reused across calls without
making a call depend on the calls before it, the grammar checked on the sampled token first (full-vocabulary
constraint only on rejection) and still producing only valid rows, the grammar-first path kept for repeat
penalties, and calls decoded together as sequences of one batch (parallel_sequences)."""

import json

import pytest

from conftest import generation_settings, spec_path
from medsyn.run import Run
from medsyn.data import load_real
from medsyn.generate import run_generation
from medsyn.grammar import row_regex
from medsyn.llm.backend import LlamaBackend
from medsyn.llm.decode import Call
from medsyn.prompts import build_prompt
from medsyn.row_language import RowLanguage
from medsyn.seeds import derive_seed
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout

pytestmark = pytest.mark.llm


def _settings(mode="grammar", **kw):
    return generation_settings(mode, **{"target_rows": 100, "max_calls": 2, "free_max_tokens": 60, **kw})


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    train, _ = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=3)
    return spec, prompt


def _texts(backend, spec, prompt, st, path):
    run = Run("smollm2", "pima", "A", st.mode, "default", 1)
    run_generation(backend, spec, prompt, "template", st, run, path, log=lambda m: None)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_call_does_not_depend_on_earlier_calls(smollm2_path, pima, tmp_path):
    """Call 1 from a backend that ran call 0 == call 1 from a fresh backend (what a resumed run does)."""
    spec, prompt = pima
    backend = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    calls = _texts(backend, spec, prompt, _settings(), tmp_path / "a.jsonl")
    assert [c["finish_reason"] for c in calls] == ["stop", "stop"]
    fresh = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    result = _complete_call(fresh, spec, prompt, 1)
    assert (result.text, result.finish) == (calls[1]["text"], calls[1]["finish_reason"])
    assert result.completion_tokens == calls[1]["completion_tokens"]


def _complete_call(backend, spec, prompt, call):
    from medsyn.generate import row_token_budget
    from medsyn.llm.chat_template import build_prompt_text

    st = _settings()
    text = build_prompt_text(prompt, "template", backend.chat_template, backend.special_text(backend.bos_token),
                             backend.special_text(backend.eos_token), True)
    tokens = backend.tokenize(text)
    calls = [Call(derive_seed("pima", "A", "grammar", 1, call))]
    return backend.complete_many(tokens, calls, prompt.grammar,
                                 row_token_budget(backend, prompt, prompt.rows_per_call), st,
                                 language=RowLanguage(prompt.row_spec(spec)))[0]


def _assert_grammar_rows(calls, spec, prompt):
    """Every call stopped by itself after exactly rows_per_call rows, each in the grammar's language."""
    pattern = row_regex(spec)
    for call in calls:
        assert call["finish_reason"] == "stop"
        lines = call["text"].split("\n")
        assert lines[-1] == "" and len(lines) == prompt.rows_per_call + 1
        assert all(pattern.fullmatch(line) for line in lines[:-1]), call["text"]


@pytest.mark.parametrize("repeat_penalty", [1.0, 1.1])
def test_grammar_rows_match_the_spec_language(smollm2_path, pima, tmp_path, repeat_penalty):
    """Sampled-token-first (1.0) and grammar-first (repeat penalty) paths both give exactly the grammar's rows."""
    spec, prompt = pima
    backend = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    calls = _texts(backend, spec, prompt, _settings(repeat_penalty=repeat_penalty), tmp_path / "g.jsonl")
    _assert_grammar_rows(calls, spec, prompt)


@pytest.mark.parametrize("repeat_penalty", [1.0, 1.1])
def test_grammar_over_its_candidate_tokens_samples_what_the_whole_vocabulary_does(smollm2_path, pima, tmp_path,
                                                                                     repeat_penalty):
    """Where the grammar is applied to the vocabulary (on rejection; every token with a repeat penalty), only the
    tokens made of its characters are given to it: the same bytes as with the whole vocabulary, and far fewer
    candidates."""
    spec, prompt = pima
    st = _settings(repeat_penalty=repeat_penalty, max_calls=3)
    fast = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    whole = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    whole.grammar_candidates = lambda grammar_text: None  # the whole vocabulary, as before
    calls = _texts(fast, spec, prompt, st, tmp_path / "fast.jsonl")
    assert [c["text"] for c in calls] == [c["text"] for c in _texts(whole, spec, prompt, st, tmp_path / "whole.jsonl")]
    candidates = fast.grammar_candidates(prompt.grammar)
    assert fast.eos_token in set(candidates.tolist()) and len(candidates) < fast.n_vocab / 4


def test_free_mode_stops_at_the_token_budget(smollm2_path, pima, tmp_path):
    spec, prompt = pima
    backend = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)
    calls = _texts(backend, spec, prompt, _settings("free", max_calls=1), tmp_path / "f.jsonl")
    assert calls[0]["completion_tokens"] <= 60
    assert calls[0]["finish_reason"] in ("stop", "length")


@pytest.mark.parametrize("kv_cache", ["shared-q8_0", "streams-f16"])
@pytest.mark.parametrize("repeat_penalty", [1.0, 1.1])
def test_calls_decoded_together_are_valid_and_reproducible(smollm2_path, pima, tmp_path, repeat_penalty, kv_cache):
    """Four calls (the default generation.parallel_sequences) as sequences of one batch: each its own seed (no two
    alike), every row in the grammar's language, and the same config and seed give the same bytes from a fresh
    backend; with the prompt's cells shared by the calls (the default llama_cpp.kv_cache) and with a copy each."""
    from conftest import repo_config

    parallel = repo_config()["generation"]["parallel_sequences"]
    assert parallel == 4
    spec, prompt = pima
    st = _settings(max_calls=parallel, parallel_sequences=parallel, repeat_penalty=repeat_penalty)
    runs = []
    for name in ("a", "b"):
        backend = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1, kv_cache=kv_cache)
        runs.append(_texts(backend, spec, prompt, st, tmp_path / f"{name}.jsonl"))
    first, second = runs
    assert [c["parallel"] for c in first] == [parallel] * parallel
    assert [(c["seed"], c["text"]) for c in first] == [(c["seed"], c["text"]) for c in second]
    assert len({c["text"] for c in first}) == parallel
    _assert_grammar_rows(first, spec, prompt)


@pytest.mark.parametrize("kv_cache", ["shared-q8_0", "streams-f16"])
def test_the_context_is_sized_for_the_calls_decoded_together(smollm2_path, pima, tmp_path, kv_cache):
    """Each call gets prompt + completion budget cells (rounded to 256): a prompt longer than n_ctx / 4 still
    decodes the 4 calls together, where a context split from n_ctx would have held one. Shared: one cache with the
    prompt's cells once and 4 completions, keys in q8_0; streams: 4 streams of prompt + completion, f16 keys."""
    import llama_cpp

    from medsyn.generate import parallel_sequences, stream_cells

    assert parallel_sequences(_settings(parallel_sequences=8)) == 8
    assert stream_cells(700, 300) == 1024 and stream_cells(100, 10) == 256
    spec, prompt = pima
    backend = LlamaBackend(smollm2_path, n_ctx=1024, n_threads=1, kv_cache=kv_cache)
    st = _settings(max_calls=4, parallel_sequences=4)
    calls = _texts(backend, spec, prompt, st, tmp_path / "c.jsonl")
    n_prompt = calls[0]["prompt_tokens"]
    assert n_prompt > 1024 // 4  # a context split evenly into 4 streams could not hold even the prompt
    assert [c["parallel"] for c in calls] == [4] * 4
    params = backend.llm._ctx.params
    assert backend.n_seq == 4 and params.n_seq_max == 4
    assert backend.stream_cells <= 1024 and backend.prompt_cells == n_prompt
    if kv_cache == "shared-q8_0":
        completion = backend.stream_cells - n_prompt
        assert params.kv_unified and params.type_k == llama_cpp.GGML_TYPE_Q8_0
        assert params.n_ctx == -(-(n_prompt + 4 * completion) // 256) * 256 < 4 * backend.stream_cells
    else:
        assert not params.kv_unified and params.type_k == llama_cpp.GGML_TYPE_F16
        assert params.n_ctx == 4 * backend.stream_cells
    _assert_grammar_rows(calls, spec, prompt)


def test_an_unknown_kv_cache_names_the_setting(smollm2_path):
    from medsyn.errors import ConfigError

    with pytest.raises(ConfigError, match=r"llama_cpp.kv_cache is 'q4_0': use one of shared-q8_0, streams-f16"):
        LlamaBackend(smollm2_path, n_ctx=256, n_threads=1, kv_cache="q4_0")
