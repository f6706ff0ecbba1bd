rule prepare_data:
    """Load the real table, coerce it to its spec, split it (seeded, stratified): train, holdout, reference."""
    output:
        train=layout.in_data("train.csv"),
        holdout=layout.in_data("holdout.csv"),
        reference=layout.in_data("reference.csv"),
        split=layout.in_data("split.json"),
    log:
        "logs/prepare_data/{dataset}.log",
    conda:
        "../envs/tables.yaml"
    params:
        dataset=dataset_params,
        split=CONFIG["split"],
    script:
        "../../scripts/prepare_data.py"
