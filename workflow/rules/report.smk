rule report:
    """The self-contained HTML report over every run in the config."""
    input:
        reports=run_files("parse_report.json"),
        synthetic=run_files("synthetic.csv"),
        meta=run_files("generation.json"),
        train=expand("results/data/{dataset}/train.csv", dataset=CONFIG["datasets"]),
        split=expand("results/data/{dataset}/split.json", dataset=CONFIG["datasets"]),
        key_metrics="results/tables/key_metrics.tsv",
    output:
        "results/report.html",
    params:
        config=CONFIG,
    conda:
        "../envs/medsyn.yaml"
    log:
        "logs/report/report.log",
    localrule: True
    script:
        "../../scripts/render_report.py"
