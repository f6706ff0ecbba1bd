"""The report: rendered from the committed fixture (tests/fixtures/report), checked section by section; and the
scoring rules behind the leaderboard, Pareto front and recommendations on hand-made numbers."""

from __future__ import annotations

import base64
import json
import re
from html import escape as html_escape, unescape as html_unescape

import numpy as np
import pandas as pd
import pytest

from medsyn import layout
from medsyn.report.context import HIDDEN_ROW
from medsyn.report.scores import add_scores, pareto_front, recommend
from report_fixture import FIXTURE, render_fixture

SECTIONS = [
    "How to read this report", "Run summary and provenance", "Recommendation", "Leaderboard",
    "Privacy vs fidelity", "Scores by generator and prompt type", "Utility: train on synthetic, test on real",
    "Per-column distributions: best and worst run", "Correlation difference: best and worst run",
    "Privacy with 95% intervals", "Clinical rules", "Utility (TSTR vs TRTR)", "Generation efficiency", "Prompts", "Sample of synthetic rows",
]


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory):
    return render_fixture(tmp_path_factory.mktemp("report"))


def test_fixture_report_has_every_section(fixture_report):
    html, _ = fixture_report
    for title in SECTIONS:
        assert title in html, f"section {title!r} missing"
    assert html.count("<h2 id=\"ds-toy\">") == 1


def test_fixture_report_embeds_five_decodable_png_figures_and_loads_nothing_external(fixture_report):
    html, info = fixture_report
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 6 == len(info["drawn"]["figures"]) + 1  # + the overview's generator x dataset figure
    for uri in uris:
        assert base64.b64decode(uri)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must open offline"
    assert "<script" not in html.lower()


def test_fixture_report_escapes_data_derived_text(fixture_report):
    html, _ = fixture_report
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the level, escaped (legend-free table text)
    assert "Toy cohort &lt;b&gt;&amp;&lt;/b&gt; friends" in html
    assert "<i>with markup</i>" not in html


def test_leaderboard_places_baselines_and_marks_the_copier(fixture_report):
    html, info = fixture_report
    board = info["board"]
    roles = dict(zip(board["label"], board["role"]))
    assert roles["holdout (baseline)"] == "reference"
    assert roles["bootstrap (baseline)"] == "baseline"
    assert roles["copycat A grammar"] == "candidate"
    copier = board[board["label"] == "copycat A grammar"].iloc[0]
    good = board[board["label"] == "toy-llm A grammar"].iloc[0]
    assert copier["privacy.exact_copy_train_share"] > 0.5
    assert copier["privacy_score"] < good["privacy_score"]
    # two seeds: every score carries a 95% interval, and the table shows it
    assert not np.isnan(good["fidelity_score.ci_low"]) and good["fidelity_score.ci_low"] <= good["fidelity_score"]
    assert re.search(r'<span class="ci">\[\d\.\d{3}, \d\.\d{3}\]</span>', html)


def test_recommendation_never_picks_a_copier_for_privacy_critical_use(fixture_report):
    html, info = fixture_report
    rec = info["recommendation"].set_index("use_case")
    gate = info["gate"]
    copier = gate[gate["generator"] == "copycat"]
    assert len(copier) == 2 and not copier["releasable"].any()
    # toy-llm D passes the gate on both seeds; toy-llm A fails it on seed 1 (DCR share 0.79 by chance at 30 rows)
    assert rec.loc["privacy_critical", "generator"] == "toy-llm D grammar"
    assert board_releasable(info, "toy-llm A grammar") == 1
    assert rec.loc["highest_fidelity", "generator"] == "copycat A grammar"  # fidelity alone rewards copying
    assert "Rule: among eligible generators whose every table passes the privacy gate (at least 1 rows" in html
    board = info["board"].set_index("label")
    assert "<td>1/2</td>" in html  # the leaderboard's releasable column: toy-llm A, one seed of two
    assert board.loc["copycat A grammar", "releasable_seeds"] == 0
    assert board.loc["bootstrap (baseline)", "releasable_seeds"] == 0
    assert board.loc["holdout (baseline)", "releasable_seeds"] == 0  # real patients are never released


