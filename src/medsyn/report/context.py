"""Everything the report template shows, gathered from the workflow's files into plain dicts and lists.

Real data appears only as aggregates, unless ``report.show_real_rows`` is set: prompts are shown with their
example rows replaced by a placeholder, and sample rows come from synthetic tables with every row equal to a real
row (train, holdout or reference) left out.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pandas as pd

from medsyn.data import read_table
from medsyn.errors import MedsynError
from medsyn.evaluate.aggregate import GROUP, KEY_METRICS
from medsyn.evaluate.encoding import row_keys
from medsyn.prompts import PromptArtifact
from medsyn.report.scores import REFERENCE_BASELINE, RULES_TEXT, SCORES, USE_CASES, label
from medsyn.spec import DatasetSpec

HIDDEN_ROW = "[real example row hidden: set report.show_real_rows to show]"
# privacy metrics shown with their own 95% interval (per table): (metrics.tsv key, column title)
PRIVACY_INTERVALS = [
    ("privacy.exact_copy_train_share", "train-copy share"),
    ("privacy.exact_copy_examples_share", "example-copy share"),
    ("privacy.dcr_closer_to_train_share_size_adjusted", "DCR share (size-adjusted)"),
    ("privacy.mia_auc", "MIA AUC"),
]


class ReportError(MedsynError):
    """The report's inputs do not fit together (a table the rule does not declare, an old metrics.tsv)."""
SCORE_TITLES = {"fidelity_score": "fidelity", "privacy_score": "privacy", "utility_score": "utility",
                "balanced_score": "balanced"}


def group_rows(metrics: pd.DataFrame, row) -> pd.DataFrame:
    """The metrics rows (one per seed) of the leaderboard group ``row`` (same values in every GROUP column)."""
    keep = np.ones(len(metrics), dtype=bool)
    for key in GROUP:
        if key in row and key in metrics:
            keep &= (metrics[key].astype(str) == str(row[key])).to_numpy()
    return metrics[keep]


def group_paths(metrics: pd.DataFrame, row) -> list[str]:
    """Synthetic tables (one per seed) of the leaderboard group ``row``: the paths the evaluation recorded
    (metrics.tsv's ``synthetic`` column, the files its rules declared)."""
    if "synthetic" not in metrics.columns:
        raise ReportError("metrics.tsv has no 'synthetic' column (written before the evaluation recorded its "
                          "tables' paths): rerun the evaluation (delete results/**/metrics.json)")
    return [str(p) for p in group_rows(metrics, row)["synthetic"]]


def check_declared(metrics: pd.DataFrame, declared: list[str]) -> None:
    """Every synthetic table the metrics point at is among the files the rule declared (so Snakemake tracks it)."""
    missing = sorted(set(metrics["synthetic"].astype(str)) - set(map(str, declared))) if len(metrics) else []
    if missing:
        raise ReportError(f"metrics.tsv points at synthetic tables the rule does not declare as inputs: "
                          f"{missing[:3]}{' ...' if len(missing) > 3 else ''}")


def best_and_worst(board: pd.DataFrame, min_rows: float) -> tuple[pd.Series | None, pd.Series | None]:
    """Highest and lowest balanced score among candidates eligible for a recommendation (at least ``min_rows``
    valid rows on average); among all candidates with rows when none is eligible. A candidate whose balanced score
    is not computable (too few rows for a privacy metric) ranks below every scored one, then by fidelity.
    None when no candidate produced a row."""
    cands = board[(board["role"] == "candidate") & (board["n_rows"] > 0)]
    if (cands["n_rows"] >= min_rows).any():
        cands = cands[cands["n_rows"] >= min_rows]
    if cands.empty:
        return None, None
    key = cands.assign(_b=cands["balanced_score"].fillna(-1.0), _f=cands["fidelity_score"].fillna(-1.0))
    ordered = key.sort_values(["_b", "_f", "label"], ascending=[False, False, True]).drop(columns=["_b", "_f"])
    worst = ordered.iloc[-1] if len(ordered) > 1 else None
    return ordered.iloc[0], worst


def fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def with_interval(row, col: str) -> dict:
    """A cell: mean and, from two seeds on, its 95% interval, clipped to [0, 1] (every metric shown is a share, an
    AUC or a score; a t-interval from few seeds can overshoot that range)."""
    lo, hi = row.get(f"{col}.ci_low"), row.get(f"{col}.ci_high")
    interval = "" if pd.isna(lo) or pd.isna(hi) else f"[{max(lo, 0.0):.3f}, {min(hi, 1.0):.3f}]"
    return {"value": fmt(row.get(col)), "interval": interval}


def leaderboard_rows(board: pd.DataFrame, metrics: list[str]) -> list[dict]:
    return [
        {"label": r["label"], "role": r["role"], "kind": r["kind"], "n_seeds": int(r["n_seeds"]),
         "n_rows": fmt(r["n_rows"], 1), "pareto": bool(r["pareto"]),
         "releasable": f"{int(r.get('releasable_seeds', 0))}/{int(r['n_seeds'])}",
         "cells": [with_interval(r, c) for c in metrics]}
        for _, r in board.iterrows()
    ]


def redact_prompt(prompt: PromptArtifact, show_real_rows: bool) -> dict:
    """The prompt as the model saw it (system, user, assistant prefill), example rows hidden unless asked."""
    texts = {"system": prompt.system, "user": prompt.user, "prefill": prompt.prefill}
    if not show_real_rows:
        for row in prompt.example_rows:
            for k in texts:
                texts[k] = texts[k].replace(row, HIDDEN_ROW)
    return {"type": prompt.prompt_type, "name": prompt.prompt_name, "seed": prompt.seed,
            "n_examples": len(prompt.example_rows), **texts}


def sample_rows(spec: DatasetSpec, paths: list[str], real: list[pd.DataFrame], n: int) -> tuple[list, list, int]:
    """Up to ``n`` synthetic rows (header, rows, how many candidate rows were withheld as equal to a real row)."""
    if n == 0 or not paths:
        return [c.name for c in spec.columns], [], 0
    frame = pd.concat([read_table(p, spec, real=False) for p in paths], ignore_index=True)
    if frame.empty:
        return [c.name for c in spec.columns], [], 0
    keys = row_keys(frame, spec)
    real_keys = set()
    for r in real:
        real_keys.update(row_keys(r, spec))
    copies = keys.isin(real_keys)
    shown = keys[~copies].head(n)
    rows = [k.split(",") for k in shown]
    return [c.name for c in spec.columns], rows, int(copies.sum())


def efficiency_rows(metrics: pd.DataFrame, metas: dict[tuple, dict]) -> list[dict]:
    """Generation cost and yield of each LLM run: what was asked, what came back valid, at what speed."""
    out = []
    llm = metrics[metrics["kind"] == "llm"].sort_values(["generator", "prompt", "mode", "recipe", "seed"])
    for _, r in llm.iterrows():
        meta = metas.get((r["generator"], r["dataset"], str(r["train_rows"]), r["prompt"], r["mode"], r["recipe"],
                          int(r["seed"])), {})
        requested = (meta.get("settings") or {}).get("target_rows")

        def g(name, digits=3):
            v = pd.to_numeric(pd.Series([r.get(f"generation.{name}")]), errors="coerce").iloc[0]
            return fmt(None if pd.isna(v) else float(v), digits)

        out.append({
            "label": label(r), "seed": int(r["seed"]),
            "requested": fmt(requested), "valid": fmt(int(r["n_rows"])),
            "yield": fmt(r["n_rows"] / requested if requested else None, 2),
            "candidates": g("candidate_rows", 0), "example_copies": g("example_copies", 0),
            "duplicates": g("duplicates", 0), "rows_per_second": g("rows_per_second"),
            "tokens_per_row": g("tokens_per_valid_row", 1), "calls": g("calls", 0),
            "seconds": fmt(meta.get("seconds"), 1), "status": str(r.get("generation.status", "")),
        })
    return out


