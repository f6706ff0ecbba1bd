"""Generation with the real SmolLM2-135M GGUF (few rows): grammar validity, templates, seeds, context checks."""

import json

import pytest

from conftest import generation_settings, spec_path
from medsyn.run import Run
from medsyn.data import load_real
from medsyn.errors import GenerationError
from medsyn.generate import run_generation
from medsyn.llm.backend import LlamaBackend
from medsyn.llm.chat_template import render_chat_template
from medsyn.parse import parse_calls
from medsyn.prompts import build_prompt
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout

pytestmark = pytest.mark.llm


def settings(mode="grammar", **kw):
    return generation_settings(mode, **{"target_rows": 5, "max_calls": 1, "free_max_tokens": 200, **kw})


@pytest.fixture(scope="module")
def backend(smollm2_path):
    return LlamaBackend(smollm2_path, n_ctx=4096, n_threads=2)


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    train, _ = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    return spec, train


def _run(backend, spec, prompt, st, path):
    run = Run("smollm2", "pima", prompt.prompt_type, st.mode, "default", 1)
    run_generation(backend, spec, prompt, "template", st, run, path, log=lambda m: None)
    with open(path) as fh:
        return [json.loads(line) for line in fh]


def test_grammar_rows_are_all_valid(backend, pima, tmp_path):
    spec, train = pima
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=3, rows_per_call=5)
    calls = _run(backend, spec, prompt, settings(), tmp_path / "raw.jsonl")
    assert calls[0]["finish_reason"] == "stop"
    assert calls[0]["prompt_tokens"] > 100 and calls[0]["completion_tokens"] > 20
    _, report = parse_calls(calls, spec, prompt.example_rows, prompt.user)
    assert report["candidate_rows"] == 5  # the grammar asks for exactly 5 rows
    assert report["spec_valid_share"] == 1.0
    # only new tokens are kept: the prompt's examples are not echoed into the output
    assert prompt.prefill not in calls[0]["text"]


def test_same_seed_same_text(smollm2_path, pima, tmp_path):
    spec, train = pima
    prompt = build_prompt(spec, train, "D", seed=1, n_examples=0, rows_per_call=3)
    texts = []
    for i in range(2):
        fresh = LlamaBackend(smollm2_path, n_ctx=4096, n_threads=2)
        texts.append(_run(fresh, spec, prompt, settings(), tmp_path / f"r{i}.jsonl")[0]["text"])
    assert texts[0] == texts[1]


def test_free_mode_runs_without_grammar(backend, pima, tmp_path):
    spec, train = pima
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=3, rows_per_call=5)
    calls = _run(backend, spec, prompt, settings("free"), tmp_path / "free.jsonl")
    assert calls[0]["completion_tokens"] <= 200
    parse_calls(calls, spec, prompt.example_rows, prompt.user)  # never raises on free text


def test_prompt_longer_than_context_fails_clearly(smollm2_path, pima, tmp_path):
    spec, train = pima
    small = LlamaBackend(smollm2_path, n_ctx=256, n_threads=2)
    prompt = build_prompt(spec, train, "C", seed=1, n_examples=3, rows_per_call=5)
    with pytest.raises(GenerationError, match=r"more than the model's n_ctx=256; raise n_ctx"):
        _run(small, spec, prompt, settings(), tmp_path / "x.jsonl")


def test_gguf_chat_template_is_used(backend):
    text = render_chat_template(backend.chat_template, [{"role": "user", "content": "hi"}], "", "")
    assert "<|im_start|>user\nhi<|im_end|>" in text and text.endswith("<|im_start|>assistant\n")
