# Tables, figures and results/report.html. The figure folders and tables are also tagged for
# `snakemake --report`, which bundles them with the workflow's own provenance.


rule report_tables:
    """Leaderboard (composite scores, intervals over seeds, Pareto front), a recommendation per use case, and every
    generator group per train size (the picks to compare across sizes)."""
    input:
        metrics=layout.table("metrics"),
        gate=layout.table("release_gate"),
    output:
        leaderboard=report(
            layout.table("leaderboard"),
            caption="../report/leaderboard.rst",
            category="Tables",
        ),
        recommendation=report(
            layout.table("recommendation"),
            caption="../report/recommendation.rst",
            category="Tables",
        ),
        train_sizes=report(
            layout.table("train_sizes"),
            caption="../report/train_sizes.rst",
            category="Tables",
        ),
    log:
        layout.log("report", "tables"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        report=config["report"],
    script:
        "../../scripts/report_tables.py"


rule report_figures:
    """Privacy-fidelity scatter, family heatmaps, utility, distributions and association differences; with more
    than one train size, fidelity by train size."""
    input:
        leaderboard=layout.table("leaderboard"),
        train_sizes=layout.table("train_sizes"),
        metrics=layout.table("metrics"),
        holdout=layout.in_data("holdout.csv"),
        split=layout.in_data("split.json"),
        tables=dataset_tables,
    output:
        report(
            directory(layout.FIGURES_DIR),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
    log:
        layout.log("report", "figures/{dataset}"),
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        min_rows=config["report"]["min_valid_rows"],
        train_rows=config["split"]["train_rows"],
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
        leaderboard=layout.table("leaderboard"),
        recommendation=layout.table("recommendation"),
        metrics=layout.table("metrics"),
        gate=layout.table("release_gate"),
        meta=run_files("generation.json"),
        synthetic=run_files("synthetic.csv"),
        prompts=prompt_files(main_train_size(config["split"]["train_rows"])),  # the size its sections show
    output:
        layout.REPORT,
    log:
        layout.log("report", "report"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        config=config,
        runs=[
            {
                "key": [r.model, r.dataset, r.train_rows, r.prompt, r.mode, r.recipe, r.seed],
                "meta": f"{r.dir}/generation.json",
            }
            for r in RUNS
        ],
    script:
        "../../scripts/render_report.py"
