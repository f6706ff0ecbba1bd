"""config/paper.yaml and the paper_raw expansion, and the paper-vs-ours tables (copy shares, rankings)."""

from __future__ import annotations


import pandas as pd
import pytest
import yaml

from conftest import REPO, merged_config
from medsyn.config import expand_paper_raw, external_dirs, external_entry, load_config, paper_runs, runs
from medsyn.errors import ConfigError
from medsyn.layout import PAPER_SCORES
from medsyn.settings import settings_from_config
from medsyn.paper_audit import (
    COMPARISON_COLUMNS,
    COPY_COLUMNS,
    comparison_table,
    copy_share_row,
    copy_share_table,
    ranking_table,
    read_paper_scores,
)

SCORES = REPO / PAPER_SCORES


def _raw_tree(root, layout):
    """layout: {dataset: {model_dir: [prompt numbers]}}; also writes the prompts folder."""
    for ds, models in layout.items():
        (root / ds / "prompts").mkdir(parents=True)
        for n in range(1, 5):
            (root / ds / "prompts" / f"prompt{n}.txt").write_text("x")
        for model, ns in models.items():
            (root / ds / model).mkdir()
            for n in ns:
                (root / ds / model / f"prompt{n}.txt").write_text("y")
    return root


def test_paper_yaml_is_the_papers_grid():
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    cfg = merged_config(paper)
    cfg["paper_raw"] = None  # the imports are tested below without the shared data
    cfg = load_config(cfg)
    assert cfg["datasets"] == ["diabetes", "stroke", "cirrhosis"] and cfg["seeds"] == [1, 2, 3, 4, 5]
    assert cfg["prompts"]["types"] == ["A", "B", "C", "D"] and cfg["generation"]["target_rows"] == 100
    assert set(cfg["generation"]["modes"]) == {"free", "grammar"}
    assert cfg["generation"]["temperature"] == 0.7 and cfg["generation"]["top_p"] == 0.9
    assert cfg["generation"]["top_k"] == 0 and cfg["generation"]["repeat_penalty"] == 1.0
    # config.yaml's recipe switches (fresh examples, novelty, steering) are off in the paper's grid
    assert not settings_from_config(cfg["generation"], "grammar", 1).uses_row_hooks
    assert not cfg["generation"]["examples"]["per_call"]
    assert cfg["generation"]["examples"]["placement"] == "both"  # the paper's prompt shows its examples in the request
    assert "paper" in cfg["evaluation"]["families"]
    assert len(runs(cfg)) == 3 * 4 * 2 * 5 * len(cfg["generation"]["models"])
    assert set(cfg["generation"]["models"]) <= set(cfg["models"])
    assert paper["paper_raw"]["models"] == "all"


def test_paper_raw_expands_to_tagged_generators(tmp_path):
    root = _raw_tree(tmp_path / "raw", {"stroke": {"mistralai_Mistral-7B-Instruct-v0.2": [1, 2, 3, 4], "gpt2": [1, 3]},
                                        "cirrhosis": {"gpt2": [1]}})
    cfg = merged_config({"datasets": ["stroke", "cirrhosis"],
                   "paper_raw": {"root": str(root), "datasets": ["stroke", "cirrhosis"]}})
    cfg = load_config(cfg)
    ext = external_entry(cfg, "paper-gpt2", "stroke")
    assert ext["model"] == "gpt2" and list(ext["runs"]) == ["P1", "P3"]  # gaps stay gaps
    assert ext["runs"]["P3"]["raw"].endswith("stroke/gpt2/prompt3.txt")
    assert ext["runs"]["P3"]["prompt"].endswith("stroke/prompts/prompt3.txt")
    assert ext["keep_example_copies"] is True and ext["reject_duplicates"] is False
    assert ext["keep_prompt_echo"] is False  # the echoed prompts' rows are the prompt's, counted apart
    mistral = external_entry(cfg, "paper-mistralai_Mistral-7B-Instruct-v0.2", "stroke")
    assert mistral["model"] == "mistralai/Mistral-7B-Instruct-v0.2"
    assert "results/external/paper-gpt2/cirrhosis/P1" in external_dirs(cfg)
    assert len(external_dirs(cfg)) == 4 + 2 + 1
    assert {(r["dataset"], r["generator"], r["label"]) for r in paper_runs(cfg)} >= {("cirrhosis", "paper-gpt2", "P1")}


