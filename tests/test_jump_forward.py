"""Jump-forward decoding (issue 29): the row automaton (``medsyn.row_language``) against llama.cpp's own grammar
sampler, and the decoder's forced tokens with the real SmolLM2 GGUF: same language, fewer decode steps, seeded.

The oracle is llama.cpp: at every prefix of a row, the bytes the automaton allows next must be exactly the
single-byte tokens llama.cpp's grammar sampler (over the same GBNF) accepts there. A forced text is then right by
construction: it is the bytes where that set has one member."""

import ctypes
import json
import math
import random

import pytest

from conftest import generation_settings, spec_path, switches
from medsyn.data import load_real
from medsyn.generate import RealRows, run_generation
from medsyn.grammar import row_regex, spec_to_gbnf
from medsyn.llm.backend import LlamaBackend
from medsyn.prompts import build_prompt
from medsyn.recipes.rowtext import row_texts
from medsyn.row_language import DEAD, RowLanguage
from medsyn.run import Run
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout

DATASETS = ["pima", "breast_cancer", "cirrhosis"]


def test_forced_text_of_a_unit_interval_column_and_the_last_separator():
    """Breast cancer's smoothness lies in [0, 1): after its column's separator '0.' is forced; a row's last value
    that cannot go on forces the line break, and the automaton starts the next row after it."""
    spec = load_spec(spec_path("breast_cancer"))
    language = RowLanguage(spec)
    names = spec.column_names
    k = names.index("mean smoothness")
    row = row_texts(load_real(spec).head(1), spec)[0]
    fields = row.split(",")
    before = ",".join(fields[:k]) + ","
    assert language.forced(language.advance(language.start, before.encode())) == b"0."
    assert names[-1] == "diagnosis"  # the last column is a one-letter level (B / M): the row can only end
    state = language.advance(language.start, row.encode())
    assert language.forced(state) == b"\n"
    assert language.advance(state, b"\n") == language.start
    assert language.advance(language.start, b"x") == DEAD and language.forced(DEAD) == b""


def test_a_level_is_forced_once_its_first_bytes_single_it_out():
    spec = load_spec(spec_path("cirrhosis"))
    language = RowLanguage(spec)
    drug = spec.column_names.index("Drug")
    row = row_texts(load_real(spec).head(1), spec)[0].split(",")
    state = language.advance(language.start, (",".join(row[:drug]) + ",D").encode())
    assert language.forced(state) == b"-penicillamine,"


def _single_byte_tokens(backend) -> dict[int, int]:
    """byte -> a token whose piece is exactly that byte (printable ASCII and the line break)."""
    pieces = backend.pieces()
    return {b: pieces[bytes([b])] for b in list(range(32, 127)) + [10] if bytes([b]) in pieces}


def _grammar_allowed(lc, grammar, tokens: dict[int, int]) -> set[int]:
    n = len(tokens)
    data = (lc.llama_token_data * n)()
    items = list(tokens.items())
    for j, (_, token) in enumerate(items):
        data[j].id, data[j].logit, data[j].p = token, 1.0, 0.0
    array = lc.llama_token_data_array(data, n, -1, False)
    lc.llama_sampler_apply(grammar, ctypes.byref(array))
    return {byte for j, (byte, _) in enumerate(items) if data[j].logit != -math.inf}


@pytest.mark.llm
@pytest.mark.parametrize("dataset", DATASETS)
def test_the_automaton_allows_exactly_what_llama_cpps_grammar_allows(smollm2_path, dataset):
    """Real rows and random walks through the language: at every byte, the same allowed set as llama.cpp."""
    backend = LlamaBackend(smollm2_path, n_ctx=256, n_threads=1)
    lc = backend.lc
    spec = load_spec(spec_path(dataset))
    language = RowLanguage(spec)
    tokens = _single_byte_tokens(backend)
    assert {ord(c) for c in "0123456789.,-\n"} <= set(tokens)
    rng = random.Random(1)
    rows = [r + "\n" for r in row_texts(load_real(spec).sample(5, random_state=1), spec)]
    for _ in range(5):  # random walks: every allowed byte equally likely, so rare branches (NA, signs) are taken
        state, text = language.start, b""
        while not text.endswith(b"\n"):
            byte = rng.choice(sorted(language.allowed(state)))
            text += bytes([byte])
            state = language.advance(state, bytes([byte]))
        rows.append(text.decode())
    checked = 0
    for row in rows:
        grammar = lc.llama_sampler_init_grammar(backend.vocab, spec_to_gbnf(spec, 1).encode(), b"root")
        state = language.start
        try:
            for byte in row.encode():
                expected = _grammar_allowed(lc, grammar, tokens)
                # these specs are ASCII, so every byte the automaton allows has a one-byte token to ask llama.cpp with
                assert language.allowed(state) == expected, (row, state)
                forced = language.forced(state)
                assert bool(forced) == (len(expected) == 1), (row, state, forced)
                if forced:
                    assert forced[0] == byte
                lc.llama_sampler_accept(grammar, tokens[byte])
                state = language.advance(state, bytes([byte]))
                checked += 1
        finally:
            lc.llama_sampler_free(grammar)
        assert state == language.start  # the row ended where the grammar's row ends
    assert checked > 200


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    train, holdout = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=3)
    return spec, train, holdout, prompt


def _run(backend, pima, settings, path):
    spec, train, holdout, prompt = pima
    run = Run("smollm2", "pima", "A", "grammar", "default", 1)
    run_generation(backend, spec, prompt, "template", settings, run, path, log=lambda m: None,
                   real=RealRows(train, holdout))
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.llm
@pytest.mark.parametrize("hooks", [False, True])
def test_forced_tokens_give_grammar_rows_in_fewer_decode_steps(smollm2_path, pima, tmp_path, hooks):
    """With and without the row hooks (novelty, outside draws, steering): every row in the language, forced tokens
    counted, fewer llama_decode calls per completion token than sampling every token, and the same bytes again
    from a fresh backend."""
    spec, _, _, prompt = pima
    recipe = dict(examples=switches("examples", per_call=True, stratify=True),
                  novelty=switches("novelty", reject=("earlier", "examples", "train")),
                  outside=switches("outside", method="marginal", columns=1),
                  steering=switches("steering", strength=1.0)) if hooks else {}
    steps = {}
    for jump in (True, False, True):
        backend = LlamaBackend(smollm2_path, n_ctx=2048, n_threads=1)
        st = generation_settings("grammar", target_rows=6, max_calls=2, parallel_sequences=2, temperature=1.0,
                                 top_p=1.0, jump_forward=jump, **recipe)
        calls = _run(backend, pima, st, tmp_path / f"{jump}.jsonl")
        pattern = row_regex(prompt.row_spec(spec))
        rows = [line for c in calls for line in c["text"].split("\n")[:-1]]
        assert rows and all(pattern.fullmatch(r) for r in rows)
        tokens = sum(c["completion_tokens"] for c in calls)
        if jump:
            forced = sum(c["forced_tokens"] for c in calls)
            assert 0 < forced < tokens
            if jump in steps:  # the second run with jump-forward: byte-identical to the first
                assert [c["text"] for c in calls] == steps[jump][1]
        else:
            assert all("forced_tokens" not in c for c in calls)
        steps[jump] = (backend.decode_calls / tokens, [c["text"] for c in calls])
    assert steps[True][0] < 0.8 * steps[False][0]
