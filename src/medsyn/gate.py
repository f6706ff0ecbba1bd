"""The privacy gate: which synthetic tables may leave the machine.

Every evaluated table (LLM run, baseline, imported generator) gets a verdict from its ``metrics.json`` and the
thresholds of the config's ``release_gate`` section: releasable, or not with every reason. Checks:

* ``min_rows``: a table with fewer rows (e.g. a run that produced no valid row) is not a release;
* ``max_exact_copy_train_share``: share of rows equal to a train patient (``privacy.exact_copy_train_share``);
* ``max_exact_copy_examples_share``: share of rows equal to a prompt example (``privacy.exact_copy_examples_share``);
* ``max_exact_copy_real_share``: share of rows equal to any real patient, wherever the generator saw it;
* ``max_dcr_closer_to_train_share``: share of rows closer to train than to holdout, size-adjusted
  (``privacy.dcr_closer_to_train_share_size_adjusted``; 0.5 for unseen rows, 1.0 for copies);
* ``max_mia_auc``: distance membership-inference AUC (``privacy.mia_auc``; 0.5 = no leak).

Which number is checked: the copy shares are counts of this very table's rows (a census: the table released is
the table counted), so their observed value is checked. The DCR share and the MIA AUC are estimates of how much
the generator learned its training rows, noisy for small tables (unseen real rows score anywhere from 0.5 to 0.8
at 20 rows): the gate checks the UPPER end of their 95% interval (``<metric>_ci95_high``, see
``medsyn.evaluate.privacy_intervals``), the end that protects patients. A table whose rows are too few to show
the bound below the threshold is not released: the evidence does not clear it.

A threshold set to null is not checked. A missing metric or bound (privacy family off or failed, or a metrics.json
from before the intervals) blocks the table: the gate cannot certify what was not measured. The ``holdout``
baseline is real patients: never released.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

from medsyn import layout
from medsyn.atomic import atomic_dir, atomic_open
from medsyn.errors import MedsynError
from medsyn.models import sha256_file

UPPER_BOUND = "_ci95_high"
# threshold key -> (metric key in metrics.json, "max" | "min", the key actually checked: the metric or its bound)
CHECKS = {
    "max_exact_copy_train_share": ("privacy.exact_copy_train_share", "max", "privacy.exact_copy_train_share"),
    "max_exact_copy_examples_share": ("privacy.exact_copy_examples_share", "max",
                                      "privacy.exact_copy_examples_share"),
    "max_exact_copy_real_share": ("privacy.exact_copy_real_share", "max", "privacy.exact_copy_real_share"),
    "max_dcr_closer_to_train_share": ("privacy.dcr_closer_to_train_share_size_adjusted", "max",
                                      "privacy.dcr_closer_to_train_share_size_adjusted" + UPPER_BOUND),
    "max_mia_auc": ("privacy.mia_auc", "max", "privacy.mia_auc" + UPPER_BOUND),
}
DEFAULTS = {
    "min_rows": 1,
    "max_exact_copy_train_share": 0.0,
    "max_exact_copy_examples_share": 0.0,
    "max_exact_copy_real_share": None,
    "max_dcr_closer_to_train_share": 0.7,
    "max_mia_auc": 0.6,
}
REAL_DATA = "real data (the holdout baseline is unseen real patients): never released"
METRIC_COLUMNS = list(dict.fromkeys(k for metric, _, checked in CHECKS.values() for k in (metric, checked)))
COLUMNS = ["kind", "dataset", "train_rows", "generator", "prompt", "mode", "recipe", "seed", "releasable", "reasons", "synthetic",
           "n_rows", "excess"] + METRIC_COLUMNS


class ReleaseError(MedsynError):
    """No table passes the privacy gate, or a release cannot be written."""


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _threshold_checks(record: dict, gate: dict):
    """(threshold key, checked key, "max" | "min", limit, checked value or None when not measured) for every
    threshold set."""
    metrics = record.get("metrics") or {}
    for key, (_, kind, checked) in CHECKS.items():
        limit = gate.get(key)
        if limit is not None:
            yield key, checked, kind, limit, _number(metrics.get(checked))


def verdict(record: dict, thresholds: dict) -> tuple[bool, list[str]]:
    """(releasable, reasons it is not) for one metrics record under ``thresholds`` (missing keys: defaults)."""
    gate = {**DEFAULTS, **(thresholds or {})}
    reasons: list[str] = []
    if record.get("kind") == "baseline" and record.get("generator") == "holdout":
        reasons.append(REAL_DATA)
    n_rows = int(record.get("n_rows") or 0)
    if gate["min_rows"] is not None and n_rows < gate["min_rows"]:
        status = (record.get("generation") or {}).get("status")
        reasons.append(f"{n_rows} rows < min_rows {gate['min_rows']}" + (f" (status {status})" if status else ""))
    for key, checked, kind, limit, value in _threshold_checks(record, gate):
        if value is None:
            reasons.append(f"{checked} not measured (privacy family off, failed or no rows): cannot certify")
        elif (kind == "max" and value > limit) or (kind == "min" and value < limit):
            sign = ">" if kind == "max" else "<"
            point = ""
            if checked.endswith(UPPER_BOUND):
                estimate = _number((record.get("metrics") or {}).get(checked.removesuffix(UPPER_BOUND)))
                point = "" if estimate is None else f" (estimate {estimate:.4g}; upper 95% bound checked)"
            reasons.append(f"{checked}={value:.4g} {sign} {key} {limit}{point}")
    return not reasons, reasons


def excess(record: dict, thresholds: dict) -> float:
    """How far a table is from passing (0 = passes): summed threshold overshoot, missing metrics count 1."""
    gate = {**DEFAULTS, **(thresholds or {})}
    total = 0.0
    for _, _, kind, limit, value in _threshold_checks(record, gate):
        if value is None:
            total += 1.0
        else:
            total += max(0.0, value - limit) if kind == "max" else max(0.0, limit - value)
    if gate["min_rows"] is not None and int(record.get("n_rows") or 0) < gate["min_rows"]:
        total += 1.0
    return total


def gate_rows(records: list[tuple[str, dict]], thresholds: dict) -> list[dict]:
    """One row per (metrics path, record): the COLUMNS of results/tables/release_gate.tsv."""
    rows = []
    for metrics_path, record in records:
        ok, reasons = verdict(record, thresholds)
        metrics = record.get("metrics") or {}
        row = {
            "kind": record.get("kind"),
            "dataset": record.get("dataset"),
            "train_rows": record.get("train_rows"),
            "generator": record.get("generator"),
            "prompt": record.get("prompt"),
            "mode": record.get("mode"),
            "recipe": record.get("recipe"),
            "seed": record.get("seed"),
            "releasable": ok,
            "reasons": "; ".join(reasons),
            "synthetic": record.get("synthetic") or str(Path(metrics_path).with_name("synthetic.csv")),
            "n_rows": record.get("n_rows"),
            "excess": round(excess(record, thresholds), 4),
        }
        row.update({k: metrics.get(k) for k in METRIC_COLUMNS})
        rows.append(row)
    return rows


def write_gate_table(rows: list[dict], path: str | Path) -> None:
    with atomic_open(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})


def read_gate_table(path: str | Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _describe_thresholds(thresholds: dict) -> str:
    gate = {**DEFAULTS, **(thresholds or {})}
    return ", ".join(f"{k}={v}" for k, v in gate.items() if v is not None)


def build_release(rows: list[dict], thresholds: dict, out_dir: str | Path, root: str | Path = ".") -> list[dict]:
    """Copy every releasable table under ``out_dir`` (mirroring its path below results/) with a manifest.

    Written to a temporary folder and renamed at the end, so a failure never leaves a partial release. Raises
    ReleaseError naming the thresholds and the closest tables when none qualifies.
    """
    out_dir, root = Path(out_dir), Path(root)
    releasable = [r for r in rows if str(r["releasable"]).lower() == "true"]
    if not releasable:
        candidates = [r for r in rows if REAL_DATA not in r["reasons"]]
        candidates.sort(key=lambda r: float(r.get("excess") or 0))
        closest = "; ".join(
            f"{r['kind']} {r['dataset']}/{r['generator']}/{r['prompt']}/{r['mode']}/seed{r['seed']}: {r['reasons']}"
            for r in candidates[:3]
        ) or "none (no table other than real data was evaluated)"
        raise ReleaseError(
            f"no synthetic table passes the privacy gate ({len(rows)} evaluated); thresholds (config release_gate): "
            f"{_describe_thresholds(thresholds)}. Closest: {closest}"
        )
    manifest = []
    with atomic_dir(out_dir) as tmp:
        for row in releasable:
            src = root / row["synthetic"]
            rel = Path(row["synthetic"])
            rel = rel.relative_to(layout.RESULTS) if rel.parts and rel.parts[0] == layout.RESULTS else rel
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            with open(dest) as fh:
                n_rows = max(0, sum(1 for _ in fh) - 1)
            manifest.append({"file": str(rel), "sha256": sha256_file(dest), "rows": n_rows,
                             **{k: row[k] for k in ("kind", "dataset", "train_rows", "generator", "prompt", "mode",
                                                    "seed")},
                             "source": row["synthetic"]})
        fields = ["file", "sha256", "rows", "kind", "dataset", "train_rows", "generator", "prompt", "mode", "seed",
                  "source"]
        with open(tmp / "manifest.tsv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, delimiter="\t", lineterminator="\n")
            writer.writeheader()
            writer.writerows(manifest)
        (tmp / "GATE.txt").write_text(
            "Released because each table passed the privacy gate with these thresholds (config release_gate):\n"
            f"{_describe_thresholds(thresholds)}\n"
        )
    return manifest
