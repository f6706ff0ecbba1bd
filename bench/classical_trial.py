"""Trial of classical generators beside the LLM (issue 27): which tree/forest/Bayes-net generator gives the best
table, scored by medsyn's own fidelity score next to the shipped baselines.

    flock /tmp/cpu.lock env PYTHONPATH=src .venv/bin/python bench/classical_trial.py \\
        [--datasets cirrhosis breast_cancer pima diabetes stroke] [--candidates ...] [--seeds 1 2] [--rows 100] \\
        [--small 50] [--data-dir ../shared/data] [--out bench/classical_trial.tsv] [--keep DIR] [--timeout 600]

Each dataset is loaded through its shipped spec and split exactly as the workflow's prepare_data does
(config/config.yaml's split: holdout 0.25, reference 0.15, seed 20250811). Every candidate is fitted on train at
full size and on a 50-row subsample of train (seeded with the split seed, stratified on the spec's target), and
samples ``--rows`` rows per seed. The synthetic table goes through ``write_table`` / ``read_table`` (so a value
outside the spec is a failure, as in the workflow) and is scored by ``medsyn.evaluate.suite.evaluate_table`` with
the fidelity and privacy families, against the real side built from the same train rows the candidate saw
(``real_side.build``, as the real_side rule does); the composite scores come from ``medsyn.report.scores``.

Each fit+sample runs in its own subprocess (global RNG state of a library stays there; a hung or crashing library is
a failure, with its error, not a crash of the trial), timed inside it with ``time.perf_counter``.

Candidates: the shipped baselines (holdout, marginals, copula, bootstrap, and cart once shipped), and libraries if
installed: ``arf`` (arfpy), ``synthpop_port`` (schneiderkamplab-py-synthpop, a port of R synthpop),
``pyseq_cart`` (pyseq-cart), ``privbayes`` (DataSynthesizer's correlated-attribute mode, epsilon 0 = no noise).
Libraries that do not handle missing values get each numeric column's gaps as an extra "is missing" column (value
filled with the median) and a categorical gap as a level of its own; their output is rounded and clipped to the
spec's ranges and decimals (what ``copula`` does).

Writes ``--out`` (one row per dataset x size x candidate x seed) and ``<out>.summary.tsv`` (mean and 95% t-interval
over seeds, median seconds), and prints the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SPLIT = {"holdout_fraction": 0.25, "reference_fraction": 0.15, "seed": 20250811}  # config/config.yaml's split
CSV = {"diabetes": "diabetes.csv", "stroke": "stroke.csv"}
FAMILIES = ("fidelity", "privacy")
BASELINES = ("holdout", "marginals", "copula", "bootstrap", "cart")
LIBRARIES = ("arf", "synthpop_port", "pyseq_cart", "privbayes")
NA_LEVEL, NA_FLAG = "__NA__", "__na__"


# --- data: the workflow's split, and the small train ------------------------------------------------------------


def load(dataset: str, data_dir: str):
    from medsyn.data import load_real_grouped
    from medsyn.paths import shipped_spec
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(shipped_spec(dataset))
    if dataset in CSV:
        spec = spec.with_csv(str(Path(data_dir) / CSV[dataset]))
    frame, groups = load_real_grouped(spec)
    parts = split_real(frame, spec, SPLIT["holdout_fraction"], SPLIT["reference_fraction"], SPLIT["seed"], groups)
    return spec, parts


def small_train(train: pd.DataFrame, spec, n: int) -> pd.DataFrame:
    from sklearn.model_selection import train_test_split

    strata = train[spec.target].astype(str)
    keep, _ = train_test_split(train.index.to_numpy(), train_size=n, random_state=SPLIT["seed"], stratify=strata)
    return train.loc[np.sort(keep)]


# --- library adapters -------------------------------------------------------------------------------------------


def to_plain(train: pd.DataFrame, spec, flag_missing: bool = True) -> pd.DataFrame:
    """Numeric columns as floats, categorical as text; gaps as a level / an extra flag column (``flag_missing``)."""
    out = {}
    for col in spec.columns:
        values = train[col.name]
        if col.is_numeric:
            x = values.astype("float64")
            if flag_missing and x.isna().any():
                out[NA_FLAG + col.name] = np.where(x.isna(), "y", "n")
                x = x.fillna(x.median() if x.notna().any() else 0.0)
            out[col.name] = x.to_numpy()
        else:
            out[col.name] = values.astype(object).where(values.notna(), NA_LEVEL if flag_missing else None)
            out[col.name] = out[col.name].to_numpy()
    return pd.DataFrame(out)


def from_plain(frame: pd.DataFrame, spec) -> pd.DataFrame:
    """Back to spec values: flagged gaps missing, numbers rounded and clipped to the spec's range, unknown levels
    missing."""
    out = {}
    for col in spec.columns:
        values = frame[col.name]
        if col.is_numeric:
            x = pd.to_numeric(values, errors="coerce").astype("float64")
            x = x.clip(col.min, col.max).round(col.decimals if col.type == "float" else 0)
            if NA_FLAG + col.name in frame:
                x[frame[NA_FLAG + col.name].astype(str).to_numpy() == "y"] = np.nan
            out[col.name] = x.astype("Int64") if col.type == "integer" else x
        else:
            text = values.astype(object).map(lambda v: v if isinstance(v, str) else (None if pd.isna(v) else str(v)))
            out[col.name] = text.where(text.isin(col.levels), None)
    return pd.DataFrame(out)


def gen_arf(train, spec, n, seed):
    from arfpy import arf

    if not hasattr(np, "in1d"):  # arfpy 0.1.1 calls np.in1d, removed in numpy 2.4: the trial shims it
        np.in1d = np.isin
    np.random.seed(seed)  # arfpy draws from numpy's global generator
    plain = to_plain(train, spec)
    for c in plain.columns:
        if plain[c].dtype == object:
            plain[c] = plain[c].astype("category")
    model = arf.arf(plain, verbose=False, random_state=seed)
    model.forde()
    return from_plain(model.forge(n), spec)


def gen_synthpop_port(train, spec, n, seed):
    from synthpop import Synthpop

    if not hasattr(pd.Series, "iteritems"):  # removed in pandas 2.0: the trial shims it to see what fails next
        pd.Series.iteritems = pd.Series.items
    np.random.seed(seed)
    plain = to_plain(train, spec, flag_missing=False)
    dtypes = {}
    for col in spec.columns:
        if col.is_numeric:
            dtypes[col.name] = "float"
        else:
            plain[col.name] = plain[col.name].astype("category")
            dtypes[col.name] = "category"
    model = Synthpop(seed=seed)
    model.fit(plain, dtypes)
    return from_plain(model.generate(n), spec)


def gen_pyseq_cart(train, spec, n, seed):
    from pyseq_cart import PySeqCART

    np.random.seed(seed)
    model = PySeqCART(tree_args={"min_samples_leaf": 5, "random_state": seed})  # synthpop's minbucket
    model.fit(to_plain(train, spec))
    return from_plain(model.generate(n), spec)


def gen_privbayes(train, spec, n, seed):
    from DataSynthesizer.DataDescriber import DataDescriber
    from DataSynthesizer import DataGenerator as generator_module
    from DataSynthesizer.DataGenerator import DataGenerator

    # DataSynthesizer 0.1.13 eval()s the repr of numpy scalars, which numpy 2 writes as np.int64(3): the trial
    # gives that eval an ``np``
    generator_module.np = np

    with tempfile.TemporaryDirectory() as tmp:
        csv, description = Path(tmp) / "train.csv", Path(tmp) / "description.json"
        to_plain(train, spec, flag_missing=False).to_csv(csv, index=False)
        categorical = {c.name: not c.is_numeric for c in spec.columns}
        describer = DataDescriber(category_threshold=20)
        describer.describe_dataset_in_correlated_attribute_mode(
            str(csv), k=2, epsilon=0, attribute_to_is_categorical=categorical, seed=seed)
        describer.save_dataset_description_to_file(str(description))
        generator = DataGenerator()
        generator.generate_dataset_in_correlated_attribute_mode(n, str(description), seed=seed)
        return from_plain(generator.synthetic_dataset, spec)


def generate(candidate: str, spec, train, reference, n: int, seed: int) -> pd.DataFrame:
    if candidate in BASELINES:
        from medsyn.baselines import make_baseline

        return make_baseline(candidate, spec, train, reference, n, seed)
    return globals()[f"gen_{candidate}"](train, spec, n, seed)


def one(args) -> None:
    """Subprocess: fit and sample one candidate, write its table, print the seconds."""
    from medsyn.data import write_table

    spec, parts = load(args.dataset, args.data_dir)
    train = parts["train"] if args.size == "full" else small_train(parts["train"], spec, int(args.size))
    started = time.perf_counter()
    frame = generate(args.one, spec, train, parts["reference"], args.rows, args.seed)
    seconds = time.perf_counter() - started
    write_table(frame[spec.column_names].reset_index(drop=True), args.table, spec, index=False)
    print(json.dumps({"seconds": seconds}))


# --- the trial --------------------------------------------------------------------------------------------------


def score(spec, train, parts, real, table: Path, seed: int) -> dict:
    from medsyn.data import read_table
    from medsyn.evaluate import EvalInputs
    from medsyn.evaluate.suite import evaluate_table
    from medsyn.report.scores import add_scores

    synthetic = read_table(table, spec, real=False)  # a value outside the spec raises here, as in the workflow
    inputs = EvalInputs(spec, train, parts["holdout"], parts["reference"], synthetic, seed=seed, real=real)
    result = evaluate_table(inputs, FAMILIES)
    crashed = [f for f in FAMILIES if f in result["errors"]]  # other keys: a metric not computable, with why
    if crashed:
        raise RuntimeError("; ".join(f"{f}: {result['errors'][f]}" for f in crashed))
    scored = add_scores(pd.DataFrame([result["metrics"]])).iloc[0]
    keys = ("fidelity_score", "privacy_score", "fidelity.ks_complement", "fidelity.tv_complement",
            "fidelity.association_diff_mean", "fidelity.detection_auc", "privacy.exact_copy_train_share",
            "privacy.dcr_closer_to_train_share_size_adjusted")
    return {k: scored.get(k, np.nan) for k in keys}


def trial(args) -> pd.DataFrame:
    from medsyn.evaluate import real_side

    rows = []
    for dataset in args.datasets:
        spec, parts = load(dataset, args.data_dir)
        for size in ("full", str(args.small)):
            train = parts["train"] if size == "full" else small_train(parts["train"], spec, args.small)
            real = real_side.build(spec, train, parts["holdout"], parts["reference"], SPLIT["seed"], FAMILIES)
            for candidate in args.candidates:
                for seed in args.seeds:
                    table = Path(args.keep) / dataset / size / candidate / str(seed) / "synthetic.csv"
                    table.parent.mkdir(parents=True, exist_ok=True)
                    row = {"dataset": dataset, "train": size, "train_rows": len(train), "candidate": candidate,
                           "seed": seed, "status": "ok", "error": "", "fit_sample_s": np.nan}
                    cmd = [sys.executable, __file__, "--one", candidate, "--dataset", dataset, "--size", size,
                           "--seed", str(seed), "--rows", str(args.rows), "--table", str(table),
                           "--data-dir", args.data_dir]
                    try:
                        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                        if out.returncode:
                            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else
                                               f"exit {out.returncode}")
                        row["fit_sample_s"] = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
                        row.update(score(spec, train, parts, real, table, seed))
                    except subprocess.TimeoutExpired:
                        row.update(status="failed", error=f"no table within {args.timeout} s")
                    except Exception as exc:  # noqa: BLE001 - a failing candidate is a result, with its reason
                        row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:300])
                    rows.append(row)
                    print(f"{dataset:14s} {size:>4} {candidate:14s} seed {seed}: {row['status']} "
                          f"fidelity {row.get('fidelity_score', np.nan):.3f} "
                          f"{row['fit_sample_s']:.2f} s {row['error']}", flush=True)
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    from medsyn.evaluate.aggregate import mean_ci

    out = []
    for (dataset, size, candidate), g in table.groupby(["dataset", "train", "candidate"], sort=False):
        ok = g[g["status"] == "ok"]
        row = {"dataset": dataset, "train": size, "candidate": candidate, "ok_seeds": f"{len(ok)}/{len(g)}"}
        for key in ("fidelity_score", "privacy_score", "privacy.exact_copy_train_share"):
            mean, lo, hi, _ = mean_ci(ok[key]) if len(ok) else (np.nan,) * 4
            row[key], row[f"{key}.ci_low"], row[f"{key}.ci_high"] = mean, lo, hi
        row["fit_sample_s_median"] = statistics.median(ok["fit_sample_s"]) if len(ok) else np.nan
        row["error"] = "" if len(ok) == len(g) else g.loc[g["status"] != "ok", "error"].iloc[0]
        out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["cirrhosis", "breast_cancer", "pima", "diabetes", "stroke"])
    ap.add_argument("--candidates", nargs="+", default=list(BASELINES + LIBRARIES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(REPO / "bench" / "classical_trial.tsv"))
    ap.add_argument("--keep", help="folder for the synthetic tables (default: a temporary one)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds one fit+sample may take")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        return one(args)
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="medsyn-classical-") as tmp:
        args.keep = args.keep or tmp
        table = trial(args)
    table.to_csv(args.out, sep="\t", index=False)
    board = summary(table)
    board.to_csv(Path(args.out).with_suffix(".summary.tsv"), sep="\t", index=False)
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 60):
        print(board.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
