"""Backend preflight of one model: a short greedy decode in a child process (Snakemake adapter)."""

from medsyn.llm.preflight import N_TOKENS, PROMPT, check_backend
from medsyn.step import run_step, write_json


def main(snakemake, log):
    model = snakemake.wildcards.model
    entry = snakemake.params.model
    setting = snakemake.params.llama_cpp["extra_buffer_types"]
    log(f"{model}: greedy decode of {N_TOKENS} tokens after {PROMPT!r} in a child process "
        f"(n_gpu_layers {entry['n_gpu_layers']}, extra buffer types: {setting})")
    result = check_backend(model, snakemake.input.model, n_gpu_layers=entry["n_gpu_layers"],
                           extra_buffer_types=setting, expected=entry.get("preflight_text"))
    log(f"extra buffer types {'on' if result['extra_buffer_types'] else 'off'}: {result['extra_buffer_types_reason']}")
    verdict = "matches the reference" if result["matches_reference"] else "no reference text: only crashes checked"
    log(f"decoded {result['text']!r} ({verdict}; smallest top-1/top-2 logit gap {result['min_logit_margin']}) "
        f"in {result['seconds']} s; system info: {result['system_info']}")
    write_json(snakemake.output[0], {"model": model, "model_sha256": entry["sha256"], **result})


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
