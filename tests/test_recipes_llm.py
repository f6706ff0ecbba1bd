"""Generation recipes with the real SmolLM2 GGUF (few rows): per-call examples, decode-time novelty with rollback,
outside draws forced into rows, marginal steering; every row still in the grammar's language, runs reproducible
and resumable."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import generation_settings, spec_path, switches
from medsyn import checkpoint
from medsyn.run import Run
from medsyn.data import load_real
from medsyn.generate import RealRows, row_token_budget, run_generation
from medsyn.grammar import row_regex
from medsyn.llm.backend import LlamaBackend
from medsyn.llm.chat_template import build_prompt_text
from medsyn.llm.decode import Call
from medsyn.prompts import build_prompt
from medsyn.recipes.rowtext import row_text
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout

pytestmark = pytest.mark.llm

ORDER = ["Glucose", "Outcome"]


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    train, holdout = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=4, column_order=ORDER)
    return spec, train, holdout, prompt


@pytest.fixture(scope="module")
def backend(smollm2_path):
    return LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1)


def _all_on(**kw):
    return generation_settings("grammar", target_rows=100, max_calls=4, temperature=1.0, top_p=1.0,
                               parallel_sequences=2, examples=switches("examples", per_call=True, stratify=True),
                               novelty=switches("novelty", reject=("earlier", "examples", "train", "near")),
                               outside=switches("outside", method="copula", columns=2),
                               steering=switches("steering", strength=1.0), **kw)


def _run(backend, pima, settings, path, ckpt=None):
    spec, train, holdout, prompt = pima
    fingerprint = "f" if ckpt else ""
    run = Run("smollm2", "pima", "A", "grammar", "default", 1)
    run_generation(backend, spec, prompt, "template", settings, run, path, log=lambda m: None, checkpoint=ckpt,
                   fingerprint=fingerprint, real=RealRows(train, holdout))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_recipe_at_once_gives_new_valid_rows(backend, pima, tmp_path):
    spec, train, _, prompt = pima
    order = spec.in_order(ORDER)
    calls = _run(backend, pima, _all_on(), tmp_path / "a.jsonl")
    pattern = row_regex(order)
    train_rows = {row_text(r, order) for _, r in train.iterrows()}
    rows = []
    for call in calls:
        assert len(call["example_row_ids"]) == 2 and len(call["example_rows"]) == 2
        lines = call["text"].split("\n")[:-1]
        assert lines and all(pattern.fullmatch(line) for line in lines), call["text"]
        assert not set(lines) & set(call["example_rows"])  # no row copies what its call showed
        rows += lines
    assert len(set(rows)) == len(rows)  # no duplicates in the run
    assert not set(rows) & train_rows  # no copy of any train patient
    assert len({tuple(c["example_row_ids"]) for c in calls}) == len(calls)  # fresh examples per call
    assert all("rejected_rows" in c and "decoded_tokens" in c for c in calls)
    assert sum(c["decoded_tokens"] for c in calls) >= sum(c["completion_tokens"] for c in calls)


def test_recipes_are_reproducible_and_resume_byte_identical(smollm2_path, pima, tmp_path):
    first = _run(LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1), pima, _all_on(), tmp_path / "a.jsonl",
                 ckpt=tmp_path / "a.ckpt")
    assert [c["parallel"] for c in first] == [2, 2, 2, 2]
    # a kill after the first group: the checkpoint holds calls 0 and 1; the rerun replays them, decodes the rest
    ckpt = tmp_path / "b.ckpt"
    lines = (tmp_path / "a.ckpt").read_text().splitlines(keepends=True)
    ckpt.write_text("".join(lines[:3]))
    assert [r["call"] for r in checkpoint.read(ckpt, "f")] == [0, 1]
    resumed = _run(LlamaBackend(smollm2_path, n_ctx=4096, n_threads=1), pima, _all_on(), tmp_path / "b.jsonl",
                   ckpt=ckpt)
    assert [c["text"] for c in resumed] == [c["text"] for c in first]
    assert [c["example_row_ids"] for c in resumed] == [c["example_row_ids"] for c in first]


def test_examples_shown_only_in_the_prefill_are_each_calls_only_own_tokens(backend, pima, tmp_path):
    """examples.placement prefill: the rows are written once, as the first rows of the assistant's table; a call's
    own tokens (evaluated per call, after the cached shared part) are exactly its rows; the run stays valid."""
    from medsyn.generate import _Prompts

    spec, train, holdout, prompt = pima
    rows = prompt.example_rows

    def examples(placement):
        return generation_settings("grammar", target_rows=8, max_calls=2, temperature=1.0, top_p=1.0,
                                   examples=switches("examples", per_call=True, placement=placement))

    both = _Prompts(backend, prompt, "template", examples("both"))
    once = _Prompts(backend, prompt, "template", examples("prefill"))
    assert all(both.text.count(r) == 2 and once.text.count(r) == 1 for r in rows)
    assert once.text.endswith("".join(r + "\n" for r in rows)) and not any(r in once.static_text for r in rows)
    assert backend.detokenize(once.suffix(rows)) == "".join(r + "\n" for r in rows)
    assert len(once.suffix(rows)) < len(both.suffix(rows)) - len(backend.tokenize("\n".join(rows), add_bos=False))
    # a mode that does not prefill keeps the rows in the user message (else no call would see them)
    free = _Prompts(backend, prompt, "template", generation_settings("free", examples=switches("examples", 
        per_call=True, placement="prefill")))
    assert all(free.text.count(r) == 1 for r in rows) and free.in_user
    calls = _run(backend, pima, examples("prefill"), tmp_path / "p.jsonl")
    pattern = row_regex(spec.in_order(ORDER))
    for call in calls:
        assert call["prompt_tokens"] == len(once.tokens) + len(once.suffix(call["example_rows"]))
        assert all(pattern.fullmatch(line) for line in call["text"].split("\n")[:-1]), call["text"]


class RejectFirstAttempt:
    """Row hooks that send every row back once (then keep it): exercises the rollback of cells and grammar."""

    max_retries = 3

    def __init__(self):
        self.tried: set[tuple[int, int]] = set()  # (sequence, its row number) sent back once
        self.kept: dict[int, list[str]] = {}

    def row_prefix(self, seq):
        return ""

    def steer(self, seq, row):
        return None

    def judge(self, seq, row):
        key = (seq, len(self.kept.get(seq, [])))
        if key not in self.tried:
            self.tried.add(key)
            return "test"
        return None

    def accepted(self, seq, row):
        self.kept.setdefault(seq, []).append(row)


@pytest.mark.parametrize("jump", [False, True])
def test_rolled_back_rows_are_resampled_in_place(backend, pima, jump):
    """Every first attempt of a row rejected: rolled back (cells, grammar, and with jump-forward the row automaton's
    state) and resampled, so each call still ends with its rows in the language."""
    from medsyn.row_language import RowLanguage

    spec, _, _, prompt = pima
    language = RowLanguage(spec.in_order(ORDER)) if jump else None
    settings = generation_settings("grammar", temperature=1.0, top_p=1.0)
    text = build_prompt_text(prompt, "template", backend.chat_template, backend.special_text(backend.bos_token),
                             backend.special_text(backend.eos_token), True)
    tokens = backend.tokenize(text)
    budget = row_token_budget(backend, prompt, prompt.rows_per_call) * 3
    backend.use_sequences(2)
    hooks = RejectFirstAttempt()
    results = backend.complete_many(tokens, [Call(11), Call(12)], prompt.grammar, budget, settings, hooks, language)
    pattern = row_regex(spec.in_order(ORDER))
    for result in results:
        lines = result.text.split("\n")
        assert result.finish == "stop" and lines[-1] == "" and len(lines) == prompt.rows_per_call + 1
        assert all(pattern.fullmatch(line) for line in lines[:-1]), result.text
        assert result.rejected_rows == {"test": prompt.rows_per_call}
        assert result.decoded_tokens > result.completion_tokens  # the rolled-back attempts were decoded too
    assert [hooks.kept[i] for i in range(2)] == [r.text.split("\n")[:-1] for r in results]
    plain = backend.complete_many(tokens, [Call(11), Call(12)], prompt.grammar, budget, settings, language=language)
    assert [r.text for r in plain] != [r.text for r in results]  # the resampled rows differ from the first tries


def test_default_recipe_writes_signed_values_in_range(backend, tmp_path):
    """A signed float column made from a real one (breast cancer's mean radius as its change from the median, so
    about half the rows are negative), generated with the default recipe (steering, novelty, per-call examples): the
    rows are in the grammar, parse back, stay in range, and some are negative."""
    import dataclasses

    from conftest import repo_config
    from medsyn.config import load_config
    from medsyn.parse import parse_calls
    from medsyn.settings import settings_from_config
    from medsyn.spec import spec_from_dict

    real = load_real(load_spec(spec_path("breast_cancer")))
    frame = pd.DataFrame({"radius change": (real["mean radius"] - real["mean radius"].median()).round(2),
                          "mean texture": real["mean texture"], "diagnosis": real["diagnosis"]})
    assert 0.4 < (frame["radius change"] < 0).mean() < 0.6
    spec = spec_from_dict({
        "name": "radius_change", "title": "Breast masses, radius as change from the median",
        "domain": "breast cancer research", "source": {"csv": None}, "target": "diagnosis",
        "columns": [
            {"name": "radius change", "type": "float", "min": -10, "max": 25, "decimals": 2,
             "definition": "Mean nucleus radius minus the median over all masses (negative: smaller than usual)"},
            {"name": "mean texture", "type": "float", "min": 5, "max": 50, "decimals": 2,
             "definition": "Mean nucleus texture (standard deviation of grey-scale values)"},
            {"name": "diagnosis", "type": "categorical", "levels": ["M", "B"], "level_meanings":
             {"M": "malignant", "B": "benign"}, "definition": "Diagnosis"},
        ]})
    train, holdout = split_train_holdout(frame, spec, 0.3, seed=1)
    prompt = build_prompt(spec, train, "C", seed=1, n_examples=3, rows_per_call=6)
    assert "[number with 2 decimals, -10 to 25]" in prompt.user
    gen = load_config(repo_config())["generation"]
    settings = dataclasses.replace(settings_from_config(gen, "grammar", 1), target_rows=12, max_calls=2,
                                   parallel_sequences=2)
    assert settings.steering.strength > 0 and settings.novelty.reject and settings.examples.per_call
    path = tmp_path / "signed.jsonl"
    run = Run("smollm2", "radius_change", "C", "grammar", "default", 1)
    run_generation(backend, spec, prompt, "template", settings, run, path, log=lambda m: None,
                   real=RealRows(train, holdout))
    calls = [json.loads(line) for line in path.read_text().splitlines()]
    pattern = row_regex(spec)
    lines = [line for call in calls for line in call["text"].split("\n")[:-1]]
    assert len(lines) >= 6 and all(pattern.fullmatch(line) for line in lines), lines
    parser, report = parse_calls(calls, spec, [], prompt.user)
    assert [",".join(r) for r in parser.result.rows] == lines and report["spec_valid_share"] == 1.0
    values = [float(r[0]) for r in parser.result.rows]
    assert all(-10 <= v <= 25 for v in values)
    assert any(v < 0 for v in values) and any(line.startswith("-") for line in lines), lines
    assert not any(line.startswith("-0.00,") for line in lines)
