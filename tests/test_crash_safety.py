"""Crash safety and determinism of generation.

Function level (no model): a checkpoint is replayed only under the same fingerprint, a torn last line is
dropped. Workflow level (SmolLM2, tiny): a generate job killed with SIGKILL mid-way and rerun resumes from its
checkpoint and ends byte-identical to an uninterrupted run; two clean runs are byte-identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from conftest import generation_settings, repo_config, run_snakemake, snakemake_cmd, spec_path
from medsyn.checkpoint import read as read_checkpoint
from medsyn.run import Run
from medsyn.data import load_real
from medsyn.generate import run_generation
from medsyn.llm.decode import CallResult
from medsyn.prompts import build_prompt
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout

RUN = "results/models/smollm2-135m-instruct/pima/train-all/A/grammar/default/seed1"
FREE_RUN = Run("fake", "pima", "A", "free", "default", 1)  # the function-level tests' run (no model)


# --- function level: a fake backend that counts its calls -----------------------------------------------------


class FakeBackend:
    """The ``medsyn.generate.Backend`` protocol without a model: each call's text is picked by its seed."""

    n_ctx = 100_000
    chat_template = None
    bos_token = eos_token = -1

    def __init__(self, rows):
        self.rows = rows  # call index -> text
        self.called = []

    def special_text(self, token):
        return ""

    def tokenize(self, text, add_bos=True):
        return list(range(len(text.split())))

    def use_sequences(self, n, cells=None, prompt_cells=0):
        self.n_seq = n

    def complete_many(self, tokens, calls, grammar, max_tokens, settings, hooks=None, language=None):
        self.groups = getattr(self, "groups", []) + [len(calls)]
        self.called += [call.seed for call in calls]
        return [CallResult(self.rows[call.seed % len(self.rows)], "stop", len(tokens), 10) for call in calls]


@pytest.fixture(scope="module")
def pima_prompt():
    spec = load_spec(spec_path("pima"))
    train, _ = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    prompt = build_prompt(spec, train, "A", seed=1, n_examples=2, rows_per_call=2)
    return spec, prompt


def _settings(max_calls=4, target_rows=100, parallel=1):
    return generation_settings("free", target_rows=target_rows, max_calls=max_calls, max_tokens=50,
                               free_max_tokens=50, parallel_sequences=parallel)


def _texts():
    return [f"{p},{100 + i},70,20,80,30.{i},0.5,{30 + i},1" for i, p in enumerate(range(1, 8))]


def test_checkpoint_replays_completed_calls_and_drops_a_torn_line(pima_prompt, tmp_path):
    spec, prompt = pima_prompt
    ckpt = tmp_path / "raw.jsonl.checkpoint"
    full = FakeBackend(_texts())
    run_generation(full, spec, prompt, "completion", _settings(), FREE_RUN, tmp_path / "a.jsonl",
                   log=lambda m: None, checkpoint=ckpt, fingerprint="f1")
    assert len(full.called) == 4 and len(read_checkpoint(ckpt, "f1")) == 4
    # simulate a kill during call 3: keep header + 2 records + half a line
    lines = ckpt.read_text().splitlines(keepends=True)
    ckpt.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    assert [r["call"] for r in read_checkpoint(ckpt, "f1")] == [0, 1]
    resumed = FakeBackend(_texts())
    summary = run_generation(resumed, spec, prompt, "completion", _settings(), FREE_RUN,
                             tmp_path / "b.jsonl", log=lambda m: None, checkpoint=ckpt, fingerprint="f1")
    assert summary["resumed_calls"] == 2 and len(resumed.called) == 2  # only calls 2 and 3 were generated
    assert resumed.called == full.called[2:]
    a = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert [(r["call"], r["seed"], r["text"]) for r in a] == [(r["call"], r["seed"], r["text"]) for r in b]
    assert [r["call"] for r in read_checkpoint(ckpt, "f1")] == [0, 1, 2, 3]  # no duplicated call index


def test_a_group_cut_short_by_a_kill_is_decoded_again_whole(pima_prompt, tmp_path):
    """Calls decoded together (parallel_sequences 3): a checkpoint holding part of a group is not replayed
    piecemeal (the group's calls are decoded together, so they are redone together); whole groups are replayed."""
    spec, prompt = pima_prompt
    ckpt = tmp_path / "raw.jsonl.checkpoint"
    full = FakeBackend(_texts())
    run_generation(full, spec, prompt, "completion", _settings(parallel=3), FREE_RUN, tmp_path / "a.jsonl",
                   log=lambda m: None, checkpoint=ckpt, fingerprint="f1")
    assert full.groups == [3, 1] and len(full.called) == 4
    lines = ckpt.read_text().splitlines(keepends=True)
    ckpt.write_text("".join(lines[:3]))  # header + calls 0 and 1 of the group 0-2
    cut = FakeBackend(_texts())
    summary = run_generation(cut, spec, prompt, "completion", _settings(parallel=3), FREE_RUN, tmp_path / "b.jsonl",
                             log=lambda m: None, checkpoint=ckpt, fingerprint="f1")
    assert summary["resumed_calls"] == 0 and cut.groups == [3, 1] and cut.called == full.called
    assert [r["call"] for r in read_checkpoint(ckpt, "f1")] == [0, 1, 2, 3]
    ckpt.write_text("".join(ckpt.read_text().splitlines(keepends=True)[:4]))  # the whole first group
    whole = FakeBackend(_texts())
    summary = run_generation(whole, spec, prompt, "completion", _settings(parallel=3), FREE_RUN, tmp_path / "c.jsonl",
                             log=lambda m: None, checkpoint=ckpt, fingerprint="f1")
    assert summary["resumed_calls"] == 3 and whole.groups == [1] and whole.called == full.called[3:]
    texts = [[json.loads(x)["text"] for x in (tmp_path / f).read_text().splitlines()] for f in ("a.jsonl", "b.jsonl",
                                                                                                "c.jsonl")]
    assert texts[0] == texts[1] == texts[2]