def clinical_rows(spec: DatasetSpec, metrics: pd.DataFrame, board: pd.DataFrame) -> tuple[list[str], list[dict]]:
    """Each clinical rule: its value on real train and holdout, and on each generator group (mean over seeds)."""
    groups = board[board["role"] != "reference"]
    header = list(groups["label"])
    rows = []
    for rule in spec.rules:
        base = f"clinical.rule.{rule.id}"
        real = {}
        for part in ("train", "holdout"):
            col = f"{base}.{part}"
            vals = pd.to_numeric(metrics[col], errors="coerce").dropna() if col in metrics else pd.Series([])
            real[part] = float(vals.iloc[0]) if len(vals) else None
        cells = []
        for _, g in groups.iterrows():
            sel = group_rows(metrics, g)
            val = pd.to_numeric(sel.get(f"{base}.synthetic"), errors="coerce").mean() if len(sel) else np.nan
            agree = pd.to_numeric(sel.get(f"{base}.synthetic_agrees"), errors="coerce").mean() if len(sel) else np.nan
            cells.append({"value": fmt(val), "agrees": None if pd.isna(agree) else agree >= 0.5})
        rows.append({"id": rule.id, "text": rule.text, "kind": rule.kind,
                     "train": fmt(real["train"]), "holdout": fmt(real["holdout"]), "cells": cells})
    return header, rows


def table_interval(row, key: str) -> dict:
    """A cell: the table's value and its own 95% interval (``<key>_ci95_low`` / ``_high``)."""
    lo, hi = row.get(f"{key}_ci95_low"), row.get(f"{key}_ci95_high")
    interval = "" if pd.isna(lo) or pd.isna(hi) else f"[{lo:.3f}, {hi:.3f}]"
    value = row.get(key)
    return {"value": fmt(None if pd.isna(value) else float(value)), "interval": interval}


def privacy_rows(metrics: pd.DataFrame, gate: pd.DataFrame) -> list[dict]:
    """One row per evaluated table: the privacy metrics with their 95% intervals and the gate's verdict."""
    keys = ["kind", "generator", "prompt", "mode", "recipe", "seed"]
    verdicts = {}
    for _, g in gate.iterrows():
        verdicts[tuple(str(g[k]) for k in keys)] = (str(g["releasable"]).lower() == "true",
                                                   "" if pd.isna(g["reasons"]) else str(g["reasons"]))
    out = []
    order = {"baseline": 0, "llm": 1, "external": 2}
    rows = metrics.assign(_o=metrics["kind"].map(order)).sort_values(["_o", "generator", "prompt", "mode", "recipe",
                                                                      "seed"])
    for _, r in rows.iterrows():
        releasable, reasons = verdicts.get(tuple(str(r[k]) for k in keys), (None, "not in the gate table"))
        n_eff = pd.to_numeric(pd.Series([r.get("privacy.n_effective")]), errors="coerce").iloc[0]
        out.append({"label": label({k: r[k] for k in GROUP if k in r}), "seed": r["seed"], "role": _role(r),
                    "n_rows": fmt(int(r["n_rows"])), "n_effective": fmt(None if pd.isna(n_eff) else float(n_eff), 1),
                    "cells": [table_interval(r, key) for key, _ in PRIVACY_INTERVALS],
                    "releasable": releasable, "reasons": reasons})
    return out


def _role(row) -> str:
    if row["kind"] != "baseline":
        return "candidate"
    return "reference" if row["generator"] == REFERENCE_BASELINE else "baseline"


def utility_rows(board: pd.DataFrame) -> list[dict]:
    out = []
    for _, r in board.iterrows():
        if pd.isna(r.get("utility.tstr_roc_auc")) and pd.isna(r.get("utility_score")):
            continue
        out.append({"label": r["label"], "role": r["role"],
                    "tstr": with_interval(r, "utility.tstr_roc_auc"),
                    "trtr": fmt(r.get("utility.trtr_roc_auc")),
                    "ratio": with_interval(r, "utility_score")})
    return out


