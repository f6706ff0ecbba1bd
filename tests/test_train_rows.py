"""The train-size axis (config split.train_rows): nested, stratified subsamples of train, and every step that learns
from train learning from the subsample only.

- the subsamples: nested (25 inside 50 inside 100), stratified on the target to within one row, the same whatever
  other sizes are asked for, seeded; whole groups with a spec group_column; a size not below train is an error;
- the workflow: with train_rows [25], every job that learns from train (prompts, generation, baselines, the real
  side, the evaluation) reads train-25.csv and none reads train.csv (a dry run's job list); run for real on pima,
  the prompt examples, the bootstrap baseline's rows, the real side and the privacy members come from the 25.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from conftest import repo_config, run_snakemake, spec_path
from medsyn import layout
from medsyn.config import load_config, runs
from medsyn.data import load_real, read_table
from medsyn.errors import ConfigError, DataError
from medsyn.evaluate import real_side
from medsyn.spec import load_spec
from medsyn.split import main_train_size, split_real, subsample_train

SIZES = (25, 50, 100)


@pytest.fixture(scope="module")
def pima_train():
    spec = load_spec(spec_path("pima"))
    return spec, split_real(load_real(spec), spec, 0.25, 0.15, seed=1)["train"]


def test_subsamples_are_nested_stratified_and_seeded(pima_train):
    spec, train = pima_train
    shares = train[spec.target].value_counts(normalize=True)
    previous = None
    for n in SIZES:
        sub = subsample_train(train, spec, n, seed=7)
        assert len(sub) == n and sub.index.is_unique and sub.index.isin(train.index).all()
        counts = sub[spec.target].value_counts()
        for level, share in shares.items():  # each outcome's share of n, to within one row
            assert abs(counts.get(level, 0) - share * n) < 1 + 1e-9, (n, level, counts.to_dict())
        if previous is not None:
            assert previous.index.isin(sub.index).all(), f"the {len(previous)} are not inside the {n}"
        previous = sub
    again = subsample_train(train, spec, 50, seed=7)
    pd.testing.assert_frame_equal(again, subsample_train(train, spec, 50, seed=7))
    other = subsample_train(train, spec, 50, seed=8)
    assert set(other.index) != set(again.index), "another split seed must draw another subsample"


def test_a_size_at_or_above_train_is_an_error_naming_the_key(pima_train):
    spec, train = pima_train
    with pytest.raises(DataError, match=r"split.train_rows.*not below the \d+ train rows of dataset 'pima'"):
        subsample_train(train, spec, len(train), seed=1)


def test_grouped_subsample_keeps_whole_groups_and_counts_groups(pima_train):
    spec, train = pima_train
    groups = pd.Series(train.index // 2, index=train.index)  # made-up patients: two rows each
    sub = subsample_train(train, spec, 30, seed=3, groups=groups)
    chosen = set(groups.loc[sub.index])
    assert len(chosen) == 30
    assert set(groups[groups.isin(chosen)].index) == set(sub.index), "a group was cut in two"


def test_train_rows_is_a_grid_axis_with_all_as_default_and_a_typo_refused():
    cfg = load_config(repo_config())
    assert cfg["split"]["train_rows"] == ["all"] and {r.train_rows for r in runs(cfg)} == {"all"}
    assert main_train_size(["all", 25]) == "all" and main_train_size([25, 100, 50]) == "100"
    raw = repo_config()
    raw["split"] = {"train_rows": [25, "all"]}
    raw["grid"] = [{"train_rows": [25], "prompts": ["A"]}, {"train_rows": ["all"]}]
    grid = runs(load_config(raw))
    assert {(r.train_rows, r.prompt) for r in grid if r.dataset == "pima"} == {
        ("25", "A"), ("all", "A"), ("all", "B"), ("all", "C"), ("all", "D")}
    raw["grid"] = [{"train_rows": [50]}]
    with pytest.raises(ConfigError, match=r"grid.0.train_rows.*\[50\] not in the configured"):
        load_config(raw)
    raw = repo_config()
    raw["split"] = {"train_rows": ["half"]}
    with pytest.raises(ConfigError, match="split.train_rows"):
        load_config(raw)


# --- the workflow -------------------------------------------------------------------------------------------------

LEARNERS = ("make_prompt", "generate", "make_baseline", "real_side", "evaluate")  # every rule that reads train


def dry_run_jobs(output: str) -> list[tuple[str, list[str]]]:
    """(rule, input files) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        head = re.match(r"(?:local)?rule (\w+):", block.strip())
        found = re.search(r"^\s+input: (.+)$", block, re.M)
        if head:
            jobs.append((head[1], found[1].split(", ") if found else []))
    return jobs


