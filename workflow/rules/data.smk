rule prepare_data:
    """Load the real table, coerce it to its spec, and split it (seeded, stratified) into train and holdout."""
    output:
        train="results/data/{dataset}/train.csv",
        holdout="results/data/{dataset}/holdout.csv",
        split="results/data/{dataset}/split.json",
    params:
        dataset=dataset_params,
        split=CONFIG["split"],
    log:
        "logs/prepare_data/{dataset}.log",
    script:
        "../../scripts/prepare_data.py"
