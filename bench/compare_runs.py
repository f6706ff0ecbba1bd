"""Invariance check for refactors: two results folders of the same config and seed, table by table.

    .venv/bin/python bench/compare_runs.py BEFORE AFTER

For every synthetic.csv and metrics.json under AFTER's results/ it finds the same table under BEFORE (run folders
may differ only by layout levels that AFTER added: pass --drop-level default for a new {recipe} level, --drop-level
train-all for the train-size level; metrics.json's own path is compared with those levels dropped) and reports:
synthetic.csv byte-identical (cmp), metrics.json values equal to 1e-9 apart from timing keys (seconds, rows per
second) and keys that only one side has (listed, so a new key is visible rather than hidden).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
from pathlib import Path

TIMING = ("seconds", "rows_per_second", "seconds_per_valid_row")


def flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def same(a, b, tol: float = 1e-9) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol
    return a == b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--drop-level", action="append", default=[], help="a folder name AFTER has and BEFORE lacks")
    args = ap.parse_args()
    before, after = Path(args.before), Path(args.after)
    failures = 0
    for path in sorted(after.glob("results/**/synthetic.csv")) + sorted(after.glob("results/**/metrics.json")):
        rel = path.relative_to(after)
        old = before / Path(*[p for p in rel.parts if p not in args.drop_level])
        if not old.exists():
            print(f"only after: {rel}")
            failures += 1
            continue
        if path.name == "synthetic.csv":
            ok = filecmp.cmp(old, path, shallow=False)
            print(f"{'same' if ok else 'DIFFERENT'}  {rel} (cmp)")
            failures += not ok
            continue
        a, b = flat(json.loads(old.read_text())), flat(json.loads(path.read_text()))
        if isinstance(b.get("synthetic"), str):  # the table's own path: the same once the new levels are dropped
            b["synthetic"] = "/".join(p for p in b["synthetic"].split("/") if p not in args.drop_level)
        timing = [k for k in a if k.split(".")[-1] in TIMING or k.startswith("seconds.")]
        differ = [k for k in set(a) & set(b) if k not in timing and not same(a[k], b[k])]
        new, gone = sorted(set(b) - set(a)), sorted(set(a) - set(b))
        print(f"{'same' if not differ else 'DIFFERENT'}  {rel}: {len(set(a) & set(b)) - len(timing)} values compared"
              + (f"; differ: {differ}" if differ else "") + (f"; new keys: {new}" if new else "")
              + (f"; keys gone: {gone}" if gone else ""))
        failures += bool(differ) + bool(gone)
    print("invariant" if not failures else f"{failures} differences")


if __name__ == "__main__":
    main()
