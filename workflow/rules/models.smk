rule prepare_model:
    """Materialize a registry model as a GGUF file and check its sha256."""
    output:
        layout.MODEL_FILE,
    log:
        "logs/prepare_model/{model}.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        entry=model_source,
    script:
        "../../scripts/prepare_model.py"
