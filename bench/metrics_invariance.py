"""Invariance check: metrics.json values of a fixed set of tables, before and after a change to the evaluation.

    # 1. the tables and their metrics with the code before the change (a worktree of the old commit)
    .venv/bin/python bench/metrics_invariance.py run --code ../wt-old --out /tmp/inv/before
    # 2. the same tables (copied, mtimes kept) re-evaluated by the code after the change
    .venv/bin/python bench/metrics_invariance.py rescore --code . --tables /tmp/inv/before --out /tmp/inv/after
    # 3. every value side by side
    .venv/bin/python bench/metrics_invariance.py compare /tmp/inv/before /tmp/inv/after [--tol 1e-9]
    # --no-llm (run, rescore): only the baselines and imports (no generation: minutes instead of an hour)

``run`` runs the workflow of ``--code`` (its Snakefile, its scripts and, through PYTHONPATH, its package) on
bench/invariance.yaml up to results/tables/metrics.tsv. ``rescore`` copies that results tree (and resources/, the
model) without any metrics.json, modification times kept, and runs the new workflow with ``--rerun-triggers
mtime``, so the synthetic tables, splits and imports are the very same files and only the evaluation runs again. ``compare`` pairs the metrics.json files of
both trees and prints, per metric key, how many tables agree to ``--tol`` (``bench/compare_runs.same``), which
differ (with the largest difference) and which keys appeared or disappeared; it exits 1 when any value differs
beyond the tolerance. Timings (``seconds``) are not compared. ``bench/compare_runs.py`` compares two whole runs
table by table (synthetic.csv with cmp too); this script re-evaluates the very same tables and sums up by key.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from medsyn import layout

from compare_runs import same  # bench/compare_runs.py: what "equal" means for two runs' values

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "bench" / "invariance.yaml"


def _merge(base: dict, over: dict) -> dict:
    """Snakemake's merge of config files: mappings updated key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _config(code: Path, out: Path) -> Path:
    """config/config.yaml of ``code`` merged with bench/invariance.yaml, data paths made absolute (the workflow
    runs in ``out``, where its own ``configfile:`` is not found)."""
    cfg = _merge(yaml.safe_load((code / "config" / "config.yaml").read_text()), yaml.safe_load(CONFIG.read_text()))
    for entry in cfg.get("dataset_options", {}).values():
        if "csv" in entry:
            entry["csv"] = str((REPO / entry["csv"]).resolve())
    if cfg.get("paper_raw"):
        cfg["paper_raw"]["root"] = str((REPO / cfg["paper_raw"]["root"]).resolve())
    path = out / "invariance.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _targets(no_llm: bool) -> list[str]:
    """metrics.tsv (every table), or with ``no_llm`` the metrics.json of the baselines and imports only (their
    folders gained a train-size level, train-all, with split.train_rows; LLM run folders a recipe level and the
    train-size level): the current layout's paths, so both revisions compared must have the train-size level."""
    if not no_llm:
        return ["results/tables/metrics.tsv"]
    cfg = yaml.safe_load(CONFIG.read_text())
    out = [f"{layout.baseline_dir(b, d, layout.ALL_TRAIN, s)}/metrics.json"
           for b in ("holdout", "marginals", "copula", "bootstrap") for d in cfg["datasets"] for s in cfg["seeds"]]
    raw = (REPO / cfg["paper_raw"]["root"]).resolve()
    for d in cfg["paper_raw"]["datasets"]:
        for m in cfg["paper_raw"]["models"]:
            out += [f"results/external/paper-{m}/{d}/P{p.stem[-1]}/metrics.json"
                    for p in sorted((raw / d / m).glob("prompt[1-4].txt"))]
    return out


def _snakemake(code: Path, out: Path, cores: int, no_llm: bool, *extra: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(code.resolve() / "src")}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(code.resolve() / "workflow" / "Snakefile"),
           "--directory", str(out), "--cores", str(cores), "--workflow-profile", "none", *_targets(no_llm),
           "--configfile", str(_config(code.resolve(), out)), *extra]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def run(args) -> None:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _snakemake(Path(args.code), out, args.cores, args.no_llm)


