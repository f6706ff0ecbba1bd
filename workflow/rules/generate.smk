rule generate:
    """Prompt one model: seeded calls until target_rows valid rows or max_calls; raw text kept as JSONL."""
    input:
        # ancient: the model's sha256 (in params) decides reruns, not the file's mtime
        model=ancient(layout.MODEL_FILE),
        backend=ancient(layout.BACKEND_CHECK),  # run after the preflight; a rerun of it regenerates nothing
        prompt=layout.PROMPT,
        train=train_set,  # the run's train size: examples, steering, novelty and the near threshold learn from it
        holdout=layout.in_data("holdout.csv"),
    output:
        raw=layout.in_run("raw.jsonl"),
        meta=layout.in_run("generation.json"),
    log:
        layout.log("generate", layout.RUN_KEY),
    benchmark:
        layout.benchmark("generate", layout.RUN_KEY)
    conda:
        generate_env
    threads: generate_threads()
    resources:
        mem_mb=model_mem_mb,
        runtime=generate_runtime,
        gpu=model_gpu,
    params:
        spec=spec_path,
        model=model_entry,
        model_source=model_source,
        generation=generation_params,
        parse=config["parse"],
        llama_cpp=config["llama_cpp"],
    script:
        "../../scripts/generate.py"
