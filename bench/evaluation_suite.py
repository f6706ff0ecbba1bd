"""Benchmark: what evaluating one synthetic table costs on the Kaggle diabetes table, and what a workflow batch costs.

    .venv/bin/python bench/evaluation_suite.py [--data ../shared/data/diabetes.csv] [--sizes 100 1000 10000 100000]
                                               [--repeats 3] [--workflow-tables 20] [--skip-workflow]

1. Per table: the workflow's split of diabetes (train 60k, holdout 25k, reference 15k; split seed 20250811), its
   real side computed once (as the real_side rule does) and read from its files, then the whole suite (fidelity,
   clinical, privacy, utility, diversity) on a `marginals` baseline table of each size, against sdmetrics'
   QualityReport alone on the same table (holdout vs synthetic, what fidelity's own QualityReport compares) in the
   same run. Every measurement runs in a fresh subprocess (its peak RSS is its own), suite and report interleaved
   (the machines are shared and noisy); medians of wall and CPU seconds are printed, with each size's ratio to the
   QualityReport and to the previous size (10x the rows at no more than 10x the time = no worse than linear).
2. Workflow: 20 of the SynLLM paper's raw diabetes outputs imported (untimed), then their evaluation through
   Snakemake (--cores 2) timed, once in batch jobs (evaluation.batch_size 20) and once one job per table
   (batch_size 1): wall seconds per table, Python's start and the imports included.

Targets (issue 15): a 100-row table at most 1.5 s median; cost no worse than linear in synthetic rows.
Timings taken while others use the machine are inflated: the `uptime` load is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from medsyn import layout

REPO = Path(__file__).resolve().parents[1]
SPLIT = {"holdout_fraction": 0.25, "reference_fraction": 0.15, "seed": 20250811}  # config/config.yaml's split


def _split(data: str):
    from medsyn.data import load_real
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(REPO / "config" / "datasets" / "diabetes.yaml").with_csv(data)
    parts = split_real(load_real(spec), spec, SPLIT["holdout_fraction"], SPLIT["reference_fraction"], SPLIT["seed"])
    return spec, parts


def build_real_side(data: str, folder: str) -> None:
    from medsyn.evaluate import real_side
    from medsyn.evaluate.suite import FAMILIES

    spec, parts = _split(data)
    started = time.perf_counter()
    real = real_side.build(spec, parts["train"], parts["holdout"], parts["reference"], SPLIT["seed"], FAMILIES)
    real_side.save(real, Path(folder) / "real_side.json", Path(folder) / "real_side.npz")
    print(json.dumps({"seconds": time.perf_counter() - started}))


def worker(which: str, data: str, folder: str, n: int, seed: int) -> None:
    import resource

    import numpy as np

    from medsyn.baselines import marginals_baseline
    from medsyn.evaluate import EvalInputs, real_side

    spec, parts = _split(data)
    synthetic = marginals_baseline(parts["train"][spec.column_names], n, np.random.default_rng(seed))
    synthetic = synthetic.reset_index(drop=True)
    real = real_side.load(Path(folder) / "real_side.json", Path(folder) / "real_side.npz")
    # a first small table pays the libraries' lazy imports, as the first table of a batch job does
    warm_up = synthetic.iloc[:20]
    if which == "suite":
        from medsyn.evaluate.suite import evaluate_table

        def inputs(table):
            return EvalInputs(spec, parts["train"], parts["holdout"], parts["reference"], table, seed=seed, real=real)

        evaluate_table(inputs(warm_up))
        wall, cpu = time.perf_counter(), time.process_time()
        result = evaluate_table(inputs(synthetic))
        crashed = [f for f in result["seconds"] if f in result["errors"]]  # a family that raised (none expected)
        detail = {"families": result["seconds"], "crashed": crashed}
    else:
        from sdmetrics.reports.single_table import QualityReport

        from medsyn.evaluate.encoding import sdmetrics_metadata, to_sdmetrics_frame

        real_sd, meta = to_sdmetrics_frame(parts["holdout"], spec), sdmetrics_metadata(spec)
        QualityReport().generate(real_sd, to_sdmetrics_frame(warm_up, spec), meta, verbose=False)
        wall, cpu = time.perf_counter(), time.process_time()
        np.random.seed(seed)
        report = QualityReport()
        report.generate(real_sd, to_sdmetrics_frame(synthetic, spec), meta, verbose=False)
        detail = {"score": round(report.get_score(), 4)}
    out = {"which": which, "rows": n, "seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
           "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "detail": detail}
    print(json.dumps(out))


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def per_table(args, folder: str) -> None:
    real = _run("--build-real-side", folder, "--data", args.data)
    print(f"real side of diabetes (once per dataset): {real['seconds']:.1f} s")
    runs: dict = {}
    for rep in range(args.repeats):
        for n in args.sizes:
            for which in ("suite", "quality_report"):
                rec = _run("--worker", which, folder, "--rows", str(n), "--data", args.data, "--seed", str(args.seed))
                runs.setdefault((n, which), []).append(rec)
                extra = rec["detail"].get("families", rec["detail"].get("score"))
                print(f"  repeat {rep + 1} {n:>7,} rows {which:15s} {rec['seconds']:6.2f} s (cpu {rec['cpu']:5.2f})"
                      f"  peak {rec['peak_mib']:6.0f} MiB  {extra}", flush=True)
    med = {key: (statistics.median(r["seconds"] for r in recs), statistics.median(r["cpu"] for r in recs),
                 max(r["peak_mib"] for r in recs)) for key, recs in runs.items()}
    print(f"\ndiabetes, one synthetic table (marginals) against the real side, {args.repeats} interleaved repeats, "
          f"medians; load {os.getloadavg()[0]:.1f}")
    print(f"  {'rows':>7}  {'suite s':>8} {'cpu s':>6}  {'QualityReport s':>15}  {'ratio':>6}  {'x prev size':>11}"
          f"  {'peak GiB':>8}")
    prev = None
    for n in args.sizes:
        (s, c, peak), (q, _, _) = med[(n, "suite")], med[(n, "quality_report")]
        growth = f"{s / prev:10.1f}x" if prev else f"{'':>11}"
        print(f"  {n:>7,}  {s:8.2f} {c:6.2f}  {q:15.2f}  {s / q:6.2f}  {growth}  {peak / 1024:8.2f}")
        prev = s
    first = med[(args.sizes[0], "suite")][0]
    print(f"  target: {args.sizes[0]} rows <= 1.5 s median ({'met' if first <= 1.5 else 'NOT met'} here); "
          "growth per 10x rows <= 10x")


def _paper_models(root: Path, n_tables: int) -> list[str]:
    folders = sorted(d.name for d in (root / "diabetes").iterdir() if d.is_dir() and d.name != "prompts")
    full = [m for m in folders if len(list((root / "diabetes" / m).glob("prompt*.txt"))) == 4]
    return full[: -(-n_tables // 4)]


def workflow(args) -> None:
    root = Path(args.data).resolve().parent / "synllm_raw"
    models = _paper_models(root, args.workflow_tables)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(datasets=["diabetes"], dataset_options={"diabetes": {"csv": str(Path(args.data).resolve())}},
                  paper_raw={"root": str(root), "datasets": ["diabetes"], "models": models})
    work = Path(tempfile.mkdtemp(prefix="medsyn-bench-"))
    try:
        labels = [f"results/external/paper-{m}/diabetes/P{i}" for m in models for i in (1, 2, 3, 4)]
        labels = labels[: args.workflow_tables]
        snake = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                 "--directory", str(work), "--cores", "2", "--workflow-profile", "none"]
        log = open(work / "snakemake.log", "w")
        config["evaluation"] = {"batch_size": args.workflow_tables}
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        prepare = [f"{d}/synthetic.csv" for d in labels] + [layout.evaluation_file("diabetes", layout.ALL_TRAIN, "real_side.json")]
        subprocess.run(snake + prepare + ["--configfile", str(work / "config.yaml")], check=True, stdout=log,
                       stderr=subprocess.STDOUT)
        print(f"\nworkflow: {len(labels)} imported paper tables of diabetes evaluated with --cores 2; "
              f"load {os.getloadavg()[0]:.1f}")
        for size in (args.workflow_tables, 1):
            for path in work.glob("results/external/**/metrics*.json"):
                path.unlink()
            config["evaluation"] = {"batch_size": size}
            (work / "config.yaml").write_text(yaml.safe_dump(config))
            started = time.perf_counter()
            subprocess.run(snake + [f"{d}/metrics.json" for d in labels] + ["--configfile", str(work / "config.yaml")],
                           check=True, stdout=log, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - started
            jobs = -(-len(labels) // size)
            print(f"  batch_size {size:>2}: {jobs:>2} evaluation jobs, {wall:6.1f} s wall, "
                  f"{wall / len(labels):5.2f} s per table")
    except subprocess.CalledProcessError:
        print((work / "snakemake.log").read_text()[-3000:])
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "diabetes.csv"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workflow-tables", type=int, default=20)
    ap.add_argument("--skip-workflow", action="store_true")
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--worker", nargs=2, metavar=("WHICH", "FOLDER"), help=argparse.SUPPRESS)
    ap.add_argument("--build-real-side", metavar="FOLDER", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_real_side:
        return build_real_side(args.data, args.build_real_side)
    if args.worker:
        return worker(args.worker[0], args.data, args.worker[1], args.rows, args.seed)
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="medsyn-real-side-") as folder:
        per_table(args, folder)
    if not args.skip_workflow:
        workflow(args)


if __name__ == "__main__":
    main()
