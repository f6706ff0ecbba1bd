"""Render the committed report fixture (tests/fixtures/report) into a folder: shared by the report tests."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from medsyn import layout
from medsyn.config import load_config
from medsyn.data import read_table
from medsyn.gate import gate_rows
from medsyn.prompts import read_prompt
from medsyn.report import build, render, tables, write_figures, write_train_size_figure
from medsyn.report.scores import at_train_size
from medsyn.report.train_sizes import size_table
from medsyn.spec import load_spec
from medsyn.split import main_train_size

FIXTURE = Path(__file__).parent / "fixtures" / "report"


def fixture_gate(metrics: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The privacy gate's verdicts on the fixture's tables (records rebuilt from metrics.tsv)."""
    ids = ["kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe", "seed", "n_rows"]
    records = [(f"{i}/metrics.json", {**{k: r[k] for k in ids},
                                      "metrics": {k: v for k, v in r.items() if k.startswith("privacy.")}})
               for i, r in metrics.iterrows()]
    return pd.DataFrame(gate_rows(records, thresholds))


def render_fixture(workdir: Path, paper: dict | None = None, train_rows: list | None = None,
                   edit_metrics: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                   **report_settings) -> tuple[str, dict]:
    """Copy the fixture into ``workdir``, run the report steps there (tables, figures, HTML) and return the HTML
    and what was drawn. ``report_settings`` override the config's ``report`` section; ``train_rows`` sets config
    split.train_rows and ``edit_metrics`` rewrites metrics.tsv's rows first (to add rows of other train sizes)."""
    shutil.copytree(FIXTURE / "results", workdir / "results")
    shutil.copy(FIXTURE / "toy.yaml", workdir / "toy.yaml")
    raw = yaml.safe_load((FIXTURE / "config.yaml").read_text())
    raw["report"] = report_settings
    if train_rows is not None:
        raw["split"] = {"train_rows": train_rows}
    raw["dataset_options"]["toy"]["spec"] = str(workdir / "toy.yaml")
    config = load_config(raw)
    spec = load_spec(workdir / "toy.yaml")
    res = workdir / "results"
    metrics = pd.read_csv(res / "tables" / "metrics.tsv", sep="\t", dtype={"train_rows": str})
    if edit_metrics is not None:
        metrics = edit_metrics(metrics)
    gate = fixture_gate(metrics, config["release_gate"])
    board, rec = tables(metrics, gate, config["report"])
    board.to_csv(res / "tables" / "leaderboard.tsv", sep="\t", index=False)
    rec.to_csv(res / "tables" / "recommendation.tsv", sep="\t", index=False)
    cwd = Path.cwd()
    os.chdir(workdir)  # synthetic tables are found by their workflow-relative paths
    try:
        main = main_train_size(config["split"]["train_rows"])  # as rule report_figures draws them
        drawn = write_figures(spec, at_train_size(board, main), at_train_size(metrics, main),
                              read_table(res / "data/toy/holdout.csv", spec), res / "figures" / "toy",
                              config["report"]["min_valid_rows"])
        curves = write_train_size_figure(size_table(board), "toy", config["split"]["train_rows"],
                                         json.loads((res / "data/toy/split.json").read_text()), res / "figures" / "toy")
        drawn["figures"] += [curves] if curves else []
        metas = {}
        for p in sorted(res.glob("models/*/toy/*/*/*/*/seed*/generation.json")):
            key = layout.table_key(str(p.relative_to(workdir)))
            metas[(key["model"], "toy", key["train_rows"], key["prompt"], key["mode"], key["recipe"],
                   int(key["seed"]))] = {**json.loads(p.read_text()), "_written": "2026-01-01 00:00 UTC"}
        prompts = [read_prompt(p) for p in sorted(res.glob("prompts/toy/*/*/*/seed*.json"))]
        real = [read_table(res / f"data/toy/{part}.csv", spec) for part in ("train", "holdout", "reference")]
        context = build(config, {"toy": spec}, splits={"toy": json.loads((res / "data/toy/split.json").read_text())},
                        leaderboard=board, metrics=metrics, recommendation=rec,
                        figure_dirs={"toy": str(res / "figures" / "toy")}, metas=metas,
                        prompts={"toy": prompts}, real_frames={"toy": real}, gate=gate, paper=paper)
        html = render(context)
    finally:
        os.chdir(cwd)
    (workdir / "report.html").write_text(html)
    return html, {"drawn": drawn, "board": board, "recommendation": rec, "train": real[0], "spec": spec,
                  "gate": gate}
