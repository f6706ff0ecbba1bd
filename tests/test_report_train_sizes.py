"""The train-size view: results/tables/train_sizes.tsv and its reading on hand-made leaderboard rows, and the
report's section "Train size: where an LLM earns its place" rendered from the fixture with a second train size."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from medsyn.report.train_size_reading import across_reading, dataset_reading, size_phrase, size_tick
from medsyn.report.train_sizes import PICKS, group_kind, pick, size_table
from report_fixture import render_fixture

SECTION = "Train size: where an LLM earns its place"
NO_WIN = "At no train size does an LLM table beat the best classical generator"


def group(generator, size, fidelity, half=0.02, *, kind="baseline", releasable=2, seeds=2, recipe="-", prompt="-",
          dataset="d"):
    """One leaderboard row: fidelity with a symmetric 95% interval of half-width ``half``."""
    llm = kind == "llm"
    return {"kind": kind, "dataset": dataset, "train_rows": size, "generator": generator,
            "prompt": prompt if llm else "-", "mode": "grammar" if llm else "-", "recipe": recipe,
            "label": f"{generator} {prompt} grammar" if llm else f"{generator} (baseline)",
            "n_seeds": seeds, "releasable_seeds": releasable, "n_rows": 100.0, "fidelity_score": fidelity,
            "fidelity_score.ci_low": fidelity - half, "fidelity_score.ci_high": fidelity + half,
            "privacy_score": 0.9, "privacy_score.ci_low": 0.85, "privacy_score.ci_high": 0.95}


def baselines(size, copula, steered=None, dataset="d"):
    rows = [group("holdout", size, 0.95, dataset=dataset), group("marginals", size, 0.50, dataset=dataset),
            group("copula", size, copula, dataset=dataset),
            group("bootstrap", size, 0.97, releasable=0, dataset=dataset)]  # resampled train: never "classical"
    if steered is not None:
        rows.append(group("steered-s", size, steered, dataset=dataset))
    return rows


def llm(generator, size, fidelity, half=0.02, releasable=2, recipe="s", dataset="d"):
    return group(generator, size, fidelity, half, kind="llm", releasable=releasable, recipe=recipe, prompt="A",
                 dataset=dataset)


@pytest.fixture
def board():
    """winner beats copula clearly with 25 rows and loses with all; loser never wins; copier beats everything but
    fails the gate on one seed."""
    return pd.DataFrame(
        baselines("25", copula=0.60, steered=0.62) + baselines("all", copula=0.80, steered=0.70)
        + [llm("winner", "25", 0.70), llm("winner", "all", 0.78),
           llm("loser", "25", 0.55, recipe="default"), llm("loser", "all", 0.60, recipe="default"),
           llm("copier", "25", 0.99, releasable=1), llm("copier", "all", 0.99, releasable=1)])


def test_group_kinds_treat_every_other_baseline_as_classical():
    assert group_kind("baseline", "holdout") == "reference"
    assert group_kind("baseline", "bootstrap") == "resampling"
    assert group_kind("baseline", "steered-s") == group_kind("baseline", "drawn-s") == "pull"
    assert group_kind("baseline", "copula") == group_kind("baseline", "arf") == "classical"  # new ones too
    assert group_kind("llm", "m") == "llm" and group_kind("external", "paper") == "imported"


def test_table_has_one_row_per_group_and_size_with_the_picks(board):
    table = size_table(board)
    assert len(table) == len(board)
    assert list(table["train_rows"].unique()) == ["25", "all"]  # all last
    for size in ("25", "all"):
        assert pick(table, "d", size, "best_classical_releasable")["generator"] == "copula"
        assert pick(table, "d", size, "best_llm_any")["generator"] == "copier"  # ignoring the gate
    assert pick(table, "d", "25", "best_llm_releasable")["generator"] == "winner"
    assert pick(table, "d", "all", "best_llm_releasable")["generator"] == "winner"
    # exactly one row per pick and size
    assert (table.groupby("train_rows")[PICKS].sum() == 1).all().all()


def test_a_new_classical_baseline_is_compared_without_code_changes(board):
    table = size_table(pd.concat([board, pd.DataFrame([group("arf", "25", 0.75)])], ignore_index=True))
    assert pick(table, "d", "25", "best_classical_releasable")["generator"] == "arf"
    assert NO_WIN in dataset_reading(table, "d")


def test_contribution_is_fidelity_over_the_steered_pull_of_the_same_size(board):
    table = size_table(board).set_index(["train_rows", "generator"])
    assert table.loc[("25", "winner"), "contribution"] == pytest.approx(0.70 - 0.62)
    assert table.loc[("all", "winner"), "contribution"] == pytest.approx(0.78 - 0.70)
    assert table.loc[("25", "winner"), "pull"] == "steered-s"
    assert np.isnan(table.loc[("25", "loser"), "contribution"])  # no steered-default baseline was run
    assert np.isnan(table.loc[("25", "copula"), "contribution"])


def test_reading_names_the_winning_size_and_every_other(board):
    text = dataset_reading(size_table(board), "d", {"train_rows": 240})
    assert text.startswith("An LLM table beats the best classical generator while releasable")
    assert "with 25 train rows, not with all 240 train rows" in text
    # 25 rows: 0.700 [0.680, 0.720] against copula 0.600 [0.580, 0.620]: apart
    assert ("With 25 train rows, winner A grammar (fidelity 0.700 [0.680, 0.720], releasable) beats the best "
            "classical generator, copula (fidelity 0.600 [0.580, 0.620]), by 0.100, outside both 95% intervals") in text
    # all rows: copula 0.800 vs winner 0.780, intervals overlap
    assert ("With all 240 train rows, the best classical generator, copula (fidelity 0.800 [0.780, 0.820]), is at or "
            "above the best releasable LLM table, winner A grammar (fidelity 0.780 [0.760, 0.800]), by 0.020, inside "
            "the 95% intervals (they overlap): not distinguishable with 2 seeds") in text
    assert "contribution over its recipe's pull (steered-s) is +0.080" in text
    # the gate-failing copier is said, never counted
    assert "copier A grammar scores higher, fidelity 0.990 [0.970, 1.000], but passes the gate on only 1 of 2" in text


def test_a_generator_that_never_wins_reads_as_no_win():
    board = pd.DataFrame(baselines("25", 0.60) + baselines("all", 0.80)
                         + [llm("loser", "25", 0.50), llm("loser", "all", 0.70)])
    text = dataset_reading(size_table(board), "d")
    assert text.startswith(NO_WIN + " while releasable")
    assert "With 25 train rows" in text and "With all train rows" in text  # every size, not only the answer


def test_a_winner_that_fails_the_gate_is_not_counted():
    board = pd.DataFrame(baselines("25", 0.60) + baselines("all", 0.80)
                         + [llm("copier", "25", 0.99, releasable=1), llm("copier", "all", 0.99, releasable=0)])
    table = size_table(board)
    assert pick(table, "d", "25", "best_llm_releasable") is None
    text = dataset_reading(table, "d")
    assert text.startswith(NO_WIN)
    assert "With 25 train rows, no LLM table passes the privacy gate on every seed" in text
    assert "at no train size does an LLM table beat the best classical generator" in across_reading(table)


def test_overlapping_intervals_are_worded_as_not_distinguishable():
    board = pd.DataFrame(baselines("25", 0.60, ) + baselines("all", 0.80)
                         + [llm("close", "25", 0.63, half=0.05), llm("close", "all", 0.70)])
    for seeds in (2, 3):
        b = board.assign(n_seeds=seeds, releasable_seeds=np.where(board["generator"] == "bootstrap", 0, seeds))
        text = dataset_reading(size_table(b), "d")
        assert "with 25 train rows, not with all train rows" in text
        assert (f"by 0.030, inside the 95% intervals (they overlap): not distinguishable with {seeds} seeds" in text)
        assert "the difference lies inside the 95% intervals" in text
    one_seed = board.assign(n_seeds=1, releasable_seeds=np.where(board["generator"] == "bootstrap", 0, 1))
    one_seed[["fidelity_score.ci_low", "fidelity_score.ci_high"]] = np.nan  # no interval from one seed
    assert "not distinguishable with 1 seed" in dataset_reading(size_table(one_seed), "d")


def test_without_llm_tables_the_reading_says_there_is_nothing_to_compare():
    board = pd.DataFrame(baselines("25", 0.60) + baselines("all", 0.80))
    table = size_table(board)
    text = dataset_reading(table, "d", {"train_rows": 240})
    assert "there is no LLM table to compare" in text
    assert "with 25 train rows copula (fidelity 0.600 [0.580, 0.620])" in text
    assert "there is no LLM table to compare" in across_reading(table)


def test_across_datasets_every_win_is_listed(board):
    other = pd.DataFrame(baselines("25", 0.60, dataset="e") + baselines("all", 0.80, dataset="e")
                         + [llm("m", "25", 0.50, dataset="e"), llm("m", "all", 0.85, half=0.01, dataset="e")])
    table = size_table(pd.concat([board, other], ignore_index=True))
    text = across_reading(table, {"e": {"train_rows": 300}})
    assert text.startswith("Across 2 datasets (4 dataset x train size pairs)")
    assert "in 2: d with 25 train rows (outside both 95% intervals) and e with all 300 train rows" in text
    assert "2 of these 2 differences lie outside both 95% intervals" in text


def test_size_labels_count_groups_when_the_split_is_grouped():
    grouped = {"grouped_by": "patient", "train_rows": 900, "group_counts": {"train": 120}}
    assert size_phrase("25", grouped) == "25 train groups" and size_phrase("all", grouped) == "all 120 train groups"
    assert size_tick("all", {"train_rows": 240}) == "all (240)" and size_tick("50") == "50"


# --- the report section, from the fixture with a second train size -------------------------------------------------


def with_size_25(metrics: pd.DataFrame) -> pd.DataFrame:
    """The fixture's tables again as if learnt from 25 train rows: baselines a little worse, and toy-llm renamed
    with markup (escaped in the section like every data-derived string)."""
    small = metrics.copy()
    small["train_rows"] = "25"
    base = small["kind"] == "baseline"
    small.loc[base, "fidelity.ks_complement"] = small.loc[base, "fidelity.ks_complement"] * 0.8
    small.loc[small["generator"] == "toy-llm", "generator"] = "<i>tiny</i>"
    return pd.concat([metrics, small], ignore_index=True)


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory):
    return render_fixture(tmp_path_factory.mktemp("sizes"), train_rows=[25, "all"], edit_metrics=with_size_25)


def test_section_shows_reading_figure_and_table_with_two_sizes(two_sizes):
    html, info = two_sizes
    assert html.count(SECTION) == 2  # the contents entry and the heading
    section = html[html.index('<h2 id="train-sizes">'):html.index('<h2 id="ds-toy">')]
    assert "At no train size" in section or "An LLM table beats" in section
    assert "With 25 train rows" in section and "With all 240 train rows" in section
    assert "<th>25</th><th>all (240)</th>" in section
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', section)
    assert len(uris) == 1 and base64.b64decode(uris[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(info["drawn"]["figures"]) == 6
    assert re.search(r"\d\.\d{3}", section) and "releasable" in section
    # the dataset sections still show one size: their leaderboard holds the main size's groups only
    assert "&lt;i&gt;tiny&lt;/i&gt;" in section and "<i>tiny</i>" not in html
    leaderboard = html[html.index("<h3>Leaderboard</h3>"):html.index("Privacy with 95% intervals")]
    assert "tiny" not in leaderboard


def test_section_is_absent_with_one_train_size(tmp_path):
    html, _ = render_fixture(tmp_path)
    assert SECTION not in html and 'id="train-sizes"' not in html


def test_an_llm_releasable_where_no_classical_generator_is_is_said_in_the_answer():
    rows = baselines("25", 0.60) + baselines("all", 0.80) + [llm("m", "25", 0.50), llm("m", "all", 0.70)]
    board = pd.DataFrame(rows)
    board.loc[board["generator"].isin(["copula", "marginals"]) & (board["train_rows"] == "25"), "releasable_seeds"] = 1
    table = size_table(board)
    text = dataset_reading(table, "d")
    assert text.startswith(NO_WIN)
    assert "With 25 train rows, though, an LLM table passes the privacy gate on every seed and no classical" in text
    assert "in 1 more only an LLM table is releasable" in across_reading(table)


def test_where_no_classical_generator_is_releasable_the_best_ignoring_the_gate_is_named():
    board = pd.DataFrame(baselines("25", 0.60) + baselines("all", 0.80))
    board.loc[board["generator"].isin(["copula", "marginals"]) & (board["train_rows"] == "25"), "releasable_seeds"] = 0
    text = dataset_reading(size_table(board), "d")
    assert ("with 25 train rows none (the best ignoring the gate, copula, fidelity 0.600 [0.580, 0.620], passes it "
            "on 0 of 2 seeds)") in text
