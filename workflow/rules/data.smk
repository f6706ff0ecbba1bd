rule prepare_data:
    """Load the real table, coerce it to its spec, split it (seeded, stratified): train, holdout, reference."""
    output:
        train="results/data/{dataset}/train.csv",
        holdout="results/data/{dataset}/holdout.csv",
        reference="results/data/{dataset}/reference.csv",
        split="results/data/{dataset}/split.json",
    log:
        "logs/prepare_data/{dataset}.log",
    conda:
        "../envs/medsyn.yaml"
    params:
        dataset=dataset_params,
        split=CONFIG["split"],
    script:
        "../../scripts/prepare_data.py"