def test_group_size_follows_the_runs_yield():
    from medsyn.generate import group_size

    assert group_size(parallel=4, calls_left=6, rows_wanted=30, rows_per_call=10) == 3  # before any call
    assert group_size(parallel=4, calls_left=3, rows_wanted=15, rows_per_call=5.0) == 3  # half the rows were valid
    assert group_size(parallel=4, calls_left=3, rows_wanted=15, rows_per_call=0.0) == 3  # nothing valid yet: all
    assert group_size(parallel=4, calls_left=6, rows_wanted=2, rows_per_call=10) == 1
    assert group_size(parallel=1, calls_left=6, rows_wanted=30, rows_per_call=10) == 1


def test_stale_checkpoint_from_another_config_is_discarded(pima_prompt, tmp_path):
    spec, prompt = pima_prompt
    ckpt = tmp_path / "raw.jsonl.checkpoint"
    run_generation(FakeBackend(_texts()), spec, prompt, "completion", _settings(max_calls=2),
                   FREE_RUN, tmp_path / "a.jsonl", log=lambda m: None, checkpoint=ckpt,
                   fingerprint="old")
    again = FakeBackend(_texts())
    summary = run_generation(again, spec, prompt, "completion", _settings(max_calls=2), FREE_RUN,
                             tmp_path / "b.jsonl", log=lambda m: None, checkpoint=ckpt, fingerprint="new")
    assert summary["resumed_calls"] == 0 and len(again.called) == 2
    assert json.loads(ckpt.read_text().splitlines()[0]) == {"medsyn_checkpoint": "new"}


# --- workflow level: SIGKILL mid-generation, rerun, compare with clean runs -----------------------------------


def _config(workdir):
    cfg = repo_config()
    cfg["datasets"] = ["pima"]
    cfg["prompts"] = {"types": ["A"], "n_examples": 2}
    # two calls decoded together, then the third: a kill can land between the groups
    cfg["generation"].update(target_rows=6, rows_per_call=2, max_calls=3, parallel_sequences=2)
    path = workdir / "test_config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _snakemake_cmd(workdir, *args):
    return snakemake_cmd(workdir, f"{RUN}/synthetic.csv", "--rerun-incomplete", *args,
                         configfiles=[_config(workdir)])


def _run(workdir, *args):
    return run_snakemake(workdir, f"{RUN}/synthetic.csv", "--rerun-incomplete", *args,
                         configfiles=[_config(workdir)], timeout=900)


def _calls(workdir):
    lines = (workdir / RUN / "raw.jsonl").read_text().splitlines()
    return [(r["call"], r["seed"], r["text"]) for r in map(json.loads, lines)]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, smollm2_path):
    """An uninterrupted run, then the same run forced again: (synthetic.csv bytes, calls) of each."""
    clean = tmp_path_factory.mktemp("clean")
    _run(clean)
    first = ((clean / RUN / "synthetic.csv").read_bytes(), _calls(clean))
    _run(clean, "--forcerun", "generate")
    assert json.loads((clean / RUN / "generation.json").read_text())["resumed_calls"] == 0
    second = ((clean / RUN / "synthetic.csv").read_bytes(), _calls(clean))
    return first, second


@pytest.mark.llm
@pytest.mark.workflow
def test_same_config_and_seed_give_byte_identical_synthetic_csv(clean_run):
    (first_csv, first_calls), (second_csv, second_calls) = clean_run
    assert len(first_csv.decode().splitlines()) > 1  # the run produced rows
    assert [c[0] for c in first_calls] == [0, 1, 2]
    assert second_calls == first_calls
    assert second_csv == first_csv


def _checkpointed(ckpt):
    return read_checkpoint(ckpt, json.loads(ckpt.read_text().splitlines()[0])["medsyn_checkpoint"])


@pytest.mark.llm
@pytest.mark.workflow
def test_killed_generation_resumes_from_checkpoint_and_matches_a_clean_run(tmp_path, clean_run):
    killed = tmp_path / "killed"
    killed.mkdir()

    # 1. kill -9 the whole snakemake process group once the checkpoint holds at least one completed call
    ckpt = killed / RUN / "raw.jsonl.checkpoint"
    proc = subprocess.Popen(_snakemake_cmd(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if ckpt.is_file() and _checkpointed(ckpt):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "generation finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(1)
    n_done = len(_checkpointed(ckpt))
    assert 1 <= n_done < 3, n_done  # killed mid-way: some calls done, not all
    assert not (killed / RUN / "raw.jsonl").exists() and not (killed / RUN / "synthetic.csv").exists()

    # 2. rerun (after removing the lock the killed snakemake left, as its message says): resumes
    _run(killed, "--unlock")
    _run(killed)
    meta = json.loads((killed / RUN / "generation.json").read_text())
    assert meta["resumed_calls"] == n_done and meta["calls"] == 3
    assert not ckpt.exists()  # removed once raw.jsonl is published
    log = (killed / "logs/generate/smollm2-135m-instruct/pima/train-all/A/grammar/default/seed1.log").read_text()
    assert log.count("replayed from checkpoint") == n_done

    # 3. the resumed run equals the uninterrupted one: same calls in order, none duplicated or lost
    (clean_csv, clean_calls), _ = clean_run
    resumed_calls = _calls(killed)
    assert [c[0] for c in resumed_calls] == [0, 1, 2]
    assert resumed_calls == clean_calls
    assert (killed / RUN / "synthetic.csv").read_bytes() == clean_csv
