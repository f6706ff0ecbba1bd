"""Backend preflight: decode a fixed prompt with a model in a child process before any generation job starts.

A llama.cpp backend that crashes (SIGSEGV in the AMX kernels, issue 23) would otherwise kill the first generate
job, dozens of jobs into a run, with nothing but a signal number; one that computes garbage (the Q4_x AMX bug)
would quietly write nonsense tables. The child loads the model exactly as ``generate`` does (same n_gpu_layers,
same extra-buffer-type setting), greedy-decodes ``N_TOKENS`` tokens of ``PROMPT`` and prints a JSON line; the
parent turns a signal, an error or a text other than the model entry's ``preflight_text`` into a ``BackendError``
that names the model, the CPU's features and the way out.

The prompt is a count: every model we ship continues it the same way with a clear lead of the first logit over the
second (>= 1.1 on all four registry models, with extra buffer types on and off), so a correct backend on another CPU
or on CUDA gives the same text and a broken one does not.

    python -m medsyn.llm.preflight MODEL.gguf [--n-gpu-layers N] [--extra-buffer-types auto|on|off]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from medsyn.errors import BackendError
from medsyn.llm.backend import LlamaBackend, llama_system_info

PROMPT = "1, 2, 3, 4, 5, 6, 7, 8,"
N_TOKENS = 16
CHILD_TIMEOUT_S = 600
WAY_OUT = (
    "Ways out: set llama_cpp.extra_buffer_types: off in the config (auto does so only when the llama.cpp build "
    "reports AMX_INT8 = 1), which loads weights without the AMX/REPACK buffers; or rebuild llama-cpp-python without native CPU tuning: "
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "bash scripts/install.sh --rebuild (README, CPU requirements)"
)


def child_command(model_path: str, n_gpu_layers: int, extra_buffer_types: str) -> list[str]:
    return [sys.executable, "-m", "medsyn.llm.preflight", str(model_path), "--n-gpu-layers", str(n_gpu_layers),
            "--extra-buffer-types", extra_buffer_types]


def cpu_features() -> str:
    """The CPU's AMX flags and llama.cpp's build features, read in this process (no model loaded)."""
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags.update(f for f in line.split(":", 1)[1].split() if f.startswith("amx"))
    except OSError:
        pass
    try:
        build = llama_system_info()
    except Exception as exc:  # llama_cpp itself may be what fails
        build = f"(llama_cpp not importable: {exc})"
    amx = " ".join(sorted(flags)) or "none"
    return f"CPU AMX flags: {amx}; llama.cpp build: {build}"


def interpret(model_id: str, returncode: int, stdout: str, stderr: str, expected: str | None,
              extra_buffer_types: str = "auto") -> dict:
    """The child's result, or a BackendError saying what went wrong and what to do."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        raise BackendError(
            f"backend preflight: llama.cpp crashed ({name}) decoding {N_TOKENS} tokens with model '{model_id}' in "
            f"a child process, so every generation job with it would crash too (llama_cpp.extra_buffer_types was "
            f"{extra_buffer_types!r}). {cpu_features()}. {WAY_OUT}. "
            f"Last output of the child: {_tail(stderr) or '(none)'}"
        )
    if returncode != 0:
        raise BackendError(
            f"backend preflight: the child decoding with model '{model_id}' exited with status {returncode}: "
            f"{_tail(stderr) or '(no output)'}"
        )
    try:
        result = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise BackendError(f"backend preflight: the child for model '{model_id}' printed no result: "
                           f"{_tail(stdout + stderr) or '(no output)'}") from None
    result["expected"] = expected
    result["matches_reference"] = None if expected is None else result["text"] == expected
    if expected is not None and result["text"] != expected:
        raise BackendError(
            f"backend preflight: model '{model_id}' continued {PROMPT!r} greedily with {result['text']!r}, not "
            f"the reference {expected!r} (models.{model_id}.preflight_text): this llama.cpp backend computes "
            f"wrong results on this machine. {cpu_features()}. {WAY_OUT}. If you changed the model file, update "
            f"preflight_text to its greedy continuation (python -m medsyn.llm.preflight <file>)"
        )
    return result


def check_backend(model_id: str, model_path: str, n_gpu_layers: int = 0, extra_buffer_types: str = "auto",
                  expected: str | None = None, command: list[str] | None = None,
                  timeout: float = CHILD_TIMEOUT_S) -> dict:
    """Run the preflight child (``command`` replaces it in tests) and return its checked result."""
    cmd = command or child_command(model_path, n_gpu_layers, extra_buffer_types)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BackendError(f"backend preflight: decoding {N_TOKENS} tokens with model '{model_id}' took over "
                           f"{timeout:.0f} s: llama.cpp hangs on this machine. {cpu_features()}. {WAY_OUT}") from None
    return interpret(model_id, done.returncode, done.stdout, done.stderr, expected, extra_buffer_types)


def _tail(text: str, n: int = 600) -> str:
    text = " ".join(text.split())
    return text[-n:]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="greedy-decode the preflight prompt with one model (a JSON line)")
    ap.add_argument("model")
    ap.add_argument("--n-gpu-layers", type=int, default=0)
    ap.add_argument("--extra-buffer-types", default="auto")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    backend = LlamaBackend(args.model, n_ctx=256, n_threads=1, n_gpu_layers=args.n_gpu_layers,
                           extra_buffer_types=args.extra_buffer_types)
    text, margin = backend.greedy(PROMPT, N_TOKENS)
    info = backend.system_info()
    print(json.dumps({"prompt": PROMPT, "text": text, "min_logit_margin": round(margin, 3),
                      "seconds": round(time.perf_counter() - started, 3), **info}))


if __name__ == "__main__":
    main()