def test_paper_raw_errors_name_the_key(tmp_path):
    root = _raw_tree(tmp_path / "raw", {"stroke": {"gpt2": [1]}})
    with pytest.raises(ConfigError, match="paper_raw.datasets"):
        load_config(merged_config({"paper_raw": {"root": str(root), "datasets": ["stroke"]}}))  # stroke not in datasets
    with pytest.raises(ConfigError, match="paper_raw.models"):
        load_config(merged_config({"datasets": ["stroke"],
                                 "paper_raw": {"root": str(root), "datasets": ["stroke"], "models": ["nope"]}}))
    with pytest.raises(ConfigError, match="paper_raw.root"):
        load_config(merged_config({"datasets": ["stroke"], "paper_raw": {"root": str(tmp_path / "x"),
                                                                        "datasets": ["stroke"]}}))
    assert expand_paper_raw({"paper_raw": None}) == {}


def test_published_scores_file():
    scores = read_paper_scores(SCORES)
    assert scores.groupby("dataset")["model_dir"].nunique().to_dict() == {"cirrhosis": 16, "diabetes": 23, "stroke": 20}
    top = scores[(scores.dataset == "stroke")].sort_values("paper_harmonic").iloc[-1]
    assert (top.model_dir, top.prompt, top.paper_harmonic) == ("01-ai_Yi-6B-Chat", "P1", 0.740)
    # the doc's row means match the cells
    means = scores.groupby(["dataset", "model_dir"]).agg(m=("paper_harmonic", "mean"), avg=("paper_avg", "first"))
    assert (means["m"] - means["avg"]).abs().max() < 0.0015


def _run(ds, model, label):
    return {"dataset": ds, "generator": f"paper-{model}", "model": model.replace("_", "/", 1), "label": label}


def _record(ks, copies_ex, copies_train, kanon, nn):
    return {"metrics": {"fidelity.ks_complement": ks, "fidelity.tv_complement": ks,
                        "privacy.exact_copy_examples_share": copies_ex, "privacy.exact_copy_train_share": copies_train,
                        "privacy.exact_copy_real_share": copies_train,
                        "paper.kanon_violation_age_gender": kanon, "paper.nn_distance_ratio": nn,
                        "paper.identifiability": 0.0, "paper.correlation_distance": 1.0 - ks}}


def test_copy_shares_and_rankings():
    ex = pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    copies = pd.DataFrame({"a": ["1", "2"] * 60, "b": ["x", "y"] * 60})
    fresh = pd.DataFrame({"a": ["1", "5", "6", "7"] * 5, "b": ["x", "z", "z", "z"] * 5})
    runs = [_run("stroke", "gpt2", "P1"), _run("stroke", "01-ai_Yi-6B-Chat", "P1"),
            _run("stroke", "01-ai_Yi-6B-Chat", "P4")]
    rows = [copy_share_row(runs[0], {"candidate_rows": 130, "spec_valid_rows": 120}, _record(0.3, 1, 1, 0, 0),
                           copies, ex),
            copy_share_row(runs[1], {"candidate_rows": 25, "spec_valid_rows": 20}, _record(0.8, 0.25, 0, 0.5, 0.5),
                           fresh, ex),
            copy_share_row(runs[2], {"candidate_rows": 30, "spec_valid_rows": 20}, _record(0.9, 0, 0, 0.6, 1.2),
                           fresh.iloc[5:], ex.iloc[:0])]
    empty = copy_share_row(_run("stroke", "gpt2", "P4"), {"candidate_rows": 3, "spec_valid_rows": 0}, {"metrics": {}},
                           copies.iloc[:0], ex.iloc[:0])
    assert empty["rows_kept"] == 0 and empty["example_copy_share"] != empty["example_copy_share"]  # NaN
    assert empty["all_copies"] is False
    table = copy_share_table(rows)
    assert list(table.columns) == list(COPY_COLUMNS)
    gpt2 = table[table.model == "gpt2"].iloc[0]
    assert gpt2.all_copies and gpt2.example_copy_share == 1.0 and gpt2.novel_rows == 0 and gpt2.rows_kept == 120
    yi = table[(table.model == "01-ai/Yi-6B-Chat") & (table.prompt == "P1")].iloc[0]
    assert not yi.all_copies and yi.example_copy_share == 0.25 and yi.novel_unique_rows == 3
    assert yi.prompt_type == "A"

    records = [_record(0.3, 1, 1, 0, 0), _record(0.8, 0.25, 0, 0.5, 0.5), _record(0.9, 0, 0, 0.6, 1.2)]
    comp = comparison_table(records, runs, table, read_paper_scores(SCORES))
    assert list(comp.columns) == list(COMPARISON_COLUMNS)
    stroke = comp[comp.dataset == "stroke"]
    # every published stroke cell is listed, ours or not; only our three runs have our scores
    assert len(stroke) == 20 * 4 - 3 + 0 and stroke["ours_paper_harmonic"].notna().sum() == 3
    yi_p1 = stroke[(stroke.model == "01-ai/Yi-6B-Chat") & (stroke.prompt == "P1")].iloc[0]
    assert yi_p1.paper_harmonic == 0.740 and yi_p1.paper_rank == 1 and yi_p1.paper_model_name == "Yi-6B"
    # the copy run wins the paper's privacy (k-anonymity 0 = "perfect") but our score is 0 for it
    g = stroke[(stroke.model == "gpt2") & (stroke.prompt == "P1")].iloc[0]
    assert g.paper_privacy_score > yi_p1.paper_privacy_score
    assert g.our_score == 0 and g.our_rank == 3
    assert yi_p1.our_score == pytest.approx(0.8 * 0.75)

    ranks = ranking_table(comp)
    models = ranks[(ranks.dataset == "stroke") & (ranks.level == "model")]
    assert models.set_index("name").loc["openchat/openchat_3.5", "paper_rank"] == 1
    assert models.set_index("name").loc["gpt2", "all_copy_runs"] == 1
    prompts = ranks[(ranks.dataset == "stroke") & (ranks.level == "prompt")].set_index("name")
    assert prompts.loc["P4", "paper_rank"] == 1  # the paper's "rule-based prompts win"