def provenance(config: dict, metas: dict[tuple, dict]) -> dict:
    """Models with hash and quantization, the llama.cpp build and CPU features, decoding, seeds and run dates."""
    models = []
    for mid in config["generation"]["models"]:
        entry = config["models"][mid]
        seen = [m for k, m in metas.items() if k[0] == mid]
        models.append({"id": mid, "description": entry.get("description", ""),
                       "quantization": entry.get("quantization") or (seen[0].get("quantization") if seen else ""),
                       "sha256": entry["sha256"], "chat": entry.get("chat", ""),
                       "n_gpu_layers": entry.get("n_gpu_layers", 0),
                       "chat_template_sha256": sorted({m.get("chat_template_sha256") or "-" for m in seen})})
    builds = sorted({f"llama-cpp-python {m.get('llama_cpp_python', '?')}" for m in metas.values()})
    system = sorted({m.get("system_info", "") for m in metas.values() if m.get("system_info")})
    dates = sorted(m["_written"] for m in metas.values() if m.get("_written"))
    gen = config["generation"]
    return {
        "models": models, "builds": builds, "system_info": system,
        "first_run": dates[0] if dates else "–", "last_run": dates[-1] if dates else "–",
        "seeds": config["seeds"], "modes": gen["modes"], "prompt_types": config["prompts"]["types"],
        "decoding": {k: gen[k] for k in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty",
                                           "target_rows", "rows_per_call", "max_calls") if k in gen},
        "split": config["split"],
    }


def written_at(path: str) -> str:
    ts = Path(path).stat().st_mtime
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def metric_header(metrics: list[str]) -> list[dict]:
    help_ = {m: (lbl, h) for m, lbl, h in KEY_METRICS}
    out = []
    for m in metrics:
        if m in SCORES:
            out.append({"key": m, "label": SCORE_TITLES[m], "help": RULES_TEXT[m], "score": True})
        else:
            lbl, h = help_.get(m, (m, ""))
            out.append({"key": m, "label": lbl, "help": h, "score": False})
    return out


def gate_text(thresholds: dict) -> str:
    """The release_gate thresholds in words, for the privacy-critical rule."""
    names = {"min_rows": "at least {} rows", "max_exact_copy_train_share": "train-copy share at most {}",
             "max_exact_copy_examples_share": "example-copy share at most {}",
             "max_exact_copy_real_share": "real-copy share at most {}",
             "max_dcr_closer_to_train_share": "DCR share at most {}", "max_mia_auc": "MIA AUC at most {}"}
    return ", ".join(names[k].format(v) for k, v in thresholds.items() if v is not None and k in names)