def rescore(args) -> None:
    src, out = Path(args.tables).resolve(), Path(args.out).resolve()
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    shutil.copytree(src / "results", out / "results", symlinks=True,
                    ignore=shutil.ignore_patterns("metrics.json", "*.memo.json", "tables"))
    if (src / "resources").is_dir():  # the model file: a fresh copy would be newer than the generated runs
        shutil.copytree(src / "resources", out / "resources", symlinks=True)
    _snakemake(Path(args.code), out, args.cores, args.no_llm, "--rerun-triggers", "mtime")


def _records(root: Path) -> dict[str, dict]:
    return {str(p.relative_to(root)): json.loads(p.read_text()) for p in sorted(root.glob("results/**/metrics.json"))}


def _differs(a, b, tol: float) -> float | None:
    """None when equal (compare_runs.same: numbers to ``tol``, anything else exactly), else the absolute
    difference (inf when not both numbers)."""
    if same(a, b, tol):
        return None
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return abs(a - b) if numbers else math.inf


def compare(args) -> int:
    before, after = _records(Path(args.before)), _records(Path(args.after))
    common = sorted(set(before) & set(after))
    print(f"{len(common)} tables in both trees ({len(before)} before, {len(after)} after)")
    for only, name in ((set(before) - set(after), "before"), (set(after) - set(before), "after")):
        for p in sorted(only):
            print(f"  only {name}: {p}")
    same, diff, added, removed = defaultdict(int), defaultdict(list), defaultdict(int), defaultdict(int)
    for path in common:
        for section in ("metrics", "errors", "generation"):
            a, b = before[path].get(section) or {}, after[path].get(section) or {}
            for key in set(a) | set(b):
                name = f"{section}:{key}"
                if key not in b:
                    removed[name] += 1
                elif key not in a:
                    added[name] += 1
                elif (d := _differs(a[key], b[key], args.tol)) is None:
                    same[name] += 1
                else:
                    diff[name].append((d, path, a[key], b[key]))
        for key in ("kind", "dataset", "generator", "prompt", "mode", "seed", "n_rows"):
            if before[path].get(key) != after[path].get(key):
                diff[f"record:{key}"].append((math.inf, path, before[path].get(key), after[path].get(key)))
    n_same = sum(same.values())
    print(f"{n_same} values equal to {args.tol:g}; {sum(len(v) for v in diff.values())} differ "
          f"({len(diff)} keys); {sum(removed.values())} removed ({len(removed)} keys); "
          f"{sum(added.values())} added ({len(added)} keys)")
    for name in sorted(diff):
        rows = sorted(diff[name], key=lambda r: -r[0] if math.isfinite(r[0]) else -1e300)
        worst = rows[0]
        print(f"  DIFFERS {name}: {len(rows)} of {len(rows) + same.get(name, 0)} tables; largest "
              f"{worst[0]:.3g} ({worst[1]}: {worst[2]!r} -> {worst[3]!r})")
    for label, keys in (("REMOVED", removed), ("ADDED", added)):
        for name in sorted(keys):
            print(f"  {label} {name}: {keys[name]} tables")
    return 1 if diff else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a workflow version on the fixed tables")
    p.add_argument("--code", required=True, help="repository root of the workflow version to run")
    p.add_argument("--out", required=True, help="working directory of the run")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--no-llm", action="store_true", help="baselines and imports only (no generation)")
    p = sub.add_parser("rescore", help="re-evaluate the tables of a previous run with a workflow version")
    p.add_argument("--code", required=True)
    p.add_argument("--tables", required=True, help="working directory of the earlier `run`")
    p.add_argument("--out", required=True)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--no-llm", action="store_true", help="baselines and imports only (no generation)")
    p = sub.add_parser("compare", help="compare the metrics.json files of two runs")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()
    if args.command == "compare":
        sys.exit(compare(args))
    {"run": run, "rescore": rescore}[args.command](args)


if __name__ == "__main__":
    main()
