"""Benchmark: llama.cpp's decode speed per way of loading a model (issue 23, AMX). Run by hand, not in CI.

    .venv/bin/python bench/decode_speed.py [--models smollm2-135m-instruct qwen2.5-coder-0.5b-instruct]
        [--loads default auto off on] [--repeats 3] [--tokens 128] [--threads 2] [--json out.json]

Loads, for each model:
  default  ``llama_cpp.Llama(...)`` as llama-cpp-python loads it (use_extra_bufts true): medsyn before issue 23
  auto     ``medsyn.llm.backend.LlamaBackend`` with ``extra_buffer_types: auto`` (the default since issue 23:
           extra buffer types off when the llama.cpp build has AMX, on otherwise)
  off/on   the same with the setting forced

and times ``llama_decode`` of one token at a time (greedy, no sampler), ``--tokens`` tokens after a short prompt,
after 8 untimed warm-up tokens: decode tokens/s. Loads are interleaved within each repeat (model by model, load by
load) so that a shared machine's load falls on all of them alike; medians and ratios to ``default`` are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from generation_throughput import load_config, model_path  # noqa: E402

PROMPT = "Patient records as CSV.\nage,sex,bmi,glucose\n"


def load(kind: str, path: Path, n_ctx: int, threads: int):
    """A ``llama_cpp.Llama`` loaded the ``kind`` way, and whether it uses extra buffer types."""
    import llama_cpp

    if kind == "default":
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                              verbose=False)
        return llm, bool(llm.model_params.use_extra_bufts), None
    from medsyn.llm.backend import LlamaBackend

    backend = LlamaBackend(str(path), n_ctx=n_ctx, n_threads=threads, extra_buffer_types=kind)
    return backend.llm, backend.extra_buffer_types, backend


def decode_tokens_per_s(llm, n_tokens: int) -> float:
    import llama_cpp
    import numpy as np

    llm.reset()
    llm.eval(llm.tokenize(PROMPT.encode()))
    n_vocab = llm.n_vocab()

    def next_token():
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,))
        return int(np.argmax(logits))

    for _ in range(8):  # warm-up: caches, thread pool
        llm.eval([next_token()])
    elapsed = 0.0
    for _ in range(n_tokens):
        token = next_token()
        started = time.perf_counter()
        llm.eval([token])
        elapsed += time.perf_counter() - started
    return n_tokens / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"])
    ap.add_argument("--loads", nargs="+", default=["default", "auto", "off", "on"],
                    choices=["default", "auto", "off", "on"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=1024)
    ap.add_argument("--json", help="write every measurement here")
    args = ap.parse_args()

    import llama_cpp

    cfg = load_config()
    cache = REPO / ".bench_models"
    paths = {m: model_path(m, cfg["models"][m], cache) for m in args.models}
    print(f"llama-cpp-python {llama_cpp.__version__}; system info: "
          f"{llama_cpp.llama_print_system_info().decode(errors='replace').strip()}", flush=True)
    rows = []
    for repeat in range(1, args.repeats + 1):
        for model in args.models:
            for kind in args.loads:
                llm, extra, backend = load(kind, paths[model], args.n_ctx, args.threads)
                tps = decode_tokens_per_s(llm, args.tokens)
                rows.append({"repeat": repeat, "model": model, "load": kind, "extra_buffer_types": extra,
                             "decode_tokens_per_s": tps})
                print(f"repeat {repeat}  {model:30s} {kind:8s} extra_bufts={extra!s:5s} {tps:7.1f} tok/s", flush=True)
                del llm, backend
    print("\nmedian decode tokens/s (ratio to default):")
    for model in args.models:
        base = statistics.median(r["decode_tokens_per_s"] for r in rows if r["model"] == model and r["load"] == "default") \
            if "default" in args.loads else None
        for kind in args.loads:
            values = [r["decode_tokens_per_s"] for r in rows if r["model"] == model and r["load"] == kind]
            med = statistics.median(values)
            ratio = f"  x{med / base:.3f}" if base else ""
            print(f"  {model:30s} {kind:8s} {med:7.1f}  [{min(values):.1f}-{max(values):.1f}]{ratio}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
