"""The figures of docs/paper-audit.md, computed in one process by the functions the workflow's rules use.

    .venv/bin/python bench/paper_audit_figures.py [--config config/paper.yaml ...] [--out results/bench/paper_audit]

The workflow computes these tables with rules ``import_external`` -> ``evaluate_external`` -> ``paper_copy_shares``
-> ``paper_comparison`` (config/paper.yaml). A full evaluation of the 266 imports takes hours on a shared 2-core
machine, so this script does the same steps for every published raw output in one process, with only the metric
families the audit's figures read:
- the real splits as ``prepare_data`` writes them (``medsyn.split.split_real``, the config's split), written and read
  back as the workflow does;
- each import through ``medsyn.importing.import_text`` with the ``paper_raw`` options of the config, its table
  written by ``medsyn.parse.write_rows`` and read back by ``medsyn.data.read_table``;
- the ``paper`` family (``medsyn.evaluate.paper_metrics.compute``), our KS / TV complements against the holdout
  (``medsyn.evaluate.fidelity``'s own column helpers and aggregation) and the exact-copy shares
  (``medsyn.evaluate.privacy``'s own row ids), each with the seed ``scripts/evaluate.py`` gives an import;
- ``medsyn.paper_audit``'s ``copy_share_row`` / ``copy_share_table`` / ``comparison_table`` / ``ranking_table``.
Every run is imported twice: as the config says (by default ``keep_prompt_echo: false``, the model's own rows: our
score, copy shares) and with ``keep_prompt_echo: true`` (the table the paper scored: the paper's harmonic score
recomputed on what the paper scored), i.e. the workflow run once with each setting. The detection AUC and DCR
columns of paper_comparison.tsv need the full fidelity and privacy families: they are left empty here (none of the
doc's figures reads them). Prints the doc's tables as markdown, writes the TSVs of both passes to ``--out`` and
compares this pass's metrics with the workflow's metrics.json wherever ``--check`` holds one.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("diabetes", "stroke", "cirrhosis")


def load_config(paths: list[Path]) -> dict:
    """config/config.yaml with each file merged over it in order (as ``--configfile`` merges them)."""
    from medsyn.config import load_config

    with open(REPO / "config" / "config.yaml") as fh:
        merged = copy.deepcopy(yaml.safe_load(fh))
    for path in paths:
        with open(path) as fh:
            over = yaml.safe_load(fh)
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return load_config(merged)


def splits(cfg: dict, dataset: str, folder: Path):
    from medsyn.data import load_real, read_table, write_table
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    entry = cfg["dataset_options"][dataset]
    spec = load_spec(entry["spec"]).with_csv(entry.get("csv"))
    split = cfg["split"]
    parts = split_real(load_real(spec), spec, split["holdout_fraction"], split["reference_fraction"], split["seed"])
    out = {}
    for name, part in parts.items():
        write_table(part, folder / f"{dataset}-{name}.csv", spec)
        out[name] = read_table(folder / f"{dataset}-{name}.csv", spec)
    return spec, out


def audit_metrics(inputs) -> dict:
    """The metrics the audit reads, computed by the families' own code."""
    from medsyn.evaluate import fidelity, paper_metrics, privacy
    from medsyn.evaluate.encoding import to_sdmetrics_frame

    # as medsyn.evaluate.suite does: '<key>.error' strings are errors, not metrics
    metrics = {f"paper.{k}": v for k, v in paper_metrics.compute(inputs).items() if not k.endswith("error")}
    spec = inputs.spec
    out = fidelity._Out()
    real_sd = to_sdmetrics_frame(inputs.holdout, spec)
    syn_sd = to_sdmetrics_frame(inputs.synthetic, spec)
    for col in spec.columns:
        helper = fidelity._numeric_column if col.is_numeric else fidelity._categorical_column
        helper(out, col.name, real_sd[col.name], syn_sd[col.name], len(syn_sd) == 0)
    fidelity._aggregate(out, spec, len(syn_sd))
    for key in ("ks_complement", "tv_complement"):
        metrics[f"fidelity.{key}"] = out.d.get(key)
    if len(inputs.synthetic):
        examples = inputs.examples if len(inputs.examples) else inputs.synthetic.iloc[:0]
        ids = privacy.row_ids([inputs.synthetic, inputs.train, inputs.holdout, examples, inputs.reference], spec)
        sy, tr, ho, ex, ref = ids
        metrics["privacy.exact_copy_train_share"] = privacy._copy_share(sy, tr)
        metrics["privacy.exact_copy_real_share"] = privacy._copy_share(sy, np.concatenate([tr, ho, ref]))
        metrics["privacy.exact_copy_examples_share"] = privacy._copy_share(sy, ex)
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()}


def compare(metrics: dict, path: Path, differences: list) -> int:
    """1 when the workflow wrote this run's metrics.json (each value this pass computed is compared), else 0."""
    if not path.is_file():
        return 0
    import json

    workflow = json.loads(path.read_text())["metrics"]
    for key, value in metrics.items():
        other = workflow.get(key)
        if isinstance(value, (int, float)) and isinstance(other, (int, float)):
            same = abs(float(value) - float(other)) <= 1e-9
        else:
            same = value == other
        if not same:
            differences.append(f"{path.parent}: {key} {value} vs {other}")
    return 1


