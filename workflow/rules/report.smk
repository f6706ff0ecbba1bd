# Tables, figures and results/report.html. The figure folders and tables are also tagged for
# `snakemake --report`, which bundles them with the workflow's own provenance.


rule report_tables:
    """Leaderboard (composite scores, intervals over seeds, Pareto front) and a recommendation per use case."""
    input:
        metrics="results/tables/metrics.tsv",
        gate="results/tables/release_gate.tsv",
    output:
        leaderboard=report(
            "results/tables/leaderboard.tsv",
            caption="../report/leaderboard.rst",
            category="Tables",
        ),
        recommendation=report(
            "results/tables/recommendation.tsv",
            caption="../report/recommendation.rst",
            category="Tables",
        ),
    log:
        "logs/report/tables.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        report=CONFIG["report"],
    script:
        "../../scripts/report_tables.py"


rule report_figures:
    """Privacy-fidelity scatter, family heatmaps, utility, distributions and association differences."""
    input:
        leaderboard="results/tables/leaderboard.tsv",
        metrics="results/tables/metrics.tsv",
        holdout=layout.in_data("holdout.csv"),
        tables=dataset_tables,
    output:
        report(
            directory("results/figures/{dataset}"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
    log:
        "logs/report/figures/{dataset}.log",
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        min_rows=CONFIG["report"]["min_valid_rows"],
    script:
        "../../scripts/report_figures.py"


rule report:
    """The self-contained HTML report over every run, baseline and import in the config."""
    input:
        unpack(paper_report_tables),
        leaderboard="results/tables/leaderboard.tsv",
        recommendation="results/tables/recommendation.tsv",
        metrics="results/tables/metrics.tsv",
        figures=expand("results/figures/{dataset}", dataset=CONFIG["datasets"]),
        meta=run_files("generation.json"),
        synthetic=run_files("synthetic.csv"),
        prompts=prompt_files(),
        split=split_expand("split"),
        train=split_expand("train"),
        holdout=split_expand("holdout"),
        reference=split_expand("reference"),
    output:
        "results/report.html",
    log:
        "logs/report/report.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        config=CONFIG,
    script:
        "../../scripts/render_report.py"
