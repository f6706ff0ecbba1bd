"""Run one model on one prompt (Snakemake adapter over medsyn.generate)."""

import hashlib
from pathlib import Path

from medsyn.generate import GenerationSettings, LlamaBackend, checkpoint_fingerprint, run_generation
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step, write_json


def main(snakemake, log):
    wc = snakemake.wildcards
    spec = load_spec(snakemake.params.spec)
    prompt = read_json(snakemake.input.prompt)
    entry = snakemake.params.model
    gen = snakemake.params.generation
    settings = GenerationSettings(
        mode=wc.mode,
        target_rows=gen["target_rows"],
        max_calls=gen["max_calls"],
        temperature=gen["temperature"],
        top_p=gen["top_p"],
        top_k=gen["top_k"],
        min_p=gen["min_p"],
        repeat_penalty=gen["repeat_penalty"],
        max_tokens=gen["max_tokens"],
        free_max_tokens=gen["free_max_tokens"],
        prefill=gen["prefill"],
        seed=int(wc.seed),
        parallel_sequences=gen["parallel_sequences"],
    )
    backend = LlamaBackend(
        snakemake.input.model,
        n_ctx=entry["n_ctx"],
        n_threads=snakemake.threads,
        n_gpu_layers=entry["n_gpu_layers"],
        seed=int(wc.seed) + 1,
        model_id=wc.model,
    )
    log(f"{wc.model} on {wc.dataset}/{wc.prompt} ({wc.mode}, seed {wc.seed}), {snakemake.threads} threads")
    info = backend.system_info()
    log(f"llama-cpp-python {info['llama_cpp_python']}, GPU offload supported: {info['gpu_offload_supported']}, "
        f"n_gpu_layers: {entry['n_gpu_layers']}; system info: {info['system_info']}")
    tmp = Path(snakemake.output.raw + ".tmp")
    # Not a declared output: Snakemake deletes those when a job is killed, the checkpoint must survive it.
    checkpoint = Path(snakemake.output.raw + ".checkpoint")
    run_key = (wc.dataset, wc.prompt, wc.mode, wc.seed)
    fingerprint = checkpoint_fingerprint(entry, prompt, settings, run_key, snakemake.threads)
    summary = run_generation(
        backend,
        spec,
        prompt,
        chat=entry["chat"],
        settings=settings,
        run_key=run_key,
        out_jsonl=tmp,
        log=log,
        checkpoint=checkpoint,
        fingerprint=fingerprint,
    )
    write_json(
        snakemake.output.meta,
        {
            "model": wc.model,
            "model_sha256": entry["sha256"],
            "quantization": entry.get("quantization"),
            "chat": entry["chat"],
            "chat_template_sha256": hashlib.sha256((backend.chat_template or "").encode()).hexdigest()
            if entry["chat"] == "template"
            else None,
            "dataset": wc.dataset,
            "prompt_type": wc.prompt,
            "mode": wc.mode,
            "seed": int(wc.seed),
            "threads": snakemake.threads,
            "n_ctx": entry["n_ctx"],
            "settings": settings.__dict__,
            **backend.system_info(),
            **summary,
        },
    )
    tmp.replace(snakemake.output.raw)
    checkpoint.unlink(missing_ok=True)


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