@pytest.mark.workflow
def test_every_job_that_learns_from_train_reads_the_subsample(tmp_path):
    cfg = repo_config()
    cfg.update(datasets=["pima", "cirrhosis"], seeds=[1])
    cfg["split"] = {"train_rows": [25]}
    cfg["prompts"] = {"types": ["A", "C"]}
    proc = run_snakemake(tmp_path, "-n", "results/report.html", config=cfg)
    jobs = dry_run_jobs(proc.stdout)
    learners = [(rule, inputs) for rule, inputs in jobs if rule.startswith(LEARNERS)]
    batch = re.compile(r"^evaluate_(baseline|external)_\w+")  # the evaluation batches: one rule each
    assert {batch.sub("evaluate_batch", rule) for rule, _ in learners} == {
        "make_prompt", "generate", "make_baseline", "real_side", "evaluate_run", "evaluate_batch"}
    for rule, inputs in learners:
        whole = [f for f in inputs if re.search(r"results/data/\w+/train\.csv$", f)]
        assert not whole, f"{rule} reads the whole train split: {whole}"
        assert any(re.search(r"results/data/\w+/train-25\.csv$", f) for f in inputs), f"{rule}: {inputs}"
    readers = {rule for rule, inputs in jobs if any(f.endswith("/train.csv") for f in inputs)}
    # the subsample is cut from it; the report reads every real part only to withhold real rows from its sample
    assert readers <= {"subsample_train", "report"}, readers


@pytest.mark.workflow
def test_prompts_baselines_real_side_and_privacy_learn_from_the_subsample(tmp_path):
    cfg = repo_config()
    cfg.update(datasets=["pima"], seeds=[1])
    cfg["split"] = {"train_rows": [25]}
    cfg["generation"]["models"] = []
    cfg["evaluation"] = {"baselines": ["bootstrap", "marginals", "copula"], "baseline_rows": 40}
    prompt = layout.prompt_file("pima", 25, "A", "default", 1)
    run_snakemake(tmp_path, layout.table("metrics"), prompt, config=cfg)
    spec = load_spec(spec_path("pima"))
    sub = read_table(tmp_path / layout.train_file("pima", 25), spec)
    train = read_table(tmp_path / layout.train_file("pima", "all"), spec)
    assert len(sub) == 25 and sub.index.isin(train.index).all()
    shown = json.loads((tmp_path / prompt).read_text())["example_row_ids"]
    assert shown and set(shown) <= set(sub.index), "prompt examples outside the subsample"
    boot = read_table(tmp_path / layout.baseline_dir("bootstrap", "pima", 25, 1) / "synthetic.csv", spec, real=False)
    rows = {tuple(r) for r in sub[spec.column_names].astype(str).itertuples(index=False)}
    assert all(tuple(r) in rows for r in boot[spec.column_names].astype(str).itertuples(index=False))
    marg = read_table(tmp_path / layout.baseline_dir("marginals", "pima", 25, 1) / "synthetic.csv", spec, real=False)
    for col in spec.column_names:
        assert set(marg[col].dropna()) <= set(sub[col].dropna()), f"marginals drew {col} values outside the 25"
    real = real_side.load(tmp_path / layout.evaluation_file("pima", 25, "real_side.json"),
                          tmp_path / layout.evaluation_file("pima", 25, "real_side.npz"))
    assert real.info["sources"]["train"] == real_side.sha256(tmp_path / layout.train_file("pima", 25))
    metrics = pd.read_csv(tmp_path / layout.table("metrics"), sep="\t")
    assert set(metrics["train_rows"].astype(str)) == {"25"}
    copies = metrics.set_index("generator")["privacy.exact_copy_train_share"]
    assert copies["bootstrap"] == 1.0  # every bootstrap row is one of the 25 members