def test_privacy_section_shows_each_tables_intervals_and_verdict(fixture_report):
    """Every evaluated table (14: 3 generators and 4 baselines x 2 seeds) with its value, its own 95% interval and
    the gate's verdict; the copier's train-copy share interval sits far above 0."""
    html, info = fixture_report
    section = re.search(r"<h3>Privacy with 95% intervals</h3>(.*?)</table>", html, re.S).group(1)
    rows = re.findall(r'<tr class="(\w+)"><td class="l">([^<]+)</td><td>(\d)</td>(.*?)</tr>', section, re.S)
    assert len(rows) == 14
    cells = {(label, seed): re.findall(r"<td[^>]*>([^<]*)(?:<br><span class=\"ci\">\[([\d.]+), ([\d.]+)\]</span>)?</td>",
                                       rest) for _, label, seed, rest in rows}
    copier = cells[("copycat A grammar", "1")]
    share, lo, hi = copier[2]  # rows, effective rows, then train-copy share [low, high]
    assert float(lo) <= float(share) <= float(hi) and float(lo) > 0.3
    assert copier[-1][0] == "no"
    verdicts = {key: values[-1][0] for key, values in cells.items()}
    assert sum(v == "yes" for v in verdicts.values()) == int(info["gate"]["releasable"].astype(bool).sum()) > 0
    assert verdicts[("holdout (baseline)", "1")] == verdicts[("bootstrap (baseline)", "2")] == "no"


def board_releasable(info, label):
    return int(info["board"].set_index("label").loc[label, "releasable_seeds"])


def test_prompts_hide_real_example_rows_unless_asked(fixture_report, tmp_path):
    html, _ = fixture_report
    prompt = json.loads((FIXTURE / layout.prompt_file("toy", layout.ALL_TRAIN, "A", "default", 1)).read_text())
    example = html_escape(prompt["example_rows"][0])
    assert HIDDEN_ROW in html and example not in html
    shown_html, _ = render_fixture(tmp_path, show_real_rows=True)
    assert HIDDEN_ROW not in shown_html and example in shown_html


def test_sample_rows_never_show_a_real_patient(fixture_report):
    html, info = fixture_report
    spec, train = info["spec"], info["train"]
    sample = re.search(r"<h3>Sample of synthetic rows</h3>(.*?)</table>", html, re.S).group(1)
    # one table row per column (the sample is shown transposed, so wide tables fit): cells are the sample rows
    columns = re.findall(r'<tr><th class="l">(.*?)</th>((?:<td>.*?</td>)+)</tr>', sample)
    assert [name for name, _ in columns] == [c.name for c in spec.columns]
    rows = list(zip(*[re.findall(r"<td>(.*?)</td>", cells) for _, cells in columns]))
    assert rows, "the fixture's balanced pick has rows to show"
    real_keys = {",".join(spec.column(c).format_value(v) for c, v in r.items()) for _, r in train.iterrows()}
    for cells in rows:
        assert ",".join(cells).replace("&lt;", "<").replace("&gt;", ">") not in real_keys


