"""results/report.html: one self-contained page (figures embedded as data URIs, no scripts, no network).

- ``scores``: composite scores, leaderboard, Pareto front, recommendation per use case (the numbers);
- ``figures``: the matplotlib figures (PNG files under results/figures/);
- ``headline``: the opening, which table to release per dataset and what the model adds over its recipe's pull;
- ``train_sizes``, ``train_size_reading``: every generator group per train size, and where an LLM table beats the
  best classical generator, in words (the section shown when the config runs more than one train size);
- ``context``: the template's data, gathered from the workflow's files;
- this module: assembles the context and renders the Jinja2 template with autoescaping on, so every
  data-derived string (dataset titles, levels, generator names, prompt text) is escaped.
"""

from __future__ import annotations

import base64
import datetime
import io
from pathlib import Path

import jinja2
import pandas as pd

from medsyn.data import read_table
from medsyn.prompts import PromptArtifact
from medsyn.report import context as ctx
from medsyn.report import figures as figs
from medsyn.report import overview as ov
from medsyn.report.headline import headline
from medsyn.report.scores import (GROUP, RULES_TEXT, SCORES, add_gate, at_train_size, leaderboard, recommend,
                                  size_order)
from medsyn.report.train_size_reading import section as size_section, size_phrase, size_tick
from medsyn.report.train_sizes import size_table
from medsyn.spec import DatasetSpec
from medsyn.split import main_train_size

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
TEMPLATE = "report.html.j2"
# The leaderboard's columns: the composite scores first, then the raw metrics a reader checks them against.
LEADERBOARD_METRICS = SCORES + [
    "fidelity.ks_complement", "fidelity.tv_complement", "fidelity.detection_auc",
    "privacy.exact_copy_train_share", "privacy.exact_copy_examples_share",
    "privacy.dcr_closer_to_train_share_size_adjusted", "privacy.mia_auc", "clinical.rules_agree_share",
    "diversity.unique_row_share",
]
FIGURES = [
    ("privacy_fidelity", "Privacy vs fidelity",
     "Each generator (mean over seeds, bars = 95% intervals from two seeds on). Black-edged points are on the Pareto "
     "front: no other generator is better on both axes. The green star is the holdout baseline, unseen real "
     "patients: where a perfect generator would sit."),
    ("family_heatmaps", "Scores by generator and prompt type",
     "One panel per metric family; rows are generator · decoding mode, columns prompt types (A example-driven, "
     "B definitions, C statistics, D rules). All scores are in [0, 1], higher is better."),
    ("utility", "Utility: train on synthetic, test on real",
     "ROC AUC on the real holdout of a classifier trained on each generator's rows (TSTR), against the same "
     "classifier trained on real train rows (TRTR, dashed)."),
    ("distributions", "Per-column distributions: best and worst run",
     "Real holdout vs the synthetic rows of the best and the worst generator by balanced score (all seeds pooled). "
     "Numeric columns: density histograms on bins fixed from the real values; categorical: share of each level."),
    ("association_difference", "Correlation difference: best and worst run",
     "Synthetic minus real pairwise association (Spearman for numeric pairs, correlation ratio for mixed, "
     "Cramér's V for categorical): white = same structure as the real holdout."),
]


