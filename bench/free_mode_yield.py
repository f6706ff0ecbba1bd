"""Benchmark: free-mode yield of a packaged model before and after issue 14's parser, on identical text.

    .venv/bin/python bench/free_mode_yield.py [--models smollm2-135m-instruct] [--datasets stroke]
        [--prompt A] [--calls 6] [--seed 1] [--threads 2] [--base d6bd2cc] [--show 3]

For each model x dataset: the prompt is built as the workflow builds it (train split, ``medsyn.prompts``), then
``medsyn.generate.run_generation`` decodes ``--calls`` free-mode calls exactly as the workflow does (the paper's
decoding: config's sampling, no prefill, up to ``generation.free_max_tokens`` tokens a call; call k's seed derives
from the run seed). The run's target is set above what the calls can reach, so the generation stop rule never ends
the run early and both parsers read the same raw text. That text is parsed by the parser at ``--base``
(``src/medsyn/parse.py`` then) and by the current ``medsyn.parse``, both configured as the parse step configures
them (config ``parse:``; the prompt's example rows and text). Prints per parser: candidate rows, rows kept, yield
(rows kept / the workflow's ``generation.target_rows``), rows kept per call and per 1,000 completion tokens, the
reasons, and for the current parser the format classes and echo rows; then the first ``--show`` raw lines of rows
only the current parser keeps. Timings are not the point and are not printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from generation_throughput import build, load_config, model_path, settings  # noqa: E402
from parser_formats import load_old_parser  # noqa: E402


def generate(model_id: str, entry: dict, spec, prompt, parts: dict, cfg: dict, args, cache: Path) -> list[dict]:
    from medsyn.config import Run
    from medsyn.generate import RealRows, run_generation
    from medsyn.llm.backend import LlamaBackend

    backend = LlamaBackend(str(model_path(model_id, entry, cache)), n_ctx=entry["n_ctx"], n_threads=args.threads,
                           model_id=model_id)
    st = settings(cfg, "default", "free", args.seed, 10 ** 6, args.calls)  # a target no run reaches: all calls run
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.jsonl"
        run = Run(model_id, spec.name, args.prompt, "free", "default", args.seed)
        run_generation(backend, spec, prompt, entry["chat"], st, run, out,
                       log=lambda m: print(f"{model_id}/{spec.name}: {m}", file=sys.stderr, flush=True),
                       real=RealRows(parts["train"], parts["holdout"]))
        calls = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / f"{model_id}-{spec.name}-{args.prompt}-seed{args.seed}.jsonl").write_text(
            "".join(json.dumps(c) + "\n" for c in calls))
    return calls


def summary(name: str, report: dict, target: int) -> dict:
    kept = report["accepted"]
    tokens = report["completion_tokens"]
    return {"parser": name, "calls": report["calls"], "completion tokens": tokens,
            "candidate rows": report["candidate_rows"], "rows kept": kept,
            "yield": round(min(kept, target) / target, 4), "rows/call": round(kept / max(1, report["calls"]), 2),
            "rows/1k tokens": round(1000 * kept / tokens, 2) if tokens else None,
            "example copies": report["example_copies"], "duplicates": report["duplicates"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["smollm2-135m-instruct"])
    ap.add_argument("--datasets", nargs="+", default=["stroke"])
    ap.add_argument("--prompt", default="A")
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", default="d6bd2cc", help="commit of the parser before issue 14")
    ap.add_argument("--show", type=int, default=3, help="rows only the current parser keeps, shown with their text")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("MEDSYN_SHARED_DATA",
                                                                     REPO.parent / "shared" / "data")))
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "medsyn-bench-models"))
    ap.add_argument("--save", type=Path, help="folder to keep the raw calls in (one JSONL per model x dataset)")
    args = ap.parse_args()
    Path(args.cache).mkdir(parents=True, exist_ok=True)

    from medsyn.parse import prompt_parser, read_calls

    old = load_old_parser(args.base)
    cfg = load_config()
    options = cfg["parse"]
    target = cfg["generation"]["target_rows"]
    for model_id in args.models:
        entry = cfg["models"][model_id]
        for dataset in args.datasets:
            spec, prompt, parts = build(dataset, cfg, args.data, args.prompt, args.seed, "default")
            calls = generate(model_id, entry, spec, prompt, parts, cfg, args, Path(args.cache))
            order = prompt.row_spec(spec)  # the column order the rows were generated in (as parse_run)
            old_parser, old_report = old.parse_calls(calls, order, prompt.example_rows, prompt.user,
                                                     options["keep_example_copies"], options["reject_duplicates"])
            new_parser = prompt_parser(prompt, spec, options)
            new_report = read_calls(new_parser, calls)
            print(f"## {model_id}, {dataset}, prompt {args.prompt}, free mode, seed {args.seed}, "
                  f"{len(calls)} calls (target_rows {target})\n")
            rows = [summary(f"before ({args.base})", old_report, target), summary("after", new_report, target)]
            keys = list(rows[0])
            print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
            for r in rows:
                print("| " + " | ".join(str(r[k]) for k in keys) + " |")
            print(f"\nbefore, rejected: { {k: v for k, v in old_report['rejected_by_reason'].items() if v} }")
            print(f"after, rejected:  { {k: v for k, v in new_report['rejected_by_reason'].items() if v} }")
            print(f"after, format classes of kept rows: {new_report['rows_by_format']}; "
                  f"rows in echoed prompts: {new_report['prompt_echo_rows']}")
            before = {",".join(r) for r in old_parser.result.rows}
            texts = {c.get("call", i): c.get("text", "") for i, c in enumerate(calls)}
            shown = 0
            for row, (call, first, last) in zip(new_parser.result.rows, new_parser.result.row_sources):
                if ",".join(row) in before or shown >= args.show:
                    continue
                shown += 1
                raw = " / ".join(x.strip() for x in texts[call].splitlines()[first:last + 1])
                print(f"- call {call} line {first + 1}: {raw[:300]}\n    read: {','.join(row)}")
            print()


if __name__ == "__main__":
    main()