def test_paper_section_shows_both_rankings_and_names_the_all_copy_runs(tmp_path):
    models = ["org/alpha", "org/beta", "org/gamma", "org/delta"]
    rankings = pd.DataFrame(
        [{"dataset": "toy", "level": "model", "name": m, "paper_name": m.split("/")[1].title(), "paper_mean": 0.9 - i / 10,
          "paper_rank": i + 1, "ours_paper_harmonic_mean": 0.5, "ours_paper_harmonic_rank": i + 1,
          "our_score_mean": 0.1 * i, "our_rank": 4 - i, "example_copy_share_mean": 0.25 * (3 - i),
          "all_copy_runs": int(i == 0)} for i, m in enumerate(models)]
        + [{"dataset": "toy", "level": "prompt", "name": p, "paper_mean": 0.5, "paper_rank": k + 1, "our_rank": k + 1,
            "ours_paper_harmonic_rank": k + 1, "all_copy_runs": 0} for k, p in enumerate(["P1", "P2", "P3"])])
    comparison = pd.DataFrame([{"dataset": "toy", "model": m, "prompt": "P1", "paper_harmonic": 0.9 - i / 10,
                                "paper_rank": i + 1, "rows_kept": 100, "example_copy_share": 1.0 if i == 0 else 0.1,
                                "all_copies": i == 0, "our_rank": 4 - i} for i, m in enumerate(models)])
    # beta's raw output echoes its prompt: 30 echo rows, all copies, kept in the table the paper scored
    comparison["paper_example_copy_share"] = comparison["example_copy_share"].where(comparison.index != 1, 0.325)
    comparison["paper_all_copies"] = comparison["all_copies"]
    copies = comparison[["dataset", "model", "prompt", "example_copy_share", "all_copies",
                         "paper_example_copy_share", "paper_all_copies"]].assign(prompt_echo_rows=[0, 30, 0, 0])
    html, _ = render_fixture(tmp_path, paper={"comparison": comparison, "rankings": rankings, "copies": copies})
    section = html[html.index("Paper claims vs this evaluation"):html.index("<h3>Prompts</h3>")]
    assert "1 runs are 100% copies" in section and "org/alpha P1" in section
    assert "(30 rows of echoed prompts in all)" in section and "<td>0.325</td>" in section
    # the paper's model order is exactly reversed by ours: Spearman -1.00; prompts agree: 1.00
    assert "Spearman correlation of the paper's rank with ours:\n-1.00" in section
    assert "with ours:\n1.00" in section
    assert section.count("<tr>") >= 1 + 4 + 1 + 3 + 1 + 4


def test_best_and_worst_fall_back_to_fidelity_when_no_balanced_score_is_computable():
    from medsyn.report.context import best_and_worst

    b = _board([
        {"generator": "a", "role": "candidate", "fidelity_score": 0.4, "privacy_score": np.nan, "n_rows": 3},
        {"generator": "b", "role": "candidate", "fidelity_score": 0.6, "privacy_score": np.nan, "n_rows": 4},
        {"generator": "c", "role": "candidate", "fidelity_score": np.nan, "privacy_score": np.nan, "n_rows": 0},
    ])
    best, worst = best_and_worst(b, min_rows=10)  # nobody is eligible: fall back to every candidate with rows
    assert (best["generator"], worst["generator"]) == ("b", "a")
    assert best_and_worst(b[b.generator == "c"], min_rows=10) == (None, None)


# --- scoring rules on hand-made numbers -------------------------------------------------------------------------

def _board(rows):
    b = pd.DataFrame([{"n_rows": 50, "n_seeds": 2, "releasable_seeds": 2, **r} for r in rows])
    b["kind"] = np.where(b["role"] == "candidate", "llm", "baseline")
    b["dataset"] = "d"
    b["train_rows"] = "all"
    b["label"] = b["generator"]
    b["balanced_score"] = 2 * b.fidelity_score * b.privacy_score / (b.fidelity_score + b.privacy_score)
    return b


def test_pareto_front_keeps_only_non_dominated_points_and_never_the_reference():
    b = _board([
        {"generator": "holdout", "role": "reference", "fidelity_score": 0.99, "privacy_score": 0.99},
        {"generator": "a", "role": "candidate", "fidelity_score": 0.9, "privacy_score": 0.2},
        {"generator": "b", "role": "candidate", "fidelity_score": 0.5, "privacy_score": 0.9},
        {"generator": "c", "role": "candidate", "fidelity_score": 0.4, "privacy_score": 0.8},  # dominated by b
        {"generator": "marginals", "role": "baseline", "fidelity_score": 0.6, "privacy_score": 0.6},
    ])
    front = set(b.loc[pareto_front(b), "generator"])
    assert front == {"a", "b", "marginals"}