def md(frame: pd.DataFrame, floatfmt: str = ".2f") -> str:
    return frame.to_markdown(index=False, floatfmt=floatfmt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, nargs="+", default=[REPO / "config" / "paper.yaml"],
                    help="config files merged over config/config.yaml, in order")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "bench" / "paper_audit")
    ap.add_argument("--limit", type=int, default=0, help="only the first N runs (a quick check)")
    ap.add_argument("--check", type=Path, default=REPO, help="a workflow directory whose results/external/.../"
                    "metrics.json, where they exist, are compared with this pass's metrics")
    args = ap.parse_args()

    from medsyn.config import paper_runs
    from medsyn.data import read_table
    from medsyn.evaluate import EvalInputs
    from medsyn.importing import import_text
    from medsyn.layout import PAPER_SCORES
    from medsyn.paper_audit import (
        comparison_table,
        copy_share_row,
        copy_share_table,
        ranking_table,
        read_paper_scores,
        spearman,
    )
    from medsyn.parse import write_rows
    from medsyn.seeds import derive_seed

    cfg = load_config(args.config)
    runs = paper_runs(cfg)
    if args.limit:
        runs = runs[:args.limit]
    tmp = Path(tempfile.mkdtemp())
    data = {}
    passes = {False: ([], []), True: ([], [])}  # keep_prompt_echo -> (copy-share rows, metrics records)
    checked, differences = 0, []
    for i, run in enumerate(runs):
        ds = run["dataset"]
        if ds not in data:
            data[ds] = splits(cfg, ds, tmp)
        spec, parts = data[ds]
        ext = next(e for e in cfg["external"].values() if e.get("name") == run["generator"] and e["dataset"] == ds)
        source = ext["runs"][run["label"]]
        text = Path(source["raw"]).read_text(encoding="utf-8", errors="replace")
        prompt = Path(source["prompt"]).read_text(encoding="utf-8", errors="replace")
        for keep_echo, (rows, records) in passes.items():  # the model's own rows; the table the paper scored
            parser, report, examples = import_text(spec, text, prompt, ext["keep_example_copies"],
                                                   ext["reject_duplicates"], keep_echo)
            syn_path, ex_path = tmp / "synthetic.csv", tmp / "examples.csv"
            write_rows(parser.result.rows, spec, syn_path, origin=source["raw"])
            write_rows([e.split(",") for e in examples], spec, ex_path, origin=source["raw"])
            synthetic, ex_table = read_table(syn_path, spec, real=False), read_table(ex_path, spec, real=False)
            seed = derive_seed("external", ds, run["generator"], run["label"])
            inputs = EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], synthetic, ex_table,
                                seed=seed)
            record = {"metrics": audit_metrics(inputs)}
            if keep_echo == ext["keep_prompt_echo"]:
                checked += compare(record["metrics"], args.check / run["dir"] / "metrics.json", differences)
            text_table = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731 (paper_tables.py)
            rows.append(copy_share_row(run, report, record, text_table(syn_path), text_table(ex_path)))
            records.append(record)
        print(f"[{i + 1}/{len(runs)}] {ds} {run['model']} {run['label']}: {len(parser.result.rows)} rows with echo, "
              f"{report['prompt_echo_rows']} of them echo", file=sys.stderr)
    scores = read_paper_scores(REPO / PAPER_SCORES)
    tables = {}
    for keep_echo, (rows, records) in passes.items():
        copies = copy_share_table(rows)
        comparison = comparison_table(records, runs, copies, scores)
        tables[keep_echo] = (copies, comparison, ranking_table(comparison))
    args.out.mkdir(parents=True, exist_ok=True)
    for keep_echo, suffix in ((False, ""), (True, "_echo_kept")):
        for name, frame in zip(("paper_copy_shares", "paper_comparison", "paper_rankings"), tables[keep_echo]):
            frame.to_csv(args.out / f"{name}{suffix}.tsv", sep="\t", index=False)
    same = [c for c in tables[False][0].columns if c not in ("example_copy_share_first100", "train_copy_share",
                                                              "real_copy_share")]
    agree = tables[False][0][same].equals(tables[True][0][same])
    report_tables(tables[False], tables[True], spearman)
    print(f"\nThe copy-share table from imports that kept the echo equals the one from imports that dropped it "
          f"(both shares, rows, verdicts): {agree}.")
    print(f"Checked against the workflow's metrics.json: {checked} runs, {len(differences)} values differ"
          + (": " + "; ".join(differences[:10]) if differences else "."))


