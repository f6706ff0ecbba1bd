"""Paper claims vs this evaluation: copy shares of the SynLLM paper's published runs, and its rankings beside ours.

Inputs are what the workflow already wrote for every imported paper run (``results/external/paper-<model>/...``):
the parse report, the metrics record, the kept table and the prompt's example rows. The paper's published
harmonic scores are in workflow/resources/synllm_paper_scores.tsv (transcribed from synllm-reference.md section 9.3).

Tables (column meanings are in ``COPY_COLUMNS`` / ``COMPARISON_COLUMNS`` / ``RANKING_COLUMNS``):
- ``copy_share_table``  -> results/tables/paper_copy_shares.tsv, one row per imported run;
- ``comparison_table``  -> results/tables/paper_comparison.tsv, one row per run (plus paper cells we lack);
- ``ranking_table``     -> results/tables/paper_rankings.tsv, models and prompts ranked per dataset, paper vs ours.

Our rank rule ("our_score"): the mean of the KS and TV complements against the real holdout (fidelity, 1 = same
distributions), multiplied by the share of rows that copy neither a prompt example nor a train patient
(1 - max(exact_copy_examples_share, exact_copy_train_share)); runs with fewer than ``MIN_ROWS`` kept rows get
no score (ranked last). It is one stated rule for ranking only, not a replacement for the full tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.config import PAPER_PROMPTS
from medsyn.evaluate.paper_metrics import harmonic_scores
from medsyn.parse import example_copy_share

MIN_ROWS = 10

COPY_COLUMNS = {
    "dataset": "dataset id",
    "model": "the paper's model (Hugging Face id)",
    "generator": "our generator name (paper-<model folder>)",
    "prompt": "the paper's prompt P1..P4",
    "prompt_type": "our prompt type A..D (P1 = A example-driven ... P4 = D rule-based, no examples)",
    "candidate_rows": "record-like lines our parser found in the raw output (echoed prompts included)",
    "valid_rows": "candidate rows valid per our dataset spec (echo, copies and repeats included)",
    "prompt_echo_rows": "valid rows inside echoed prompts: the prompt's own rows, written by the decoding script",
    "rows_kept": "the model's own rows: valid rows outside echoed prompts (example copies and repeats kept)",
    "example_copies": "the model's copies: its rows equal to one of the prompt's example rows",
    "example_copy_share": "example_copies / rows_kept: the model's own copy share, echo excluded",
    "example_copy_share_first100": "the same share in the model's first 100 rows (empty when the import kept echo)",
    "paper_rows": "rows of the table the paper scored: rows_kept + prompt_echo_rows",
    "paper_example_copies": "its rows equal to a prompt example: example_copies + echo rows equal to one",
    "paper_example_copy_share": "paper_example_copies / paper_rows: the copy share of the table the paper scored",
    "novel_rows": "rows_kept - example_copies",
    "novel_unique_rows": "distinct rows that are not example copies",
    "train_copy_share": "share of the imported table's rows equal to a real train row (privacy.exact_copy_train_share)",
    "real_copy_share": "share of the imported table's rows equal to any real row (privacy.exact_copy_real_share)",
    "all_copies": "True when the model has rows of its own and every one copies a prompt example (a 100%-copy run)",
    "paper_all_copies": "the same verdict on the table the paper scored (echo included)",
}

COMPARISON_COLUMNS = {
    "dataset": "dataset id",
    "model": "the paper's model (Hugging Face id)",
    "paper_model_name": "the model's name in the paper's figures",
    "prompt": "P1..P4",
    "prompt_type": "A..D",
    "paper_harmonic": "the paper's published harmonic score (empty: the paper has no score for this cell)",
    "paper_rank": "rank of paper_harmonic among the dataset's published cells (1 = best; empty: no published score)",
    "rows_kept": "rows of the imported table",
    "example_copy_share": "share of the model's own rows that copy a prompt example (echo excluded)",
    "paper_example_copy_share": "the copy share of the table the paper scored (echo included)",
    "all_copies": "100%-copy run (the model's own rows)",
    "paper_all_copies": "100%-copy run as the paper scored it (echo included)",
    "paper_privacy_score": "P: mean of min-max-normalised paper-defined privacy components (pool: the dataset's paper runs)",
    "paper_quality_score": "Q: the same for the quality components",
    "ours_paper_harmonic": "H = 2PQ/(P+Q) recomputed by us with the paper's metrics on the paper's raw outputs",
    "ours_paper_harmonic_rank": "rank of ours_paper_harmonic within the dataset (1 = best)",
    "ks_complement": "our fidelity: mean KS complement vs real holdout (1 = same)",
    "tv_complement": "our fidelity: mean TV complement vs real holdout (1 = same)",
    "detection_auc": "our real-vs-synthetic classifier AUC (0.5 = indistinguishable)",
    "dcr_share": "our DCR share: rows closer to train than to holdout, size-adjusted (0.5 ideal, 1 = copies)",
    "train_copy_share": "share of rows copying a real train row",
    "our_score": "our rank rule: fidelity x (1 - copy share); empty under 10 rows",
    "our_rank": "rank of our_score among the dataset's imported runs (1 = best; runs under 10 rows last)",
}

RANKING_COLUMNS = {
    "dataset": "dataset id",
    "level": "model or prompt",
    "name": "model (Hugging Face id) or prompt P1..P4",
    "paper_name": "the paper's name for the model",
    "n_paper_cells": "cells with a published paper score",
    "paper_mean": "mean published harmonic score over its cells (the paper's per-model average skips missing cells)",
    "paper_rank": "rank by paper_mean (1 = best; empty: the paper has no score)",
    "n_runs": "imported runs",
    "ours_paper_harmonic_mean": "mean of our recomputation of the paper's harmonic score",
    "ours_paper_harmonic_rank": "rank by it",
    "our_score_mean": "mean of our_score (runs without a score count as 0)",
    "our_rank": "rank by our_score_mean (1 = best)",
    "example_copy_share_mean": "mean copy share of its runs (the model's own rows, echo excluded)",
    "paper_example_copy_share_mean": "mean copy share of the tables the paper scored (echo included)",
    "all_copy_runs": "its runs whose own rows are 100% copies",
    "paper_all_copy_runs": "its runs whose table as the paper scored it is 100% copies",
}


def read_paper_scores(path) -> pd.DataFrame:
    """Long form: dataset, model_dir, paper_model_name, prompt, paper_harmonic (published cells only)."""
    wide = pd.read_csv(path, sep="\t", comment="#")
    long = wide.melt(id_vars=["dataset", "model_dir", "paper_model_name", "paper_avg"],
                     value_vars=list(PAPER_PROMPTS), var_name="prompt", value_name="paper_harmonic")
    return long.dropna(subset=["paper_harmonic"]).reset_index(drop=True)


def _share(copies, rows) -> float:
    share = example_copy_share(copies, rows)
    return np.nan if share is None else share


def _row_text(frame: pd.DataFrame) -> pd.Series:
    if len(frame) == 0 or len(frame.columns) == 0:
        return pd.Series([], index=frame.index[:0], dtype=str)
    return frame.astype(str).agg(",".join, axis=1)


def copy_share_row(run: dict, report: dict, record: dict, synthetic: pd.DataFrame, examples: pd.DataFrame) -> dict:
    """One imported run -> one row of paper_copy_shares.tsv. Tables are read as text (dtype=str).

    Both copy shares come from ``medsyn.parse.example_copy_share``: over the model's own rows, and over the table
    the paper scored (the model's rows plus the rows of the echoed prompts in its raw output). The import either
    dropped the echo rows (default: the table holds the model's rows) or kept them (``keep_prompt_echo``: the table
    is the paper's, and the parse report says how many of its rows are echo).
    """
    metrics = record.get("metrics", {})
    syn_text = _row_text(synthetic)
    is_copy = syn_text.isin(set(_row_text(examples)))
    echo = int(report.get("prompt_echo_rows", 0))
    echo_copies = int(report.get("prompt_echo_example_rows", 0))
    echo_kept = report.get("prompt_echo_rows_kept")
    if echo_kept is None:  # the table is the model's own rows
        own_rows, own_copies = len(synthetic), int(is_copy.sum())
        first = is_copy.iloc[:100]
        first100 = _share(int(first.sum()), len(first))
        paper_rows, paper_copies = own_rows + echo, own_copies + echo_copies
        novel = syn_text[~is_copy]
    else:  # the table is the paper's (keep_prompt_echo): its echo rows are counted in the report, not marked
        paper_rows, paper_copies = len(synthetic), int(is_copy.sum())
        own_rows, own_copies = paper_rows - int(echo_kept), paper_copies - min(echo_copies, int(echo_kept))
        first100 = np.nan
        novel = syn_text[~is_copy]
    return {
        "dataset": run["dataset"], "model": run["model"], "generator": run["generator"],
        "prompt": run["label"], "prompt_type": PAPER_PROMPTS.get(run["label"], ""),
        "candidate_rows": report.get("candidate_rows"), "valid_rows": report.get("spec_valid_rows"),
        "prompt_echo_rows": echo, "rows_kept": own_rows, "example_copies": own_copies,
        "example_copy_share": _share(own_copies, own_rows), "example_copy_share_first100": first100,
        "paper_rows": paper_rows, "paper_example_copies": paper_copies,
        "paper_example_copy_share": _share(paper_copies, paper_rows),
        "novel_rows": own_rows - own_copies, "novel_unique_rows": int(novel.nunique()),
        "train_copy_share": metrics.get("privacy.exact_copy_train_share"),
        "real_copy_share": metrics.get("privacy.exact_copy_real_share"),
        "all_copies": bool(own_rows > 0 and own_copies == own_rows),
        "paper_all_copies": bool(paper_rows > 0 and paper_copies == paper_rows),
    }


def copy_share_table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(COPY_COLUMNS))
    return table.sort_values(["dataset", "model", "prompt"]).reset_index(drop=True)


def _rank(values: pd.Series, missing_last: bool = False) -> pd.Series:
    """1 = highest; a missing value gets no rank (or the last one, for our score's stated rule)."""
    values = pd.to_numeric(values, errors="coerce")
    return values.rank(ascending=False, method="min", na_option="bottom" if missing_last else "keep").astype("Int64")


def our_score(metrics: pd.DataFrame, rows_kept: pd.Series) -> pd.Series:
    fid = metrics[["fidelity.ks_complement", "fidelity.tv_complement"]].apply(pd.to_numeric, errors="coerce")
    copies = metrics[["privacy.exact_copy_examples_share", "privacy.exact_copy_train_share"]].apply(
        pd.to_numeric, errors="coerce").fillna(0).max(axis=1)
    score = fid.mean(axis=1) * (1 - copies)
    return score.where(pd.to_numeric(rows_kept, errors="coerce") >= MIN_ROWS)


def comparison_table(records: list[dict], runs: list[dict], copies: pd.DataFrame,
                     paper_scores: pd.DataFrame) -> pd.DataFrame:
    """``records`` (metrics.json) and ``runs`` ({dataset, generator, model, label}) in the same order."""
    rows = []
    for run, rec in zip(runs, records):
        rows.append({"dataset": run["dataset"], "model": run["model"], "model_dir": run["generator"][len("paper-"):],
                     "prompt": run["label"], **rec.get("metrics", {})})
    metrics = pd.DataFrame(rows)
    for col in ("fidelity.ks_complement", "fidelity.tv_complement", "fidelity.detection_auc",
                "privacy.dcr_closer_to_train_share_size_adjusted", "privacy.exact_copy_train_share",
                "privacy.exact_copy_examples_share"):
        if col not in metrics.columns:
            metrics[col] = np.nan
    parts = []
    for dataset, group in metrics.groupby("dataset", sort=True):
        group = group.copy()
        group[["paper_privacy_score", "paper_quality_score", "ours_paper_harmonic"]] = harmonic_scores(
            group, dataset).to_numpy()
        parts.append(group)
    metrics = pd.concat(parts, ignore_index=True) if parts else metrics
    shares = ["example_copy_share", "paper_example_copy_share", "all_copies", "paper_all_copies"]
    shares = [c for c in shares if c in copies.columns]  # a copy table written before echo was counted apart
    metrics = metrics.merge(copies[["dataset", "model", "prompt", "rows_kept", *shares]],
                            on=["dataset", "model", "prompt"], how="left")
    for col in ("paper_example_copy_share", "all_copies", "paper_all_copies"):
        if col not in metrics.columns:
            metrics[col] = np.nan
    metrics["our_score"] = our_score(metrics, metrics["rows_kept"]) if len(metrics) else np.nan
    scores = paper_scores.rename(columns={"model_dir": "model_dir"})
    table = metrics.merge(scores[["dataset", "model_dir", "paper_model_name", "prompt", "paper_harmonic"]],
                          on=["dataset", "model_dir", "prompt"], how="outer")
    names = paper_scores.drop_duplicates("model_dir").set_index("model_dir")["paper_model_name"]
    table["paper_model_name"] = table["paper_model_name"].fillna(table["model_dir"].map(names))
    table["model"] = table["model"].fillna(table["model_dir"].str.replace("_", "/", n=1, regex=False))
    table["prompt_type"] = table["prompt"].map(PAPER_PROMPTS)
    for col in ("paper_harmonic", "ours_paper_harmonic", "our_score"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    table["paper_rank"] = table.groupby("dataset")["paper_harmonic"].transform(_rank)
    table["ours_paper_harmonic_rank"] = table.groupby("dataset")["ours_paper_harmonic"].transform(_rank)
    ours = table["rows_kept"].notna()  # runs we imported; published cells without a raw file get no rank
    table.loc[ours, "our_rank"] = table[ours].groupby("dataset")["our_score"].transform(_rank, missing_last=True)
    table["our_rank"] = table["our_rank"].astype("Int64")
    table = table.rename(columns={
        "fidelity.ks_complement": "ks_complement", "fidelity.tv_complement": "tv_complement",
        "fidelity.detection_auc": "detection_auc",
        "privacy.dcr_closer_to_train_share_size_adjusted": "dcr_share",
        "privacy.exact_copy_train_share": "train_copy_share",
    })
    table = table[list(COMPARISON_COLUMNS)].sort_values(["dataset", "model", "prompt"]).reset_index(drop=True)
    return table.round(4)


def ranking_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Models and prompts ranked per dataset by the paper's published scores and by our two readings."""
    out = []
    for (dataset, level), key in (((d, lv), k) for d in sorted(comparison["dataset"].unique())
                                  for lv, k in (("model", "model"), ("prompt", "prompt"))):
        sub = comparison[comparison["dataset"] == dataset]
        g = sub.groupby(key, sort=True)
        frame = pd.DataFrame({
            "dataset": dataset, "level": level, "name": g.size().index,
            "paper_name": g["paper_model_name"].first().to_numpy() if level == "model" else "",
            "n_paper_cells": g["paper_harmonic"].count().to_numpy(),
            "paper_mean": g["paper_harmonic"].mean().to_numpy(),
            "n_runs": g["rows_kept"].count().to_numpy(),
            "ours_paper_harmonic_mean": g["ours_paper_harmonic"].mean().to_numpy(),
            "our_score_mean": g["our_score"].apply(lambda s: s.fillna(0).mean() if s.notna().any() or len(s) else np.nan)
            .to_numpy(),
            "example_copy_share_mean": g["example_copy_share"].mean().to_numpy(),
            "paper_example_copy_share_mean": g["paper_example_copy_share"].mean().to_numpy(),
            "all_copy_runs": g["all_copies"].apply(lambda s: int(s.eq(True).sum())).to_numpy(),
            "paper_all_copy_runs": g["paper_all_copies"].apply(lambda s: int(s.eq(True).sum())).to_numpy(),
        })
        runs = g["rows_kept"].count().to_numpy()
        frame.loc[runs == 0, "our_score_mean"] = np.nan
        frame["paper_rank"] = _rank(frame["paper_mean"])
        frame["ours_paper_harmonic_rank"] = _rank(frame["ours_paper_harmonic_mean"])
        frame["our_rank"] = _rank(frame["our_score_mean"], missing_last=False)
        out.append(frame)
    table = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(RANKING_COLUMNS))
    return table[list(RANKING_COLUMNS)].round(4)


def spearman(a: pd.Series, b: pd.Series) -> float:
    """Rank correlation over the cells both have (NaN with fewer than 3)."""
    both = pd.concat([pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")], axis=1).dropna()
    if len(both) < 3:
        return np.nan
    return float(both.iloc[:, 0].rank().corr(both.iloc[:, 1].rank()))
