rule make_baseline:
    """A classical baseline table from the train split (holdout = unseen real rows from the reference split)."""
    input:
        unpack(split_files),
    output:
        layout.in_baseline("synthetic.csv"),
    log:
        "logs/make_baseline/{baseline}/{dataset}/seed{seed}.log",
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        rows=baseline_rows(),
        drawn=drawn_baseline_params,
    script:
        "../../scripts/make_baseline.py"


rule import_external:
    """Already-generated rows (a CSV, or raw LLM text through our parser) as a generator of its own."""
    input:
        unpack(external_inputs),
    output:
        synthetic=layout.in_external("synthetic.csv"),
        report=layout.in_external("parse_report.json"),
        rejects=layout.in_external("rejects.tsv"),
        examples=layout.in_external("examples.csv"),
    log:
        "logs/import_external/{generator}/{dataset}/{label}.log",
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        keep_example_copies=lambda wc: external_entry(CONFIG, wc.generator, wc.dataset)["keep_example_copies"],
        reject_duplicates=lambda wc: external_entry(CONFIG, wc.generator, wc.dataset)["reject_duplicates"],
        keep_prompt_echo=lambda wc: external_entry(CONFIG, wc.generator, wc.dataset)["keep_prompt_echo"],
    script:
        "../../scripts/import_external.py"


rule evaluate_run:
    """All metric families for one LLM run, against train, holdout and the prompt's example rows."""
    input:
        unpack(split_files),
        synthetic=layout.in_run("synthetic.csv"),
        parse_report=layout.in_run("parse_report.json"),
        meta=layout.in_run("generation.json"),
    output:
        layout.in_run("metrics.json"),
    log:
        "logs/evaluate/models/{model}/{dataset}/{prompt}/{mode}/{recipe}/seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/models/{model}/{dataset}/{prompt}/{mode}/{recipe}/seed{seed}.tsv"
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        families=CONFIG["evaluation"]["families"],
        kind="llm",
    script:
        "../../scripts/evaluate.py"


use rule evaluate_run as evaluate_baseline with:
    input:
        unpack(split_files),
        synthetic=layout.in_baseline("synthetic.csv"),
    output:
        layout.in_baseline("metrics.json"),
    log:
        "logs/evaluate/baselines/{baseline}/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/baselines/{baseline}/{dataset}/seed{seed}.tsv"
    params:
        spec=spec_path,
        families=CONFIG["evaluation"]["families"],
        kind="baseline",


use rule evaluate_run as evaluate_external with:
    input:
        unpack(split_files),
        synthetic=layout.in_external("synthetic.csv"),
        parse_report=layout.in_external("parse_report.json"),
        examples=layout.in_external("examples.csv"),
    output:
        layout.in_external("metrics.json"),
    log:
        "logs/evaluate/external/{generator}/{dataset}/{label}.log",
    benchmark:
        "benchmarks/evaluate/external/{generator}/{dataset}/{label}.tsv"
    params:
        spec=spec_path,
        families=CONFIG["evaluation"]["families"],
        kind="external",


rule aggregate_metrics:
    """One row per evaluated table, and means with 95% intervals over seeds."""
    input:
        all_metrics_files(),
    output:
        metrics="results/tables/metrics.tsv",
        summary="results/tables/summary.tsv",
        key="results/tables/key_metrics.tsv",
    log:
        "logs/aggregate_metrics.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    script:
        "../../scripts/aggregate_metrics.py"
