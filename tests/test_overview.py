"""The report's cross-table views: every generator on every dataset, and what each recipe changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import repo_config
from medsyn.config import load_config
from medsyn.report.overview import cross_dataset, describe_recipe, recipe_effects, recipe_parents


def _ladder_config():
    raw = repo_config()
    raw["generation"]["recipes"] = {
        "paper": {"temperature": 0.7, "top_p": 0.9},
        "r1": {},
        "r2": {"examples": {"per_call": True}},
        "r3": {"examples": {"per_call": True}, "novelty": {"reject": ["earlier"]}},
        "r5": {"examples": {"per_call": True}, "novelty": {"reject": ["earlier"]}, "steering": {"strength": 4.0}},
    }
    # the ladder's base: untruncated sampling, every switch off (config.yaml turns the default recipe's on)
    raw["generation"].update(temperature=1.0, top_p=1.0, examples={}, novelty={"reject": []},
                             steering={"strength": 0.0})
    return load_config(raw)


def test_each_recipe_builds_on_the_largest_subset_of_its_switches():
    parents = recipe_parents(_ladder_config())
    assert parents == {"paper": "r1", "r1": None, "r2": "r1", "r3": "r2", "r5": "r3"}


def test_a_recipe_is_described_by_what_it_changes():
    config = _ladder_config()
    assert describe_recipe(config, "r1") == "the base generation settings"
    assert describe_recipe(config, "paper") == "temperature 0.7, top_p 0.9"
    assert describe_recipe(config, "r5") == ("examples.per_call True, novelty.reject ['earlier'], "
                                            "steering.strength 4.0")
    # the default config's one recipe is described by the switches it turns on, not as "the base settings"
    default = describe_recipe(load_config(repo_config()), "default")
    assert "examples.placement prefill" in default and "steering.strength 4.0" in default
    assert "novelty.reject ['earlier', 'examples', 'train', 'near']" in default and "outside" not in default


def _board(rows):
    out = []
    for dataset, kind, generator, recipe, fidelity in rows:
        role = "reference" if generator == "holdout" else ("baseline" if kind == "baseline" else "candidate")
        label = f"{generator} (baseline)" if kind == "baseline" else f"{generator} A grammar {recipe}"
        out.append({"dataset": dataset, "kind": kind, "generator": generator, "prompt": "A" if kind == "llm" else "-",
                    "mode": "grammar" if kind == "llm" else "-", "recipe": recipe, "role": role, "label": label,
                    "n_seeds": 2, "n_rows": 100.0, "fidelity_score": fidelity, "privacy_score": 0.9,
                    "balanced_score": 2 * fidelity * 0.9 / (fidelity + 0.9), "fidelity_score.ci_low": fidelity - 0.02,
                    "fidelity_score.ci_high": fidelity + 0.02})
    return pd.DataFrame(out)


BOARD = _board([
    ("pima", "baseline", "holdout", "-", 0.95), ("pima", "baseline", "marginals", "-", 0.79),
    ("pima", "llm", "smollm2", "paper", 0.47), ("pima", "llm", "smollm2", "r1", 0.56),
    ("pima", "llm", "smollm2", "r2", 0.60), ("pima", "llm", "smollm2", "r3", 0.58),
    ("pima", "llm", "smollm2", "r5", 0.83),
    ("stroke", "baseline", "holdout", "-", 0.93), ("stroke", "baseline", "marginals", "-", 0.80),
    ("stroke", "llm", "smollm2", "r5", 0.75),
])


def test_recipe_effects_give_each_step_its_change_from_the_parent():
    sections = recipe_effects(BOARD, _ladder_config())
    assert [s["dataset"] for s in sections] == ["pima"]  # stroke ran one recipe: nothing to compare
    rows = {r["recipe"]: r for r in sections[0]["rows"]}
    assert list(rows) == ["paper", "r1", "r2", "r3", "r5"]  # config order
    assert rows["r5"]["parent"] == "r3" and rows["r5"]["delta"] == "0.250"
    assert rows["paper"]["delta"] == "-0.090" and rows["r1"]["delta"] == "–"
    assert rows["r5"]["cells"][0] == {"value": "0.830", "interval": "0.810–0.850"}
    assert sections[0]["marginals"] == "0.790"


def test_one_recipe_gives_no_recipe_section():
    config = load_config(repo_config())
    assert recipe_effects(BOARD, config) == []


def test_cross_dataset_view_marks_who_beats_the_marginals():
    rec = pd.DataFrame([
        {"dataset": "pima", "use_case": "balanced", "title": "Balanced", "generator": "smollm2 A grammar r5"},
        {"dataset": "stroke", "use_case": "balanced", "title": "Balanced", "generator": "smollm2 A grammar r5"},
        {"dataset": "pima", "use_case": "privacy_critical", "title": "Privacy-critical", "generator": np.nan},
        {"dataset": "stroke", "use_case": "privacy_critical", "title": "Privacy-critical", "generator": np.nan},
    ])
    view = cross_dataset(BOARD, rec)
    assert view["datasets"] == ["pima", "stroke"]
    rows = {r["label"]: r for r in view["rows"]}
    assert [r["role"] for r in view["rows"]][:2] == ["reference", "baseline"]
    best = rows["smollm2 A grammar r5"]["cells"]
    assert [c["beats_marginals"] for c in best] == [True, False]  # 0.83 > 0.79 on pima; 0.75 < 0.80 on stroke
    assert rows["smollm2 A grammar paper"]["cells"][1]["scores"] == ["–", "–", "–"]  # not run on stroke
    picks = {p["title"]: p for p in view["picks"]}
    assert picks["Balanced"]["generator"] == "smollm2 A grammar r5" and picks["Balanced"]["datasets"] == 2
    assert picks["Privacy-critical"]["generator"] is None
