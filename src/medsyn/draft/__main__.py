"""python -m medsyn.draft data/mine.csv --name mine [--target COLUMN] [--out PATH] [--force]

Drafts config/datasets/<name>.yaml from a CSV, for a user who wants to review and edit the spec before the first
run (the workflow drafts results/specs/<name>.yaml on its own when a dataset has a CSV and no spec)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from medsyn import layout
from medsyn.atomic import atomic_open
from medsyn.draft import draft_spec, summary
from medsyn.errors import MedsynError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medsyn.draft", description=__doc__.split("\n\n")[1])
    parser.add_argument("csv", help="the CSV file (any of , ; tab |; UTF-8, cp1252 or latin-1)")
    parser.add_argument("--name", help="dataset id (lower case, digits, _); default: from the file name")
    parser.add_argument("--target", help="the target column (default: guessed, see the spec's comment)")
    parser.add_argument("--out", help="where to write the spec (default: config/datasets/<name>.yaml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing spec file")
    args = parser.parse_args(argv)
    name = args.name or re.sub(r"[^a-z0-9_]+", "_", Path(args.csv).stem.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        parser.error(f"dataset id {name!r} must start with a letter and hold only a-z, 0-9 and _ (use --name)")
    out = Path(args.out or layout.spec_file(name))
    if out.exists() and not args.force:
        print(f"error: {out} exists (a hand-written spec?); pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        text, draft, _ = draft_spec(args.csv, name, target=args.target, keep_path=str(out))
    except MedsynError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with atomic_open(out) as fh:
        fh.write(text)
    print(summary(draft, str(out)))
    print(f"review {out}, then run it with: snakemake --cores all results/report.html "
          f"--config 'datasets=[{name}]' 'dataset_options={{{name}: {{csv: {args.csv}}}}}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
