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
        report=config["report"],
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
        min_rows=config["report"]["min_valid_rows"],
    script:
        "../../scripts/report_figures.py"


rule report:
    """The self-contained HTML report over every run, baseline and import in the config."""
    input:
        unpack(paper_report_tables),
        **{
            f"{part}_{dataset}": expand(rules.prepare_data.output[part], dataset=dataset)[0]
            for dataset in config["datasets"]
            for part in ("train", "holdout", "reference", "split")
        },
        **{
            f"figures_{dataset}": expand(rules.report_figures.output[0], dataset=dataset)[0]
            for dataset in config["datasets"]
        },
        leaderboard="results/tables/leaderboard.tsv",
        recommendation="results/tables/recommendation.tsv",
        metrics="results/tables/metrics.tsv",
        gate="results/tables/release_gate.tsv",
        meta=run_files("generation.json"),
        synthetic=run_files("synthetic.csv"),
        prompts=prompt_files(),
    output:
        "results/report.html",
    log:
        "logs/report/report.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        config=config,
        runs=[
            {
                "key": [r.model, r.dataset, r.prompt, r.mode, r.recipe, r.seed],
                "meta": f"{r.dir}/generation.json",
            }
            for r in RUNS
        ],
    script:
        "../../scripts/render_report.py"
