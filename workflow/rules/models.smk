rule prepare_model:
    """Materialize a registry model as a GGUF file and check its sha256."""
    output:
        layout.MODEL_FILE,
    log:
        layout.log("prepare_model", "{model}"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        entry=model_source,
    script:
        "../../scripts/prepare_model.py"


rule check_backend:
    """Greedy-decode a fixed prompt with the model in a child process: a crash or a wrong text stops the run here."""
    input:
        model=ancient(layout.MODEL_FILE),
    output:
        layout.BACKEND_CHECK,
    log:
        layout.log("check_backend", "{model}"),
    benchmark:
        layout.benchmark("check_backend", "{model}")
    conda:
        generate_env
    resources:
        mem_mb=model_mem_mb,
        gpu=model_gpu,
    params:
        model=model_preflight,
        llama_cpp=config["llama_cpp"],
    script:
        "../../scripts/check_backend.py"
