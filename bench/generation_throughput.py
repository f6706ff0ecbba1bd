"""Benchmark: generation throughput against the machine's decode limit (issue 7). Run by hand, not in CI.

    .venv/bin/python bench/generation_throughput.py [--models smollm2-135m-instruct qwen2.5-coder-0.5b-instruct]
        [--datasets cirrhosis diabetes] [--prompt A] [--repeats 3] [--threads 2] [--rows 30] [--free-calls 2]
        [--parallel 1 4]

For each model x dataset it measures, interleaved per repeat (the machines are shared and noisy; medians printed):

1. limit    llama.cpp's raw decode speed for the model and thread count: ``llama_decode`` of one token at a time
            after the same prompt, no sampling, no grammar, only the decode calls timed (tokens/s), over the same
            context positions a grammar call decodes (prompt length .. + the median completion tokens per call of
            the single-sequence run: attention cost grows with the position). Measured on a separate context of the
            same model, so it cannot touch the pipeline's state. For each --parallel N > 1 also the batched limit:
            ``llama_decode`` of N tokens (N sequences sharing the prompt) per step over the same positions.
2. grammar  our pipeline, exactly as the workflow runs it: the prompt built by ``medsyn.prompts`` from the train
            split (``medsyn.split.split_real``, config's fractions and seed), ``medsyn.generate.run_generation`` in
            grammar mode (config's rows per call, sampling settings and prefill), rows kept by ``medsyn.parse``,
            once per --parallel N (calls decoded together; N = 1 is one call after another; the workflow's default
            is generation.parallel_sequences). Reports valid novel rows/s (rows the parser keeps: spec-valid, not
            example copies, not duplicates), completion tokens per valid row, the share of wall time spent outside
            llama.cpp's token evaluation (prompt building, grammar, sampling, parsing, Python), read from
            llama.cpp's own perf counters (``llama_perf_context``: prompt + generation eval time), and the share
            spent evaluating the prompt (once per run).
3. paper    the paper's way through the same code: free text, no prefill, T 0.7, top-p 0.9, max 1000 tokens per
            call, one sequence per call (as the paper decoded), parsed afterwards; valid novel rows/s.
4. ratios   grammar vs limit = rows/s x tokens per row / limit tokens/s (1.0 = every second at the single-sequence
            decode speed spent on tokens that became valid rows; above 1 when sequences decoded together beat it),
            for N > 1 also against the batched limit of the same N, and grammar rows/s / paper rows/s.

Each repeat uses its own run seed (repeat r -> run seed r), the same for every code version, so a before/after
comparison sees the same prompts and seeds. Quality (yield, spec-valid share, example copies, duplicates) is
summed over repeats. Targets (issue 7): grammar vs limit >= 0.85 (outside-eval share <= 15%); grammar vs paper
>= 5x on SmolLM2 and >= 1.5x on Qwen2.5-Coder-0.5B.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MODEL_DIRS = [REPO / "resources" / "models", Path("/tmp/three/resources/models")]


def load_config() -> dict:
    import yaml

    with open(REPO / "config" / "config.yaml") as fh:
        cfg = yaml.safe_load(fh)
    try:
        from medsyn.config import load_config

        cfg = load_config(cfg)
    except Exception:  # defaults are enough for the keys used here
        pass
    return cfg


def model_path(model_id: str, entry: dict, cache: Path) -> Path:
    """An existing, sha256-checked copy of the model, or one materialized from its package into ``cache``."""
    from medsyn.models import materialize, sha256_file

    for folder in MODEL_DIRS + [cache]:
        path = folder / f"{model_id}.gguf"
        if path.is_file() and sha256_file(path) == entry["sha256"].lower():
            return path
    materialize(model_id, entry, cache / f"{model_id}.gguf")
    return cache / f"{model_id}.gguf"


def build(dataset: str, cfg: dict, data_dir: Path, prompt_type: str, seed: int, recipe: str):
    """Spec, real split and prompt exactly as prepare_data + make_prompt build them (the recipe's column order)."""
    from medsyn import paths
    from medsyn.config import recipe_generation, resolve_column_order
    from medsyn.data import load_real
    from medsyn.prompts import build_prompt
    from medsyn.spec import load_spec
    from medsyn.split import split_real

    spec = load_spec(paths.shipped_specs() / f"{dataset}.yaml")
    if spec.source.get("csv") is not None or not spec.source.get("loader"):
        spec = spec.with_csv(str(data_dir / f"{dataset}.csv"))
    split = cfg["split"]
    parts = split_real(load_real(spec), spec, split["holdout_fraction"], split["reference_fraction"],
                       split.get("seed", 1))
    prompt = build_prompt(spec, parts["train"], prompt_type, seed=seed, n_examples=cfg["prompts"]["n_examples"],
                          rows_per_call=cfg["generation"]["rows_per_call"],
                          column_order=resolve_column_order(recipe_generation(cfg, recipe)["column_order"],
                                                            spec.target))
    return spec, prompt, parts


def settings(cfg: dict, recipe: str, mode: str, seed: int, target_rows: int, max_calls: int, parallel: int = 1):
    """The recipe's settings exactly as the workflow maps them (``medsyn.settings.settings_from_config``); the
    paper's way (free mode) keeps the paper's sampling and no recipe switch."""
    import dataclasses

    from medsyn.config import recipe_generation, schema_defaults
    from medsyn.settings import BLOCKS, settings_from_config

    gen = recipe_generation(cfg, recipe)
    gen.update(target_rows=target_rows, max_calls=max_calls, parallel_sequences=parallel)
    if mode == "free":  # every recipe switch off: the schema's defaults
        off = schema_defaults()["generation"]
        gen.update(temperature=0.7, top_p=0.9, top_k=0, min_p=0.0, column_order=[], **{k: off[k] for k in BLOCKS})
    st = settings_from_config(gen, mode, seed)
    return st if mode == "grammar" else dataclasses.replace(st, parallel_sequences=1)


def perf_eval_seconds(llm) -> tuple[float, float]:
    """llama.cpp's own cumulative (prompt, generation) evaluation seconds of this context (batches of more than
    one token count as prompt evaluation)."""
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm)
    return data.t_p_eval_ms / 1000.0, data.t_eval_ms / 1000.0


