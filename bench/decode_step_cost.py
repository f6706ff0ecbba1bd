"""Benchmark: what one llama_decode step costs with more tokens in it (issue 29). Run by hand, not in CI.

    .venv/bin/python bench/decode_step_cost.py [--model PATH] [--prompt 1700] [--offset 1000] [--repeats 2]
        [--requantize q8_0] [--kv-cache shared-q8_0 streams-f16]

Jump-forward appends forced tokens to a sequence's step; calls decoded together add one token per sequence. This
measures, after a ``--prompt``-token context filled ``--offset`` tokens further (breast cancer's calls decode at
positions 1,700-3,900), the time of a step of k tokens of one sequence (logits on the last only, as forced tokens
are) for k = 1, 2, 4, 8, and of one token for each of 2 and 4 sequences (each in its own KV stream holding a copy
of the context, as the pipeline decodes them), 16 steps each, ``--repeats`` times, interleaved over the
``--kv-cache`` layouts (``llama_cpp.kv_cache``: one shared copy of the context with q8_0 keys, or a copy per
sequence with f16 keys; default: the backend's own, streams-f16). With ``--requantize`` it also
measures a copy of the model requantized by llama.cpp to that type (e.g. q8_0: a weight type with llama.cpp's
repacked CPU kernels), to tell the weights' kernels from the attention.
"""

from __future__ import annotations

import argparse
import ctypes
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def step_costs(path: str, threads: int, prompt: int, offset: int, steps: int = 16, kv_cache: str | None = None
               ) -> dict:
    import llama_cpp

    from medsyn.llm.backend import LlamaBackend
    from medsyn.llm.decode import TokenBatch

    backend = LlamaBackend(path, n_ctx=8192, n_threads=threads, **({"kv_cache": kv_cache} if kv_cache else {}))
    backend.use_sequences(4, -(-(prompt + offset + 8 * steps) // 256) * 256, prompt_cells=prompt)
    tokens = backend.tokenize("0.1234,5.678,90.12,\n" * 3000)
    filler = tokens[1:400]
    out = {}
    for k, n in ((1, 1), (2, 1), (4, 1), (8, 1), (1, 2), (1, 4)):
        backend.restore_prompt(tokens[:prompt])
        for seq in range(1, n):
            backend.copy_sequence(0, seq)
        batch = TokenBatch(llama_cpp, 512, 4)
        pos = prompt
        try:
            while pos < prompt + offset:  # untimed: up to the offset
                batch.clear()
                m = min(512 // n, prompt + offset - pos)
                for seq in range(n):
                    for j in range(m):
                        batch.add(filler[j % len(filler)], pos + j, seq, False)
                backend.decode(batch.batch)
                pos += m
            t0 = time.perf_counter()
            for r in range(steps):
                batch.clear()
                for seq in range(n):
                    for j in range(k):
                        batch.add(filler[(r * k + j) % len(filler)], pos + j, seq, j == k - 1)
                backend.decode(batch.batch)
                pos += k
            out[(k, n)] = (time.perf_counter() - t0) / steps * 1000
        finally:
            batch.close()
    return out


def requantized(path: str, kind: str) -> str:
    import llama_cpp

    target = Path(path).with_name(Path(path).stem + f"-{kind}.gguf")
    if not target.exists():
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind.upper()}")
        params.allow_requantize = True
        if llama_cpp.llama_model_quantize(str(path).encode(), str(target).encode(), ctypes.byref(params)) != 0:
            raise SystemExit(f"llama.cpp could not requantize {path} to {kind}")
    return str(target)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "smollm2-135m-instruct.gguf"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=1700)
    ap.add_argument("--offset", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--requantize", default=None, help="also a copy requantized to this type (q8_0, q4_0)")
    ap.add_argument("--kv-cache", nargs="+", default=[None], help="llama_cpp.kv_cache layouts to compare")
    args = ap.parse_args()
    models = [args.model] + ([requantized(args.model, args.requantize)] if args.requantize else [])
    print(f"decode step cost, {time.strftime('%Y-%m-%d %H:%M')}, {args.threads} threads, context "
          f"{args.prompt} + {args.offset} tokens; ms per step (x a one-token step), medians of {args.repeats}")
    for path in models:
        by_cache = {kv: [] for kv in args.kv_cache}
        for _ in range(args.repeats):  # the layouts interleaved: the machine's drift falls on all of them
            for kv in args.kv_cache:
                by_cache[kv].append(step_costs(path, args.threads, args.prompt, args.offset, kv_cache=kv))
        for kv, runs in by_cache.items():
            print(Path(path).name + (f", kv_cache {kv}" if kv else ""))
            print_costs(runs)


def print_costs(runs: list[dict]) -> None:
    for key in runs[0]:
        k, n = key
        ms = sorted(r[key] for r in runs)[len(runs) // 2]
        one = sorted(r[(1, 1)] for r in runs)[len(runs) // 2]
        print(f"  {k} token(s) x {n} sequence(s): {ms:6.1f} ms per step ({ms / one:4.2f} x), "
              f"{ms / (k * n):5.1f} ms per token", flush=True)


if __name__ == "__main__":
    main()