def test_recommendation_rules_and_marginals_warning():
    b = _board([
        {"generator": "marginals", "role": "baseline", "fidelity_score": 0.7, "privacy_score": 0.9},
        {"generator": "copier", "role": "candidate", "fidelity_score": 0.95, "privacy_score": 0.3,
         "releasable_seeds": 0},
        {"generator": "honest", "role": "candidate", "fidelity_score": 0.6, "privacy_score": 0.95},
        {"generator": "tiny", "role": "candidate", "fidelity_score": 0.99, "privacy_score": 0.99, "n_rows": 3},
    ])
    rec = recommend(b, min_rows=10).set_index("use_case")
    assert rec.loc["highest_fidelity", "generator"] == "copier"  # 'tiny' has too few rows to be eligible
    assert rec.loc["privacy_critical", "generator"] == "honest"  # the copier fails the gate
    assert not rec.loc["privacy_critical", "beats_marginals"]
    assert "does not beat the marginals baseline" in rec.loc["privacy_critical", "note"]
    assert not rec["no_generator_beats_marginals"].any()  # the copier does beat it on fidelity

    b.loc[b.generator == "copier", "fidelity_score"] = 0.5
    b.loc[b.generator == "honest", "releasable_seeds"] = 1  # one of two seeds fails the gate
    rec = recommend(b, min_rows=10)
    assert rec["no_generator_beats_marginals"].all()
    assert rec.set_index("use_case").loc["privacy_critical", "generator"] is None


def test_composite_scores_follow_their_stated_formulas():
    t = pd.DataFrame([{
        "fidelity.ks_complement": 0.8, "fidelity.tv_complement": 0.6, "fidelity.association_diff_mean": 0.2,
        "fidelity.detection_auc": 0.75, "privacy.exact_copy_train_share": 0.1,
        "privacy.exact_copy_examples_share": 0.3, "privacy.dcr_closer_to_train_share_size_adjusted": 0.7,
        "privacy.mia_auc": 0.45, "utility.tstr_roc_auc": 0.9, "utility.trtr_roc_auc": 0.8}])
    s = add_scores(t).iloc[0]
    assert s["fidelity_score"] == pytest.approx((0.8 + 0.6 + 0.8 + 0.5) / 4)
    assert s["privacy_score"] == pytest.approx((0.7 + 0.6 + 1.0) / 3)
    assert s["utility_score"] == 1.0  # capped
    f, p = s["fidelity_score"], s["privacy_score"]
    assert s["balanced_score"] == pytest.approx(2 * f * p / (f + p))


def test_report_reads_only_the_tables_its_rule_declares():
    """The report finds each synthetic table through metrics.tsv's ``synthetic`` column (the evaluation's declared
    input), never by rebuilding a path; a table the rule does not declare, or an old metrics.tsv, is an error."""
    from medsyn.report.context import ReportError, check_declared, group_paths

    metrics = pd.DataFrame([
        {"kind": "llm", "dataset": "toy", "generator": "m", "prompt": "A", "mode": "grammar", "recipe": "default",
         "seed": s, "synthetic": f"elsewhere/run{s}/synthetic.csv"} for s in (1, 2)])
    row = metrics.iloc[0]
    assert group_paths(metrics, row) == ["elsewhere/run1/synthetic.csv", "elsewhere/run2/synthetic.csv"]
    check_declared(metrics, ["elsewhere/run1/synthetic.csv", "elsewhere/run2/synthetic.csv"])
    with pytest.raises(ReportError, match="does not declare as inputs: \\['elsewhere/run2/synthetic.csv'\\]"):
        check_declared(metrics, ["elsewhere/run1/synthetic.csv"])
    with pytest.raises(ReportError, match="no 'synthetic' column"):
        group_paths(metrics.drop(columns="synthetic"), row)


def test_the_report_opens_with_the_release_question_before_any_dataset_section(fixture_report):
    html, _ = fixture_report
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert headings[0] == "Which table can I release, and what does the model add?"
    assert html.index('id="overview-reading"') < html.index("<h2 id=\"ds-toy\">") < html.index('id="provenance"')
    reading = html_unescape(re.search(r'<div id="overview-reading" class="reading">(.*?)</div>', html, re.S).group(1))
    assert reading.startswith("<p>On 1 of 1 datasets an LLM table gives the best releasable table (toy-llm D grammar")
    # the fixture runs no steered-/drawn- baseline: the model's own contribution is said to be unmeasured
    assert "No LLM group has its recipe's pull" in reading
    card = re.search(r'<div class="card"><h3>(.*?)</h3>(.*?)</div>\n</div>', html, re.S)
    assert "Toy cohort &lt;b&gt;&amp;&lt;/b&gt; friends" in card.group(1)
    assert "Best releasable table, any generator" in card.group(2) and "Best LLM table" in card.group(2)