def decode_limit(limit_backend, prompt_tokens: list[int], filler: list[int], n: int, n_seq: int = 1) -> float:
    """Tokens/s of llama_decode alone, continuing after the prompt (no sampling, no grammar): ``n`` steps of one
    token for each of ``n_seq`` sequences, each in its own KV stream holding a copy of the prompt (as the pipeline
    decodes them)."""
    import llama_cpp

    from medsyn.llm.decode import TokenBatch

    limit_backend.use_sequences(n_seq)
    limit_backend.restore_prompt(prompt_tokens)
    for seq in range(1, n_seq):
        limit_backend.copy_sequence(0, seq)
    pos = len(prompt_tokens)
    batch = TokenBatch(llama_cpp, n_seq, n_seq)
    spent = 0.0
    try:
        for i in range(n):
            batch.clear()
            for seq in range(n_seq):
                batch.add(filler[(i + seq) % len(filler)], pos + i, seq, True)
            t0 = time.perf_counter()
            limit_backend.decode(batch.batch)
            spent += time.perf_counter() - t0
    finally:
        batch.close()
    limit_backend.restore_prompt(prompt_tokens)  # leave the context as the pipeline would find it
    return n * n_seq / spent


def run_mode(backend, spec, prompt, parts, cfg, recipe, mode, seed, target_rows, max_calls, dataset, prompt_type,
             parallel=1):
    from medsyn.config import Run
    from medsyn.generate import RealRows, run_generation
    from medsyn.parse import parse_calls

    st = settings(cfg, recipe, mode, seed, target_rows, max_calls, parallel)
    backend._prompt_state = None  # evaluate the prompt in every run, as every workflow job does
    real = RealRows(parts["train"], parts["holdout"])
    order = prompt.row_spec(spec)
    run = Run("bench", dataset, prompt_type, mode, recipe, seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.jsonl"
        eval0 = perf_eval_seconds(backend.ctx)
        prompt0 = backend.prompt_eval_seconds
        t0 = time.perf_counter()
        run_generation(backend, spec, prompt, "template", st, run, out, log=lambda m: None, real=real)
        wall = time.perf_counter() - t0
        eval1 = perf_eval_seconds(backend.ctx)
        # llama.cpp counts batches of more than one token (sequences decoded together) as prompt evaluation,
        # so the prompt's own evaluation time is taken from the backend
        prompt_eval, evaluated = backend.prompt_eval_seconds - prompt0, eval1[0] + eval1[1] - eval0[0] - eval0[1]
        calls = [json.loads(line) for line in out.read_text().splitlines()]
    texts = {c["call"]: c["text"] for c in calls}
    _, report = parse_calls(calls, order, prompt.example_rows, prompt.user)
    rows = report["accepted"]
    resampled = sum(sum((c.get("rejected_rows") or {}).values()) for c in calls)
    return {
        "wall": wall,
        "eval": evaluated,
        "outside_share": max(0.0, (wall - evaluated) / wall),
        "prompt_eval_share": prompt_eval / wall,
        "rows": rows,
        "rows_per_s": rows / wall,
        "tokens": report["completion_tokens"],
        "tokens_per_row": report["completion_tokens"] / rows if rows else float("nan"),
        "tokens_per_call": statistics.median(c["completion_tokens"] for c in calls) if calls else 0,
        "calls": report["calls"],
        "candidates": report["candidate_rows"],
        "spec_valid": report["spec_valid_rows"],
        "copies": report["example_copies"],
        "duplicates": report["duplicates"],
        "resampled": resampled,
        "decoded": sum(c.get("decoded_tokens", c["completion_tokens"]) for c in calls),
        "reasons": report["rejected_by_reason"],
        "texts": texts,
    }


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=None,
                    help="model ids from config.yaml (default: SmolLM2, plus Qwen2.5-Coder-0.5B when installed)")
    ap.add_argument("--datasets", nargs="+", default=["cirrhosis", "diabetes"])
    ap.add_argument("--prompt", default="A", help="prompt type A-D")
    ap.add_argument("--recipe", default=None,
                    help="recipe of config.yaml the grammar runs use (default: its first, i.e. the default recipe)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--first-repeat", type=int, default=1,
                    help="number (= run seed) of the first repeat: adds repeats to an earlier run's --json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=30, help="valid rows wanted per grammar run")
    ap.add_argument("--parallel", type=int, nargs="+", default=[1, 4],
                    help="calls decoded together in the grammar runs, each value run side by side (1 = one by one)")
    ap.add_argument("--free-calls", type=int, default=2, help="calls of up to free_max_tokens per paper-way run")
    ap.add_argument("--data-dir", default=os.environ.get("MEDSYN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "medsyn-bench"))
    ap.add_argument("--json", help="also write every measurement to this file")
    args = ap.parse_args()

    import llama_cpp

    from medsyn.llm.backend import LlamaBackend
    from medsyn.llm.chat_template import build_prompt_text
    from medsyn.models import ModelError

    cfg = load_config()
    recipe = args.recipe or next(iter(cfg["generation"]["recipes"]))
    models = args.models
    if models is None:
        models = ["smollm2-135m-instruct"]
        try:
            model_path("qwen2.5-coder-0.5b-instruct", cfg["models"]["qwen2.5-coder-0.5b-instruct"], Path(args.cache))
            models.append("qwen2.5-coder-0.5b-instruct")
        except ModelError as exc:
            print(f"Qwen2.5-Coder-0.5B not installed, skipped: {exc}")
    parallels = sorted(set(args.parallel) | {1})  # N = 1 always runs: the single-sequence baseline
    rows_per_call = cfg["generation"]["rows_per_call"]
    grammar_calls = 2 * -(-args.rows // rows_per_call)
    load = os.getloadavg()
    print(f"medsyn generation throughput, {time.strftime('%Y-%m-%d %H:%M')}, llama-cpp-python "
          f"{llama_cpp.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, load {load[0]:.1f}/{load[1]:.1f}")
    print(f"recipe {recipe}: {json.dumps(cfg['generation']['recipes'][recipe])} over the base generation settings")
    print(f"prompt {args.prompt}, grammar runs: {args.rows} valid rows wanted ({rows_per_call} per call, at most "
          f"{grammar_calls} calls), calls decoded together: {' / '.join(map(str, parallels))}; paper way: "
          f"{args.free_calls} calls of <= {cfg['generation']['free_max_tokens']} tokens, one by one; "
          f"{args.repeats} interleaved repeats (repeat r = run seed r)\n")
    results = []
    for model_id in models:
        entry = cfg["models"][model_id]
        path = str(model_path(model_id, entry, Path(args.cache)))
        backends = {n: LlamaBackend(path, n_ctx=entry["n_ctx"], n_threads=args.threads, model_id=model_id)
                    for n in parallels}
        limit_backend = LlamaBackend(path, n_ctx=entry["n_ctx"], n_threads=args.threads)  # the limit's own context
        prepared = {d: build(d, cfg, Path(args.data_dir), args.prompt, seed=1, recipe=recipe) for d in args.datasets}
        runs = {d: [] for d in args.datasets}
        for rep in range(args.first_repeat, args.first_repeat + args.repeats):
            for dataset in args.datasets:
                spec, prompt, parts = prepared[dataset]
                one = backends[1]
                text = build_prompt_text(prompt, entry["chat"], one.chat_template, one.special_text(one.bos_token),
                                         one.special_text(one.eos_token), True)
                prompt_tokens = one.tokenize(text)
                filler = one.tokenize("".join(r + "\n" for r in prompt.example_rows) or prompt.header)[1:]
                grammar = {}
                for n in parallels:  # interleaved: N = 1, then each N > 1, then the limits, then the paper's way
                    grammar[n] = run_mode(backends[n], spec, prompt, parts, cfg, recipe, "grammar", rep, args.rows,
                                          grammar_calls, dataset, args.prompt, parallel=n)
                span = int(min(grammar[1]["tokens_per_call"], entry["n_ctx"] - len(prompt_tokens)) or 128)
                limits = {}
                for n in parallels:
                    fits = max(1, entry["n_ctx"] // (len(prompt_tokens) + span))
                    limits[n] = decode_limit(limit_backend, prompt_tokens, filler, span, min(n, fits))
                f = run_mode(one, spec, prompt, parts, cfg, recipe, "free", rep, 10**6, args.free_calls, dataset,
                             args.prompt)
                r = {"model": model_id, "dataset": dataset, "repeat": rep, "limit": limits[1], "limits": limits,
                     "span": span, "grammar": grammar, "free": f, "load": os.getloadavg()[0]}
                runs[dataset].append(r)
                results.append(r)
                print(f"  {model_id} {dataset} repeat {rep}: limit {limits[1]:6.1f} tok/s over {span} positions "
                      f"(batched: " + ", ".join(f"N={n} {limits[n]:.1f}" for n in parallels if n > 1) + ") | "
                      f"paper {f['rows']:3d} rows in {f['wall']:6.1f}s = {f['rows_per_s']:5.2f} rows/s | "
                      f"load {r['load']:.1f}", flush=True)
                for n, g in grammar.items():
                    same = sum(g["texts"].get(k) == t for k, t in grammar[1]["texts"].items())
                    g["same_as_one_by_one"] = (same, len(grammar[1]["texts"]))
                    print(f"      grammar N={n}: {g['rows']:3d} rows in {g['wall']:6.1f}s = {g['rows_per_s']:5.2f} "
                          f"rows/s, {g['tokens_per_row']:5.1f} tok/row, {g['tokens'] / g['wall']:6.1f} tok/s, "
                          f"outside eval {g['outside_share']:5.1%}, prompt eval {g['prompt_eval_share']:5.1%}; "
                          f"{g['rows']} kept of {g['candidates']} candidates, spec-valid {g['spec_valid']}, "
                          f"copies {g['copies']}, duplicates {g['duplicates']}, rows resampled at decode time "
                          f"{g['resampled']} ({g['decoded']} tokens decoded), {g['calls']} calls"
                          + (f"; calls byte-identical to N=1: {same} of {len(grammar[1]['texts'])}" if n > 1 else ""),
                          flush=True)
                print(f"      paper: {f['rows']} kept of {f['candidates']}, spec-valid {f['spec_valid']}, copies "
                      f"{f['copies']}, duplicates {f['duplicates']}, {f['tokens']} tokens", flush=True)
                if args.json:
                    Path(args.json).write_text(json.dumps(results, indent=1, default=str))
        for dataset in args.datasets:
            summarize(model_id, dataset, args, runs[dataset], parallels, results)
        del backends, limit_backend
    print(f"\nload at end {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


def summarize(model_id: str, dataset: str, args, rs: list[dict], parallels: list[int], results: list) -> None:
    """Medians over repeats and the targets, for one model x dataset."""
    target = 5.0 if model_id.startswith("smollm2") else 1.5
    limit = med([r["limit"] for r in rs])
    f_rps = med([r["free"]["rows_per_s"] for r in rs])
    f_tpr = med([r["free"]["tokens_per_row"] for r in rs])
    print(f"\n== {model_id} / {dataset} / prompt {args.prompt}, {args.threads} threads, medians of {len(rs)} "
          f"repeats ==")
    print(f"  1. decode limit (llama_decode only, no grammar)    {limit:8.1f} tokens/s, one sequence, over "
          f"{med([r['span'] for r in rs]):.0f} positions after the prompt")
    for n in parallels:
        if n > 1:
            print(f"     batched limit, {n} sequences decoded together {med([r['limits'][n] for r in rs]):8.1f} "
                  f"tokens/s")
    print(f"  3. paper's way (free, T0.7, top-p 0.9, <=1000 tok) {f_rps:8.2f} valid novel rows/s   {f_tpr:6.1f} "
          f"tokens/row")
    fq = {k: sum(r["free"][k] for r in rs) for k in ("rows", "candidates", "spec_valid", "copies", "duplicates")}
    for n in parallels:
        gs = [r["grammar"][n] for r in rs]
        g_rps = med([g["rows_per_s"] for g in gs])
        vs_limit = med([g["rows_per_s"] * g["tokens_per_row"] / r["limit"] for g, r in zip(gs, rs)])
        vs_batched = med([g["rows_per_s"] * g["tokens_per_row"] / r["limits"][n] for g, r in zip(gs, rs)])
        vs_paper = g_rps / f_rps if f_rps > 0 else float("inf")
        print(f"  2. pipeline, grammar mode, {n} call(s) decoded together: {g_rps:6.2f} valid novel rows/s   "
              f"{med([g['tokens_per_row'] for g in gs]):6.1f} tokens/row   outside token eval "
              f"{med([g['outside_share'] for g in gs]):6.1%} of wall (prompt eval "
              f"{med([g['prompt_eval_share'] for g in gs]):.1%})")
        met = "met" if vs_limit >= 0.85 else "NOT met"
        batched = f"   vs the batched limit of {n} sequences {vs_batched:5.2f}" if n > 1 else ""
        print(f"  4. grammar (N={n}) vs limit {vs_limit:5.2f} (target >= 0.85: {met}){batched}   vs paper "
              f"{vs_paper:6.2f}x (target >= {target:g}x: {'met' if vs_paper >= target else 'NOT met'})")
        gq = {k: sum(g[k] for g in gs) for k in ("rows", "candidates", "spec_valid", "copies", "duplicates")}
        if n > 1:
            same = [g["same_as_one_by_one"] for g in gs]
            print(f"     calls decoded together that are byte-identical to the same call decoded alone: "
                  f"{sum(a for a, _ in same)} of {sum(b for _, b in same)}")
        results.append({"summary": {"model": model_id, "dataset": dataset, "parallel": n, "limit": limit,
                                    "grammar_rows_per_s": g_rps, "paper_rows_per_s": f_rps, "vs_limit": vs_limit,
                                    "vs_batched_limit": vs_batched, "vs_paper": vs_paper, "grammar_quality": gq,
                                    "paper_quality": fq}})
        print(quality_line(f"grammar N={n}", gq))
    print(quality_line("paper", fq))


def quality_line(label: str, q: dict) -> str:
    share = q["rows"] / q["candidates"] if q["candidates"] else float("nan")
    valid = q["spec_valid"] / q["candidates"] if q["candidates"] else float("nan")
    return (f"     quality {label:11s}: {q['rows']:4d} kept of {q['candidates']:4d} candidate rows (yield "
            f"{share:6.1%}, spec-valid {valid:6.1%}), example copies {q['copies']}, duplicates {q['duplicates']}")


if __name__ == "__main__":
    main()
