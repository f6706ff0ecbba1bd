rule prepare_model:
    """Materialize a registry model as a GGUF file and check its sha256."""
    output:
        "resources/models/{model}.gguf",
    params:
        entry=model_source,
    conda:
        "../envs/medsyn.yaml"
    log:
        "logs/prepare_model/{model}.log",
    localrule: True
    script:
        "../../scripts/prepare_model.py"
