"""Run one model on one prompt (Snakemake adapter over medsyn.generate)."""

import hashlib

from medsyn import checkpoint, layout
from medsyn.run import Run
from medsyn.data import read_table
from medsyn.generate import RealRows, run_generation
from medsyn.llm.backend import LlamaBackend
from medsyn.parse import prompt_parser
from medsyn.prompts import read_prompt
from medsyn.settings import settings_from_config
from medsyn.spec import load_spec
from medsyn.step import run_step, write_json


def main(snakemake, log):
    run = Run.from_wildcards(snakemake.wildcards)
    spec = load_spec(snakemake.params.spec)
    prompt = read_prompt(snakemake.input.prompt, run)
    entry = snakemake.params.model
    settings = settings_from_config(snakemake.params.generation, run.mode, run.seed)
    real = None
    if settings.examples.per_call or settings.uses_row_hooks:
        real = RealRows(read_table(snakemake.input.train, spec), read_table(snakemake.input.holdout, spec))
    backend = LlamaBackend(snakemake.input.model, n_ctx=entry["n_ctx"], n_threads=snakemake.threads,
                           n_gpu_layers=entry["n_gpu_layers"], model_id=run.model,
                           extra_buffer_types=snakemake.params.llama_cpp["extra_buffer_types"],
                           kv_cache=snakemake.params.llama_cpp["kv_cache"])
    log(f"{run.model} on {run.dataset}/{run.prompt} ({run.mode}, recipe {run.recipe}, seed {run.seed}), "
        f"{snakemake.threads} threads")
    info = backend.system_info()
    log(f"llama-cpp-python {info['llama_cpp_python']}, GPU offload supported: {info['gpu_offload_supported']}, "
        f"n_gpu_layers: {entry['n_gpu_layers']}; system info: {info['system_info']}")
    log(f"extra buffer types {'on' if info['extra_buffer_types'] else 'off'}: {info['extra_buffer_types_reason']}")
    log(f"KV cache: {info['kv_cache']} (llama_cpp.kv_cache)")
    # the parse step's parser (same options, same column order): the valid rows counted here are the ones it keeps
    parser = prompt_parser(prompt, spec, snakemake.params.parse)
    tmp = layout.temporary(snakemake.output.raw)
    # Not a declared output: Snakemake deletes those when a job is killed, the checkpoint must survive it.
    ckpt = layout.checkpoint(snakemake.output.raw)
    fingerprint = checkpoint.fingerprint(entry, prompt, settings, run, kv_cache=backend.kv_cache)
    summary = run_generation(backend, spec, prompt, chat=entry["chat"], settings=settings, run=run,
                             out_jsonl=tmp, log=log, checkpoint=ckpt, fingerprint=fingerprint, real=real,
                             parser=parser)
    write_json(
        snakemake.output.meta,
        {
            "model": run.model,
            "model_sha256": entry["sha256"],
            "quantization": entry.get("quantization"),
            "chat": entry["chat"],
            "chat_template_sha256": hashlib.sha256((backend.chat_template or "").encode()).hexdigest()
            if entry["chat"] == "template"
            else None,
            "dataset": run.dataset,
            "prompt_type": run.prompt,
            "mode": run.mode,
            "recipe": run.recipe,
            "seed": run.seed,
            "threads": snakemake.threads,
            "n_ctx": entry["n_ctx"],
            "settings": settings.as_record(),
            **backend.system_info(),
            **summary,
        },
    )
    tmp.replace(snakemake.output.raw)
    ckpt.unlink(missing_ok=True)


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
