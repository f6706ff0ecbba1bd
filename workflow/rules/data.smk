rule prepare_data:
    """Load the real table, coerce it to its spec, split it (seeded, stratified; whole groups with a spec
    group_column): train, holdout, reference, and each row's group for the evaluation."""
    output:
        train=layout.in_data("train.csv"),
        holdout=layout.in_data("holdout.csv"),
        reference=layout.in_data("reference.csv"),
        split=layout.in_data("split.json"),
        groups=layout.GROUPS,  # read by the evaluation only, never by a generator
    log:
        "logs/prepare_data/{dataset}.log",
    conda:
        "../envs/tables.yaml"
    params:
        dataset=dataset_params,
        split=CONFIG["split"],
    script:
        "../../scripts/prepare_data.py"
