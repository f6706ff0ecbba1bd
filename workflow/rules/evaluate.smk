rule make_baseline:
    """A classical baseline table from the train split (holdout = unseen real rows from the reference split)."""
    input:
        unpack(split_files),
    output:
        "results/baselines/{baseline}/{dataset}/seed{seed}/synthetic.csv",
    log:
        "logs/make_baseline/{baseline}/{dataset}/seed{seed}.log",
    conda:
        "../envs/medsyn.yaml"
    params:
        spec=spec_path,
        rows=baseline_rows(),
    script:
        "../../scripts/make_baseline.py"


rule import_external:
    """Already-generated rows (a CSV, or raw LLM text through our parser) as a generator of its own."""
    input:
        unpack(external_inputs),
    output:
        synthetic="results/external/{generator}/{dataset}/{label}/synthetic.csv",
        report="results/external/{generator}/{dataset}/{label}/parse_report.json",
        rejects="results/external/{generator}/{dataset}/{label}/rejects.tsv",
        examples="results/external/{generator}/{dataset}/{label}/examples.csv",
    log:
        "logs/import_external/{generator}/{dataset}/{label}.log",
    conda:
        "../envs/medsyn.yaml"
    params:
        spec=spec_path,
        keep_example_copies=lambda wc: external_entry(CONFIG, wc.generator, wc.dataset)["keep_example_copies"],
        reject_duplicates=lambda wc: external_entry(CONFIG, wc.generator, wc.dataset)["reject_duplicates"],
    script:
        "../../scripts/import_external.py"


rule evaluate_run:
    """All metric families for one LLM run, against train, holdout and the prompt's example rows."""
    input:
        unpack(split_files),
        synthetic="results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/synthetic.csv",
        parse_report="results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/parse_report.json",
        prompt="results/prompts/{dataset}/{prompt}/seed{seed}.json",
    output:
        "results/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}/metrics.json",
    log:
        "logs/evaluate/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/models/{model}/{dataset}/{prompt}/{mode}/seed{seed}.tsv"
    conda:
        "../envs/medsyn.yaml"
    params:
        spec=spec_path,
        families=CONFIG["evaluation"]["families"],
        kind="llm",
    script:
        "../../scripts/evaluate.py"


use rule evaluate_run as evaluate_baseline with:
    input:
        unpack(split_files),
        synthetic="results/baselines/{baseline}/{dataset}/seed{seed}/synthetic.csv",
    output:
        "results/baselines/{baseline}/{dataset}/seed{seed}/metrics.json",
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
        synthetic="results/external/{generator}/{dataset}/{label}/synthetic.csv",
        parse_report="results/external/{generator}/{dataset}/{label}/parse_report.json",
        examples="results/external/{generator}/{dataset}/{label}/examples.csv",
    output:
        "results/external/{generator}/{dataset}/{label}/metrics.json",
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
        "../envs/medsyn.yaml"
    script:
        "../../scripts/aggregate_metrics.py"
