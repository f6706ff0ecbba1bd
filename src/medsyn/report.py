"""A minimal self-contained HTML report: generation outcome per run and per-column real vs synthetic summaries.

Only aggregate statistics of real data appear here, never real rows. All data-derived text is escaped by
Jinja2's autoescape.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import jinja2
import pandas as pd

from medsyn.data import read_table
from medsyn.spec import DatasetSpec

TEMPLATE_DIR = Path(__file__).parent / "templates"


def column_summary(frame: pd.DataFrame, spec: DatasetSpec) -> dict[str, str]:
    """Numeric columns: mean; categorical: share of each level, compact."""
    out = {}
    for col in spec.columns:
        values = frame[col.name].dropna()
        if not len(values):
            out[col.name] = "-"
        elif col.is_numeric:
            out[col.name] = f"{values.astype(float).mean():.4g}"
        else:
            shares = values.astype(str).value_counts(normalize=True)
            out[col.name] = " ".join(f"{lvl}:{shares.get(lvl, 0):.0%}" for lvl in col.levels)
    return out


def build_context(config: dict, specs: dict[str, DatasetSpec], reports: list[dict], splits: dict[str, dict],
                  train_paths: dict[str, str], synthetic_paths: dict[tuple, str], metas: dict[tuple, dict]) -> dict:
    datasets = []
    for name, spec in specs.items():
        train = read_table(train_paths[name], spec)
        runs = [r for r in reports if r["dataset"] == name]
        columns = []
        real = column_summary(train, spec)
        synth = {}
        for r in runs:
            key = (r["model"], r["dataset"], r["prompt_type"], r["mode"], r["seed"])
            frame = read_table(synthetic_paths[key], spec, real=False)
            synth[key] = column_summary(frame, spec) if len(frame) else {}
            r["run_label"] = f"{r['model']} {r['prompt_type']} {r['mode']} s{r['seed']}"
            r["key"] = key
            r["meta"] = metas.get(key, {})
        for col in spec.columns:
            columns.append(
                {
                    "name": col.name,
                    "type": col.type,
                    "real": real[col.name],
                    "synthetic": [synth[r["key"]].get(col.name, "-") for r in runs],
                }
            )
        datasets.append({"spec": spec, "split": splits[name], "runs": runs, "columns": columns})
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config": config,
        "datasets": datasets,
        "models": {m: config["models"][m] for m in config["generation"]["models"]},
    }


def add_key_metrics(context: dict, key_metrics_tsv: str) -> None:
    """Per dataset: every generator, baseline and import with the key metrics (means over seeds)."""
    from medsyn.evaluate.aggregate import KEY_METRICS

    table = pd.read_csv(key_metrics_tsv, sep="\t")
    order = {"baseline": 0, "llm": 1, "external": 2}
    metrics = [(m, label, help_) for m, label, help_ in KEY_METRICS if m in table.columns]
    context["key_metrics"] = metrics
    for ds in context["datasets"]:
        rows = table[table["dataset"] == ds["spec"].name].copy()
        rows["_order"] = rows["kind"].map(order)
        rows = rows.sort_values(["_order", "generator", "prompt", "mode"])
        ds["evaluation"] = [
            {
                "label": f"{r['generator']}" + ("" if r["kind"] == "baseline" else f" {r['prompt']} {r['mode']}"),
                "kind": r["kind"],
                "n_seeds": int(r["n_seeds"]),
                "values": ["-" if pd.isna(r[m]) else f"{r[m]:.3f}" for m, _, _ in metrics],
            }
            for _, r in rows.iterrows()
        ]


def render(context: dict) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report_minimal.html.j2").render(**context)
