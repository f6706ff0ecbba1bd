rule draft_spec:
    """Draft a dataset spec from the dataset's CSV when it has no spec file (dataset_options.<id>.csv): types,
    ranges, levels, missing values, identifiers and the target, each guess commented in the YAML."""
    input:
        csv=dataset_csv,
    output:
        layout.DRAFTED_SPEC,
    log:
        layout.log("draft_spec", "{dataset}"),
    benchmark:
        layout.benchmark("draft_spec", "{dataset}")
    conda:
        "../envs/tables.yaml"
    params:
        target=lambda wildcards: config["dataset_options"][wildcards.dataset].get("target"),
    script:
        "../../scripts/draft_spec.py"


rule prepare_data:
    """Load the real table, coerce it to its spec, split it (seeded, stratified; whole groups with a spec
    group_column): train, holdout, reference, and each row's group for the evaluation."""
    input:
        spec=spec_path,
    output:
        train=layout.in_data("train.csv"),
        holdout=layout.in_data("holdout.csv"),
        reference=layout.in_data("reference.csv"),
        split=layout.in_data("split.json"),
        groups=layout.GROUPS,  # read by the evaluation only, never by a generator
    log:
        layout.log("prepare_data", "{dataset}"),
    conda:
        "../envs/tables.yaml"
    params:
        dataset=dataset_params,
        split=config["split"],
    script:
        "../../scripts/prepare_data.py"


rule subsample_train:
    """One train size of split.train_rows: a seeded subsample of n train rows (groups, with a spec group_column),
    stratified on the target and nested (the 25 inside the 50); all a generator at that size learns from."""
    input:
        train=layout.in_data("train.csv"),
        groups=layout.GROUPS,
    output:
        layout.TRAIN_SUBSAMPLE,
    log:
        layout.log("subsample_train", layout.TRAIN_KEY),
    wildcard_constraints:
        train_rows=r"\d+",
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        seed=config["split"]["seed"],
    script:
        "../../scripts/subsample_train.py"