def recommendation_rows(rec: pd.DataFrame, dataset: str, config: dict) -> dict:
    rules = {case: text.format(gate=gate_text(config["release_gate"])) for case, _, text in USE_CASES}
    rows = rec[rec["dataset"] == dataset]
    return {
        "items": [{"title": r["title"], "generator": r["generator"] if isinstance(r["generator"], str) else None,
                   "score_name": SCORE_TITLES.get(r["score_name"], r["score_name"]), "score": fmt(r["score"]),
                   "rule": rules[r["use_case"]], "note": r["note"] if isinstance(r["note"], str) else ""}
                  for _, r in rows.iterrows()],
        "no_generator_beats_marginals": bool(rows["no_generator_beats_marginals"].any()) if len(rows) else False,
    }


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as numbers; a column the table lacks (an older paper_copy_shares.tsv) is empty."""
    return pd.to_numeric(frame[column], errors="coerce") if column in frame else pd.Series(dtype=float)


def _rank_agreement(frame: pd.DataFrame, a: str, b: str) -> tuple[float | None, int]:
    """Spearman correlation between two rank columns over the rows that have both (None under 3 rows)."""
    both = frame[[a, b]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(both) < 3:
        return None, len(both)
    rho = both[a].rank().corr(both[b].rank())
    return (None if pd.isna(rho) else float(rho)), len(both)


def paper_section(dataset: str, comparison: pd.DataFrame, rankings: pd.DataFrame, copies: pd.DataFrame) -> dict | None:
    """'Paper claims vs this evaluation' for one dataset: the paper's ranking of models and prompts next to ours,
    each run's copy share, the runs that are 100% copies, and how far the rankings agree (Spearman)."""
    rank = rankings[rankings["dataset"] == dataset]
    comp = comparison[comparison["dataset"] == dataset]
    cop = copies[copies["dataset"] == dataset]
    if rank.empty and comp.empty:
        return None
    levels = {}
    for level in ("model", "prompt"):
        rows = rank[rank["level"] == level].sort_values(["paper_rank", "name"], na_position="last")
        rho, n = _rank_agreement(rows, "paper_rank", "our_rank")
        rho_h, _ = _rank_agreement(rows, "paper_rank", "ours_paper_harmonic_rank")
        levels[level] = {
            "rows": [{"name": r["name"], "paper_name": r.get("paper_name") if isinstance(r.get("paper_name"), str) else "",
                      "paper_mean": fmt(r.get("paper_mean")), "paper_rank": fmt(r.get("paper_rank"), 0),
                      "ours_paper_harmonic": fmt(r.get("ours_paper_harmonic_mean")),
                      "ours_paper_harmonic_rank": fmt(r.get("ours_paper_harmonic_rank"), 0),
                      "our_score": fmt(r.get("our_score_mean")), "our_rank": fmt(r.get("our_rank"), 0),
                      "copy_share": fmt(r.get("example_copy_share_mean")),
                      "all_copy_runs": fmt(r.get("all_copy_runs"), 0)} for _, r in rows.iterrows()],
            "rho_ours": fmt(rho, 2), "rho_paper_metrics": fmt(rho_h, 2), "n": n,
        }
    runs = [{"model": r["model"], "prompt": r["prompt"], "paper_harmonic": fmt(r.get("paper_harmonic")),
             "paper_rank": fmt(r.get("paper_rank"), 0), "rows_kept": fmt(r.get("rows_kept"), 0),
             "copy_share": fmt(r.get("example_copy_share")), "all_copies": str(r.get("all_copies")) == "True",
             "paper_copy_share": fmt(r.get("paper_example_copy_share")),
             "paper_all_copies": str(r.get("paper_all_copies")) == "True",
             "ours_paper_harmonic": fmt(r.get("ours_paper_harmonic")), "our_score": fmt(r.get("our_score")),
             "our_rank": fmt(r.get("our_rank"), 0)}
            for _, r in comp.sort_values(["paper_rank", "model", "prompt"], na_position="last").iterrows()]
    all_copies = cop[cop["all_copies"].astype(str) == "True"]
    paper_all = cop[cop["paper_all_copies"].astype(str) == "True"] if "paper_all_copies" in cop else cop.iloc[:0]
    return {
        "levels": levels, "runs": runs,
        "n_runs": len(cop),
        "all_copy_runs": [f"{r['model']} {r['prompt']}" for _, r in all_copies.iterrows()],
        "paper_all_copy_runs": len(paper_all),
        "echo_rows": fmt(_numeric(cop, "prompt_echo_rows").sum(), 0),
        "mean_copy_share": fmt(_numeric(cop, "example_copy_share").mean()),
        "mean_paper_copy_share": fmt(_numeric(cop, "paper_example_copy_share").mean()),
    }


def drafted_note(spec: DatasetSpec) -> dict | None:
    """What a drafted spec assumed (its ``drafted`` block) and the column types it chose, for the reader; None
    for a spec written by hand. Only names, reasons and counts: the drafted block holds no cell values."""
    if not spec.drafted:
        return None
    types: dict[str, int] = {}
    for col in spec.columns:
        types[col.type] = types.get(col.type, 0) + 1
    block = spec.drafted
    return {
        "source": block.get("from", ""), "read": block.get("read", ""), "target": block.get("target", spec.target),
        "types": ", ".join(f"{n} {t}" for t, n in types.items()),
        "roles": [f"{name}: {why}" for name, why in (block.get("roles") or {}).items()],
        "missing": list(block.get("missing") or []), "checks": list(block.get("checks") or []),
        "path": spec.path,
    }