def report_tables(own, scored, spearman) -> None:
    """The doc's tables: copy shares (both), rank agreement and rankings. ``own``: imports that dropped the echo
    (the model's rows: our score); ``scored``: imports that kept it (the table the paper scored: its metrics)."""
    copies, comparison, rankings = own
    _, comparison_scored, rankings_scored = scored
    order = {d: i for i, d in enumerate(DATASETS)}
    c = copies.assign(o=copies["dataset"].map(order))
    g = c.groupby(["o", "dataset", "prompt"], sort=True)
    summary = pd.DataFrame({
        "runs": g.size(),
        "candidate rows": g["candidate_rows"].sum(),
        "echo rows": g["prompt_echo_rows"].sum(),
        "model rows": g["rows_kept"].sum(),
        "copy share, model (mean)": g["example_copy_share"].mean(),
        "median": g["example_copy_share"].median(),
        "first 100": g["example_copy_share_first100"].mean(),
        "copy share, as scored (mean)": g["paper_example_copy_share"].mean(),
        "runs >= 90%": g["example_copy_share"].apply(lambda s: int((s >= 0.9).sum())),
        "100%-copy, model": g["all_copies"].sum(),
        "100%-copy, as scored": g["paper_all_copies"].sum(),
        "no model rows": g["rows_kept"].apply(lambda s: int((s == 0).sum())),
        "real-row copy share": g["real_copy_share"].mean(),
    }).reset_index().drop(columns="o")
    print("## Copy shares per dataset and prompt\n")
    print(md(summary))
    for label, col in (("of the model's own rows", "all_copies"), ("as the paper scored them", "paper_all_copies")):
        runs = c[c[col].astype(bool)].sort_values(["o", "model", "prompt"])
        print(f"\n**100%-copy runs, {label}** ({len(runs)}):\n")
        for ds in DATASETS:
            names = [f"{m} {p}" for m, p in runs[runs.dataset == ds][["model", "prompt"]].itertuples(index=False)]
            print(f"- **{ds}** ({len(names)}): {', '.join(names) or '-'}")
    flipped = c[c["paper_all_copies"].astype(bool) & ~c["all_copies"].astype(bool)]
    print(f"\n**Verdict changed** (100% copies as scored, not of the model's own rows; {len(flipped)}): "
          + ", ".join(f"{d} {m} {p} ({k} own rows)" for d, m, p, k in
                      flipped[["dataset", "model", "prompt", "rows_kept"]].itertuples(index=False)))
    print("\n## Rank agreement (Spearman)\n")
    out = []
    for ds in DATASETS:
        cells = comparison[comparison.dataset == ds]
        cells_scored = comparison_scored[comparison_scored.dataset == ds]
        models = rankings[(rankings.dataset == ds) & (rankings.level == "model")]
        models_scored = rankings_scored[(rankings_scored.dataset == ds) & (rankings_scored.level == "model")]
        out.append({
            "dataset": ds, "published cells": int(cells["paper_harmonic"].notna().sum()),
            "with a raw file": int((cells["paper_harmonic"].notna() & cells["rows_kept"].notna()).sum()),
            "cells: paper vs H recomputed (as scored)": spearman(cells_scored["paper_harmonic"],
                                                                 cells_scored["ours_paper_harmonic"]),
            "cells: paper vs H recomputed (model rows)": spearman(cells["paper_harmonic"],
                                                                  cells["ours_paper_harmonic"]),
            "cells: paper vs our score": spearman(cells["paper_harmonic"], cells["our_score"]),
            "cells: paper vs copy share (model)": spearman(cells["paper_harmonic"], cells["example_copy_share"]),
            "cells: paper vs copy share (as scored)": spearman(cells["paper_harmonic"],
                                                               cells["paper_example_copy_share"]),
            "models: paper vs H recomputed (as scored)": spearman(models_scored["paper_mean"],
                                                                  models_scored["ours_paper_harmonic_mean"]),
            "models: paper vs our score": spearman(models["paper_mean"], models["our_score_mean"]),
        })
    print(md(pd.DataFrame(out)))
    key = ["dataset", "level", "name"]
    merged = rankings.merge(rankings_scored[key + ["ours_paper_harmonic_mean", "ours_paper_harmonic_rank"]],
                            on=key, suffixes=("_model_rows", ""))
    cols = {"paper_mean": "paper H", "paper_rank": "paper rank", "ours_paper_harmonic_mean": "H recomputed",
            "ours_paper_harmonic_rank": "rank", "our_score_mean": "our score", "our_rank": "our rank",
            "example_copy_share_mean": "copy share", "paper_example_copy_share_mean": "as scored",
            "all_copy_runs": "100%-copy runs", "paper_all_copy_runs": "as scored "}
    print("\n## Rankings: prompts\n")
    prompts = merged[merged.level == "prompt"].assign(o=lambda f: f["dataset"].map(order)).sort_values(["o", "name"])
    print(md(prompts[["dataset", "name", "n_paper_cells", "n_runs"] + list(cols)].rename(
        columns={"name": "prompt", **cols}), ".3f"))
    for ds in DATASETS:
        models = merged[(merged.dataset == ds) & (merged.level == "model")].sort_values(
            ["paper_rank", "our_rank"], na_position="last")
        print(f"\n### {ds}\n")
        print(md(models[["name"] + list(cols)].rename(columns={"name": "model", **cols}), ".3f"))


if __name__ == "__main__":
    main()