def test_copy_shares_with_echo_both_ways():
    """The model's own share (echo excluded) and the share of the table the paper scored (echo included), whether
    the import dropped the echo rows (the table is the model's) or kept them (the table is the paper's)."""
    ex = pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    run = _run("stroke", "gpt2", "P1")
    own = pd.DataFrame({"a": ["1", "5", "6", "7"], "b": ["x", "z", "z", "z"]})  # 1 copy of 4 rows
    echo_report = {"candidate_rows": 110, "spec_valid_rows": 104, "prompt_echo_rows": 100,
                   "prompt_echo_example_rows": 100}
    dropped = copy_share_row(run, echo_report, {"metrics": {}}, own, ex)
    assert (dropped["rows_kept"], dropped["example_copies"], dropped["example_copy_share"]) == (4, 1, 0.25)
    assert (dropped["paper_rows"], dropped["paper_example_copies"]) == (104, 101)
    assert dropped["paper_example_copy_share"] == round(101 / 104, 4)
    assert dropped["example_copy_share_first100"] == 0.25 and not dropped["all_copies"]
    paper_table = pd.concat([pd.DataFrame({"a": ["1", "2"] * 50, "b": ["x", "y"] * 50}), own], ignore_index=True)
    kept = copy_share_row(run, {**echo_report, "prompt_echo_rows_kept": 100}, {"metrics": {}}, paper_table, ex)
    for key in ("rows_kept", "example_copies", "example_copy_share", "paper_rows", "paper_example_copies",
                "paper_example_copy_share", "all_copies", "paper_all_copies", "novel_rows"):
        assert kept[key] == dropped[key], key
    assert kept["example_copy_share_first100"] != kept["example_copy_share_first100"]  # NaN: order unknown
    # a raw file that is its prompt 100 times over: no row of the model's, the paper's table is all copies
    only_echo = copy_share_row(run, echo_report, {"metrics": {}}, own.iloc[:0], ex)
    assert only_echo["rows_kept"] == 0 and only_echo["example_copy_share"] != only_echo["example_copy_share"]
    assert only_echo["all_copies"] is False and only_echo["paper_all_copies"] is True  # the verdict that changes
    assert only_echo["paper_example_copy_share"] == 1.0 and only_echo["paper_rows"] == 100
    full = copy_share_row(run, {**echo_report, "prompt_echo_example_rows": 100}, {"metrics": {}},
                          own.iloc[:1], ex)
    assert full["all_copies"] and full["paper_all_copies"]


@pytest.mark.workflow
def test_paper_yaml_dry_run_plans_the_full_grid(tmp_path):
    from conftest import SHARED_DATA
    from test_workflow import job_counts, snakemake

    if not (SHARED_DATA / "synllm_raw").is_dir():
        pytest.skip(f"the paper's raw outputs are not in {SHARED_DATA}")
    cfg = merged_config(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    cfg["dataset_options"] = {d: {"csv": str(SHARED_DATA / f"{d}.csv")} for d in cfg["datasets"]}
    cfg["paper_raw"]["root"] = str(SHARED_DATA / "synllm_raw")
    proc = snakemake(tmp_path, cfg, "-n", "results/tables/metrics.tsv", "results/tables/paper_comparison.tsv")
    counts = job_counts(proc.stdout)
    n_models = len(cfg["generation"]["models"])
    assert counts["generate"] == counts["evaluate_run"] == 3 * 4 * 2 * 5 * n_models
    assert counts["import_external"] == 266
    # the imports are evaluated in batches of evaluation.batch_size (20): 92 + 87 + 87 tables -> 5 + 5 + 5 jobs
    assert len([job for job in counts if job.startswith("evaluate_external_")]) == 15
    assert counts["make_baseline"] == 4 * 3 * 5
    assert counts["paper_copy_shares"] == counts["paper_comparison"] == 1
