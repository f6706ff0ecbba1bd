"""Benchmark: the whole evaluation suite on the Kaggle diabetes table, 100k train rows vs 100k synthetic rows
(the `marginals` baseline), side by side with sdmetrics' QualityReport alone on the same data.

    .venv/bin/python bench/evaluation_suite.py [--data ../shared/data/diabetes.csv] [--repeats 3]

Each measurement runs in a fresh subprocess (so peak RSS is its own), the two workloads are interleaved
(suite, report, suite, report, ...) because the machines are shared and noisy, and medians are printed.
Target (issue #3): suite <= 60 s and <= 4 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def prepare(data: str, n: int, seed: int):
    sys.path.insert(0, str(REPO / "src"))
    import numpy as np

    from medsyn.baselines import marginals_baseline
    from medsyn.data import load_real, split_real
    from medsyn.spec import load_spec

    spec = load_spec(REPO / "config" / "datasets" / "diabetes.yaml").with_csv(data)
    real = load_real(spec)
    # 100k train as the issue asks: the whole table is train; holdout/reference are separate seeded draws
    parts = split_real(real, spec, 0.25, 0.15, seed)
    train = real
    # the marginals baseline itself, at full size (make_baseline caps baselines at the reference split's size)
    synthetic = marginals_baseline(train[spec.column_names], n, np.random.default_rng(seed)).reset_index(drop=True)
    assert len(synthetic) == n
    return spec, train, parts["holdout"], parts["reference"], synthetic


def worker(which: str, data: str, n: int, seed: int) -> None:
    import resource

    spec, train, holdout, reference, synthetic = prepare(data, n, seed)
    started = time.perf_counter()
    if which == "suite":
        from medsyn.evaluate import EvalInputs
        from medsyn.evaluate.suite import evaluate_table

        result = evaluate_table(EvalInputs(spec, train, holdout, reference, synthetic, seed=seed))
        errors = {k: v for k, v in result["errors"].items() if "traceback" not in k}
        detail = {"families": result["seconds"], "errors": errors, "synthetic_rows": len(synthetic)}
    else:
        import numpy as np
        from sdmetrics.reports.single_table import QualityReport

        from medsyn.evaluate.encoding import sdmetrics_metadata, to_sdmetrics_frame

        np.random.seed(seed)
        report = QualityReport()
        report.generate(to_sdmetrics_frame(train, spec), to_sdmetrics_frame(synthetic, spec),
                        sdmetrics_metadata(spec), verbose=False)
        detail = {"score": report.get_score()}
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"which": which, "seconds": seconds, "peak_mib": peak_mib, "detail": detail}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "diabetes.csv"))
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--worker", choices=["suite", "quality_report"])
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.rows, args.seed)
        return
    runs = {"suite": [], "quality_report": []}
    for rep in range(args.repeats):
        for which in ("suite", "quality_report"):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", which, "--data", args.data, "--rows", str(args.rows),
                 "--seed", str(args.seed)],
                capture_output=True, text=True, check=True,
            )
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            runs[which].append(rec)
            extra = rec["detail"].get("families", rec["detail"].get("score"))
            print(f"  repeat {rep + 1} {which:15s} {rec['seconds']:7.1f} s  peak {rec['peak_mib']:7.0f} MiB  {extra}")
            if rec["detail"].get("errors"):
                print(f"    errors: {rec['detail']['errors']}")
    med = {k: (statistics.median(r["seconds"] for r in v), max(r["peak_mib"] for r in v)) for k, v in runs.items()}
    print(f"\ndiabetes, {args.rows:,} train x {args.rows:,} synthetic (marginals), {args.repeats} interleaved repeats")
    print(f"  whole suite      median {med['suite'][0]:6.1f} s   peak {med['suite'][1] / 1024:5.2f} GiB   "
          f"(target <= 60 s, <= 4 GiB)")
    print(f"  QualityReport    median {med['quality_report'][0]:6.1f} s   peak {med['quality_report'][1] / 1024:5.2f} GiB")
    print(f"  ratio suite / QualityReport: {med['suite'][0] / med['quality_report'][0]:.2f}")


if __name__ == "__main__":
    main()