def tables(metrics: pd.DataFrame, gate: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(leaderboard, recommendation) from the metrics table, the privacy gate's verdicts and the config's
    ``report`` section."""
    extra = ["utility.tstr_roc_auc", "utility.trtr_roc_auc"] + [c for c, _, _ in ov.RECIPE_METRICS]
    board = leaderboard(metrics, LEADERBOARD_METRICS + extra)
    board = add_gate(board, gate)
    return board, recommend(board, settings["min_valid_rows"])


def _pooled(spec: DatasetSpec, paths: list[str]) -> pd.DataFrame:
    frames = [read_table(p, spec, real=False) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=spec.column_names)


def write_figures(spec: DatasetSpec, board: pd.DataFrame, metrics: pd.DataFrame, holdout: pd.DataFrame,
                  out_dir: str | Path, min_rows: float) -> dict:
    """Every figure of one dataset as PNG files in ``out_dir``; returns what was drawn (figure paths, best, worst).
    ``board`` and ``metrics`` hold that dataset's rows only; synthetic tables are read from their workflow paths."""
    out_dir = Path(out_dir)
    written = [
        figs.privacy_fidelity_scatter(board, out_dir / "privacy_fidelity.png"),
        figs.family_heatmaps(board, out_dir / "family_heatmaps.png"),
        figs.utility_bars(board, out_dir / "utility.png"),
    ]
    best, worst = ctx.best_and_worst(board, min_rows)
    runs = {f"{tag}: {row['label']}": _pooled(spec, ctx.group_paths(metrics, row))
            for tag, row in (("best", best), ("worst", worst)) if row is not None}
    if runs:
        written.append(figs.column_distributions(spec, holdout, runs, out_dir / "distributions.png"))
        written.append(figs.association_difference(spec, holdout, runs, out_dir / "association_difference.png"))
    return {"figures": [w for w in written if w], "best": None if best is None else best["label"],
            "worst": None if worst is None else worst["label"]}


def write_train_size_figure(by_size: pd.DataFrame, dataset: str, train_rows: list, split: dict,
                            out_dir: str | Path) -> str | None:
    """With more than one train size (config split.train_rows): fidelity by train size of one dataset as
    ``train_sizes.png`` in ``out_dir``, from the train-size table (``train_sizes.size_table``); else None."""
    sizes = sorted({str(n) for n in train_rows}, key=size_order)
    if len(sizes) < 2:
        return None
    return figs.train_size_curves(by_size[by_size["dataset"] == dataset], sizes, [size_tick(n, split) for n in sizes],
                                  Path(out_dir) / "train_sizes.png")


def data_uri(path: str | Path | bytes) -> str:
    raw = path if isinstance(path, bytes) else Path(path).read_bytes()
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


def overview_section(by_size: pd.DataFrame, metrics: pd.DataFrame, titles: dict[str, str]) -> dict:
    """The report's opening (``medsyn.report.headline``) with its generator x dataset figure, drawn in memory
    from the same size table (no file: the report rule's declared inputs are all it reads)."""
    opening = headline(by_size, metrics, titles)
    opening["figure"] = None
    if not by_size.empty and by_size["fidelity_score"].notna().any():
        buffer = io.BytesIO()
        figs.generator_dataset_dots(by_size, titles, buffer)
        opening["figure"] = data_uri(buffer.getvalue())
    return opening


def dataset_section(spec: DatasetSpec, *, config: dict, split: dict, board: pd.DataFrame, metrics: pd.DataFrame,
                    recommendation: pd.DataFrame, figure_dir: str | Path, metas: dict[tuple, dict],
                    prompts: list[PromptArtifact], real_frames: list[pd.DataFrame], gate: pd.DataFrame,
                    paper: dict | None = None) -> dict:
    """All that the report shows for one dataset; ``gate``: the privacy gate's rows of its tables; ``paper`` holds
    the paper-audit tables when configured."""
    metrics_cols = [m for m in LEADERBOARD_METRICS if m in board.columns]
    best, worst = ctx.best_and_worst(board, config["report"]["min_valid_rows"])
    balanced = recommendation[(recommendation["dataset"] == spec.name) & (recommendation["use_case"] == "balanced")]
    pick = board[board["label"] == balanced["generator"].iloc[0]] if len(balanced) else board.iloc[:0]
    figure_dir = Path(figure_dir)
    figures = [{"title": t, "caption": c, "src": data_uri(figure_dir / f"{name}.png")}
               for name, t, c in FIGURES if (figure_dir / f"{name}.png").exists()]
    header, sample, withheld = ctx.sample_rows(
        spec, ctx.group_paths(metrics, pick.iloc[0]) if len(pick) else [], real_frames,
        config["report"]["sample_rows"])
    clinical_header, clinical = ctx.clinical_rows(spec, metrics, board)
    return {
        "spec": spec, "split": split, "drafted": ctx.drafted_note(spec),
        "metric_header": ctx.metric_header(metrics_cols),
        "leaderboard": ctx.leaderboard_rows(board, metrics_cols),
        "recommendation": ctx.recommendation_rows(recommendation, spec.name, config),
        "figures": figures,
        "best": None if best is None else best["label"], "worst": None if worst is None else worst["label"],
        "clinical_header": clinical_header, "clinical": clinical,
        "utility": ctx.utility_rows(board),
        "privacy": ctx.privacy_rows(metrics, gate),
        "privacy_header": [title for _, title in ctx.PRIVACY_INTERVALS],
        "efficiency": ctx.efficiency_rows(metrics, metas),
        "prompts": [ctx.redact_prompt(p, config["report"]["show_real_rows"]) for p in prompts],
        "paper": None if not paper else ctx.paper_section(spec.name, paper["comparison"], paper["rankings"],
                                                          paper["copies"]),
        "sample": {"header": header, "rows": sample, "withheld": withheld,
                   "source": pick["label"].iloc[0] if len(pick) else None},
    }


def build(config: dict, specs: dict[str, DatasetSpec], *, splits: dict[str, dict], leaderboard: pd.DataFrame,
          metrics: pd.DataFrame, recommendation: pd.DataFrame, figure_dirs: dict[str, str],
          metas: dict[tuple, dict], prompts: dict[str, list[PromptArtifact]],
          real_frames: dict[str, list[pd.DataFrame]], gate: pd.DataFrame, paper: dict[str, pd.DataFrame] | None = None) -> dict:
    """The whole template context. ``gate``: results/tables/release_gate.tsv; ``paper``: the paper-audit tables
    (comparison, rankings, copies) or None. ``metas``: generation records by (model, dataset, train size, prompt,
    mode, recipe, seed). The per-dataset sections show one train size (``main_train_size``: all when run)."""
    main = main_train_size(config["split"]["train_rows"])
    titles = {name: spec.title for name, spec in specs.items()}
    opening = overview_section(at_train_size(size_table(leaderboard), main), at_train_size(metrics, main), titles)
    by_size = None  # the train-size section: only when the config runs more than one size
    if len(config["split"]["train_rows"]) > 1:
        figures = {name: data_uri(Path(figure_dirs[name]) / "train_sizes.png")
                   if (Path(figure_dirs[name]) / "train_sizes.png").exists() else None for name in specs}
        by_size = size_section(size_table(leaderboard), {name: spec.title for name, spec in specs.items()}, splits,
                               figures, main)
    leaderboard, metrics = at_train_size(leaderboard, main), at_train_size(metrics, main)
    recommendation, gate = at_train_size(recommendation, main), at_train_size(gate, main)
    metas = {k: v for k, v in metas.items() if str(k[2]) == main}
    datasets = []
    for name, spec in specs.items():
        board = leaderboard[leaderboard["dataset"] == name]
        datasets.append(dataset_section(
            spec, config=config, split=splits[name], board=board, metrics=metrics[metrics["dataset"] == name],
            recommendation=recommendation, figure_dir=figure_dirs[name],
            metas={k: v for k, v in metas.items() if k[1] == name}, prompts=prompts.get(name, []),
            real_frames=real_frames.get(name, []), gate=gate[gate["dataset"] == name], paper=paper))
    recipes = [{"name": name, "description": ov.describe_recipe(config, name)}
               for name in config["generation"]["recipes"]]
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config": config, "provenance": ctx.provenance(config, metas), "datasets": datasets, "headline": opening,
        "main_size": size_phrase(main),
        "overview": ov.cross_dataset(leaderboard, recommendation) if len(specs) > 1 else None,
        "recipes": recipes, "recipe_effects": ov.recipe_effects(leaderboard, config), "train_sizes": by_size,
        "recipe_metrics": [{"title": t, "better": b} for _, t, b in ov.RECIPE_METRICS],
        "score_rules": RULES_TEXT, "min_valid_rows": config["report"]["min_valid_rows"],
        "show_real_rows": config["report"]["show_real_rows"], "group_columns": GROUP,
    }


def render(context: dict) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every {{ }} is HTML-escaped; nothing in the template is marked safe
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(TEMPLATE).render(**context)
