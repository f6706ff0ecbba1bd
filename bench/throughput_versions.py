"""Benchmark: generation throughput of two medsyn checkouts, interleaved (issue 29). Run by hand, not in CI.

    .venv/bin/python bench/throughput_versions.py BEFORE_CHECKOUT AFTER_CHECKOUT --out DIR
        [--repeats 3] [--datasets pima breast_cancer] [--prompts A C] [--rows 20] [bench options...]

For repeat r = 1..R and each checkout in turn (before, after, before, after, ...), runs this checkout's
``bench/generation_throughput.py`` in a subprocess with ``PYTHONPATH=<checkout>/src`` (each version reads its own
config.yaml and code; the measurement code is the same), one repeat at a time with run seed r, so both versions see
the same prompts and seeds and the machine's drift falls on both. Then prints, per dataset x prompt, the medians
over repeats of each version (valid rows/s, seconds per valid row, decode steps per valid row, share of forced
tokens, the ratio to the batched decode limit) and the median over repeats of after / before seconds per valid row.
Extra options go to generation_throughput.py (default: --parallel 4 --free-calls 0 --threads 2).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent / "generation_throughput.py"


def python_path(checkout: Path) -> str:
    """The checkout's src first; entries already on PYTHONPATH after it (e.g. a folder holding another build of
    llama-cpp-python, to compare CPU kernels)."""
    return os.pathsep.join(p for p in (str(checkout / "src"), os.environ.get("PYTHONPATH", "")) if p)


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--out", required=True, help="folder for each run's JSON and log")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--datasets", nargs="+", default=["pima", "breast_cancer"])
    ap.add_argument("--prompts", nargs="+", default=["A", "C"])
    ap.add_argument("--rows", type=int, default=20, help="valid rows per run (the quick start's target_rows)")
    args, extra = ap.parse_known_args()
    extra = extra or ["--parallel", "4", "--free-calls", "0", "--threads", "2"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    versions = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    for rep in range(1, args.repeats + 1):
        for label, checkout in versions.items():
            target = out / f"{label}-r{rep}.json"
            if target.exists():
                continue  # done in an earlier, interrupted invocation
            cmd = [sys.executable, str(BENCH), "--datasets", *args.datasets, "--prompts", *args.prompts,
                   "--rows", str(args.rows), "--repeats", "1", "--first-repeat", str(rep), "--json",
                   str(target) + ".part", *extra]
            print(f"[{time.strftime('%H:%M:%S')}] repeat {rep} {label}: {checkout}", flush=True)
            with open(out / f"{label}-r{rep}.log", "w") as log:
                subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": python_path(checkout)})
            Path(str(target) + ".part").rename(target)
    summarize(out, list(versions), args.repeats)


def _runs(out: Path, label: str, repeats: int) -> dict:
    runs = {}
    for rep in range(1, repeats + 1):
        for r in json.loads((out / f"{label}-r{rep}.json").read_text()):
            if "summary" in r:
                continue
            for n, g in r["grammar"].items():
                batched = max(r["limits"], key=int)
                runs.setdefault((r["dataset"], r["prompt"]), []).append({
                    "rows_per_s": g["rows_per_s"], "s_per_row": g["wall"] / max(g["rows"], 1),
                    "steps_per_row": g["steps_per_row"], "forced": g["forced"] / max(g["tokens"], 1),
                    "tokens_per_row": g["tokens_per_row"], "group": g["group"],
                    "outside": g["outside_decode_share"],
                    "vs_batched": g["rows_per_s"] * g["tokens_per_row"] / r["limits"][batched],
                    "batched_limit": r["limits"][batched], "batched_n": batched,
                    "rows": g["rows"], "spec_valid": g["spec_valid"], "candidates": g["candidates"]})
    return runs


def summarize(out: Path, labels: list[str], repeats: int) -> None:
    runs = {label: _runs(out, label, repeats) for label in labels}
    lines = ["| dataset | prompt | version | groups of | valid rows/s | s per valid row | decode steps per row | "
             "tokens per row (forced) | outside llama_decode | vs batched limit (N, tok/s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for case in runs[labels[0]]:
        for label in labels:
            rs = runs[label][case]
            lines.append(
                f"| {case[0]} | {case[1]} | {label} | {max(r['group'] for r in rs)} | {med([r['rows_per_s'] for r in rs]):.3f} | "
                f"{med([r['s_per_row'] for r in rs]):.2f} | {med([r['steps_per_row'] for r in rs]):.1f} | "
                f"{med([r['tokens_per_row'] for r in rs]):.1f} ({med([r['forced'] for r in rs]):.0%}) | "
                f"{med([r['outside'] for r in rs]):.1%} | {med([r['vs_batched'] for r in rs]):.2f} "
                f"({rs[0]['batched_n']}, {med([r['batched_limit'] for r in rs]):.1f}) |")
        before, after = runs[labels[0]][case], runs[labels[1]][case]
        ratio = med([a["s_per_row"] / b["s_per_row"] for a, b in zip(after, before)])
        lines.append(f"| {case[0]} | {case[1]} | after / before | | | **{ratio:.2f}** (median of {len(after)} "
                     f"paired repeats) | | | | |")
    table = "\n".join(lines)
    (out / "summary.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
