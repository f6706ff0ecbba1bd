"""Benchmark: the parser before and after issue 14 on the SynLLM paper's 266 published raw outputs.

    .venv/bin/python bench/parser_formats.py [--raw ../shared/data/synllm_raw] [--base d6bd2cc] [--sample 20]

"Before" is ``src/medsyn/parse.py`` at commit ``--base`` (loaded from git, run in this process), used the way
imports used it then (example copies and repeats kept, the prompt's rows found by that parser). "After" is the
current ``medsyn.importing.import_text`` (default options: echo rows dropped; and once more with
``keep_prompt_echo`` so the two tables hold the same kind of rows). Prints:
1. records kept per dataset: before, after (the model's own rows), rows in echoed prompts, after + echo, rows read
   now that were not before and rows read before that are not now (multisets of canonical rows per file);
2. kept rows per format class (all, and the newly read ones);
3. a seeded random spot-check of newly read rows, each beside its raw line(s);
4. per dataset, rows in echoed prompts beside the model's example copies, and the runs whose "100% copies" verdict
   (every kept row a copy of a prompt example) changes once echo is counted apart.
Nothing is timed; figures depend only on the files and the code.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("diabetes", "stroke", "cirrhosis")


def load_old_parser(commit: str):
    """The parse module as it was at ``commit`` (a single file then), importable beside the current package."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:src/medsyn/parse.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "medsyn_parse_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("medsyn_parse_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def old_import(old, spec, text: str, prompt: str):
    """What ``import_text`` did at the base commit: examples found by that parser, copies and repeats kept."""
    finder = old.RowParser(spec, reject_duplicates=True)
    finder.feed(prompt)
    examples = [",".join(r) for r in finder.result.rows]
    parser, report = old.parse_calls([{"text": text}], spec, examples, prompt, True, False)
    return parser, report, examples


def old_rows(old, spec, text: str) -> set[str]:
    """The rows the old parser reads from these lines alone (every valid row kept)."""
    parser = old.RowParser(spec, keep_example_copies=True, reject_duplicates=False)
    parser.feed(text)
    return {",".join(r) for r in parser.result.rows}


def runs(raw: Path):
    for ds in DATASETS:
        for f in sorted(raw.glob(f"{ds}/*/prompt*.txt")):
            if f.parent.name != "prompts":
                yield ds, f.parent.name, f"P{f.stem[-1]}", f, raw / ds / "prompts" / f.name


def table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [" | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    default_raw = Path(os.environ.get("MEDSYN_SHARED_DATA", REPO.parent / "shared" / "data")) / "synllm_raw"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, default=default_raw)
    ap.add_argument("--base", default="d6bd2cc", help="commit of the parser before issue 14")
    ap.add_argument("--sample", type=int, default=20, help="newly read rows shown beside their raw lines")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()

    from medsyn.importing import import_text
    from medsyn.spec import load_spec

    old = load_old_parser(args.base)
    specs = {ds: load_spec(REPO / "config" / "datasets" / f"{ds}.yaml") for ds in DATASETS}
    per_ds = {ds: collections.Counter() for ds in DATASETS}
    classes_all, classes_new = collections.Counter(), collections.Counter()
    new_rows = []  # (dataset, model, prompt, canonical row, source lines, classes)
    verdicts = []
    for ds, model, label, path, prompt_path in runs(args.raw):
        text, prompt = path.read_text(errors="replace"), prompt_path.read_text(errors="replace")
        spec = specs[ds]
        old_parser, old_report, old_examples = old_import(old, spec, text, prompt)
        own_parser, own, examples = import_text(spec, text, prompt)
        with_echo, report, _ = import_text(spec, text, prompt, keep_prompt_echo=True)
        c = per_ds[ds]
        c["files"] += 1
        c["before"] += len(old_parser.result.rows)
        c["after"] += len(own_parser.result.rows)
        c["echo"] += report["prompt_echo_rows"]
        c["after+echo"] += len(with_echo.result.rows)
        c["echo files"] += report["prompt_echo_rows"] > 0
        c["model copies"] += own["example_copies"]
        c["copies before"] += old_report["example_copies"]
        c["examples differ"] += set(old_examples) != set(examples)
        before = collections.Counter(",".join(r) for r in old_parser.result.rows)
        now = collections.Counter(",".join(r) for r in with_echo.result.rows)
        lines = text.splitlines()
        for row, tags, (_, first, last) in zip(with_echo.result.rows, with_echo.result.row_formats,
                                               with_echo.result.row_sources):
            key = ",".join(row)
            classes_all.update(tags)
            if key not in old_rows(old, spec, "\n".join(lines[first:last + 1])):  # the old parser missed it
                c["newly read"] += 1
                classes_new.update(tags or ("(none)",))
                new_rows.append((ds, model, label, key, (first, last), tags, lines))
        c["no longer read"] += sum((before - now).values())
        old_all = bool(old_parser.result.rows) and all(",".join(r) in set(old_examples)
                                                       for r in old_parser.result.rows)
        own_rows = [",".join(r) for r in own_parser.result.rows]
        own_all = bool(own_rows) and all(r in set(examples) for r in own_rows)
        if old_all != own_all:
            verdicts.append([ds, model, label, len(old_parser.result.rows), old_report["example_copies"],
                             report["prompt_echo_rows"], len(own_rows), own["example_copies"],
                             "no model rows" if not own_rows else f"{own['example_copy_share']:.2f} copies"])

    print("## 1. Records kept per dataset (266 files)\n")
    cols = ["files", "before", "after", "echo", "after+echo", "newly read", "no longer read", "examples differ"]
    print(table([[ds] + [per_ds[ds][k] for k in cols] for ds in DATASETS]
                + [["all"] + [sum(per_ds[ds][k] for ds in DATASETS) for k in cols]], ["dataset"] + cols))
    print("\nbefore: the old parser's kept rows (echoed example rows included, as copies); after: the model's own "
          "rows (echo dropped, the import default); echo: spec-valid rows inside echoed prompts; after+echo: "
          "keep_prompt_echo: true.\n")
    print("## 2. Kept rows per format class (after+echo)\n")
    names = sorted(set(classes_all) | set(classes_new))
    print(table([[n, classes_all.get(n, 0), classes_new.get(n, 0)] for n in names],
                ["class", "kept rows using it", "newly read rows using it"]))
    print("\nA row read through several classes counts in each; (none): plain CSV, lists and tables. Newly read: the "
          "old parser does not read that row from the same line(s).\n")
    print(f"## 3. Spot-check: {args.sample} newly read rows (random.Random({args.seed}))\n")
    rng = random.Random(args.seed)
    for ds, model, label, key, (first, last), tags, lines in sorted(
            rng.sample(new_rows, min(args.sample, len(new_rows))), key=lambda r: r[:3]):
        raw = " / ".join(line.strip() for line in lines[first:last + 1])
        print(f"- {ds} {model} {label} line {first + 1}{'-' + str(last + 1) if last > first else ''} "
              f"[{', '.join(tags) or 'plain'}]\n    raw:  {raw[:400]}\n    read: {key}")
    print("\n## 4. Echo vs model copies per dataset\n")
    cols = ["files", "echo files", "echo", "model copies", "copies before"]
    print(table([[ds] + [per_ds[ds][k] for k in cols] for ds in DATASETS], ["dataset"] + cols))
    print("\necho: rows inside echoed prompts; model copies: rows equal to a prompt example outside an echo (now); "
          "copies before: the old count (echo and model copies together).\n")
    print(f"Runs whose '100% copies' verdict changes ({len(verdicts)}):\n")
    print(table(verdicts, ["dataset", "model", "prompt", "rows before", "copies before", "echo rows",
                           "model rows now", "model copies now", "now"]))


if __name__ == "__main__":
    main()
