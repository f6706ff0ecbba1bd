rule generate:
    """Prompt one model: seeded calls until target_rows valid rows or max_calls; raw text kept as JSONL."""
    input:
        model="resources/models/{model}.gguf",
        prompt="results/prompts/{dataset}/{prompt}/seed{seed}.json",
    output:
        raw="results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/raw.jsonl",
        meta="results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/generation.json",
    log:
        "logs/generate/{model}/{dataset}/{prompt}/{mode}/seed{seed}.log",
    benchmark:
        "benchmarks/generate/{model}/{dataset}/{prompt}/{mode}/seed{seed}.tsv"
    conda:
        generate_env
    threads: 4
    resources:
        mem_mb=model_mem_mb,
        runtime=generate_runtime,
        gpu=model_gpu,
    params:
        spec=spec_path,
        model=model_entry,
        generation=generation_params,
    script:
        "../../scripts/generate.py"
