rule make_baseline:
    """A classical baseline table fitted on the train rows of its train size (holdout = unseen real rows from the
    reference split)."""
    input:
        unpack(split_files),
    output:
        layout.in_baseline("synthetic.csv"),
    log:
        layout.log("make_baseline", layout.BASELINE_KEY),
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        rows=baseline_rows(),
        recipe=baseline_recipe,
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
        layout.log("import_external", layout.EXTERNAL_KEY),
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        keep_example_copies=lambda wc: external_entry(config, wc.generator, wc.dataset)["keep_example_copies"],
        reject_duplicates=lambda wc: external_entry(config, wc.generator, wc.dataset)["reject_duplicates"],
        keep_prompt_echo=lambda wc: external_entry(config, wc.generator, wc.dataset)["keep_prompt_echo"],
    script:
        "../../scripts/import_external.py"


# Evaluation: the real side of each dataset once (rule real_side), then every table against it. LLM runs are one
# job each; baselines and imports are evaluated in batches of evaluation.batch_size tables per job (one rule per
# batch, see medsyn.evaluate.batches), each table still to its own metrics.json.
from medsyn.evaluate.batches import batches as evaluation_batches, llm_table
from medsyn.run import Run

EVALUATION_BATCHES = evaluation_batches(config, baseline_names(config))


rule real_side:
    """Evaluation work on the real splits alone, once per dataset and train size: train-on-real scores, real rule
    rates, the holdout-to-train near-copy threshold, encoders and real pair statistics (JSON + NPZ, no pickle)."""
    input:
        unpack(split_files),
    output:
        json=layout.in_evaluation("real_side.json"),
        npz=layout.in_evaluation("real_side.npz"),
    log:
        layout.log("real_side", layout.TRAIN_KEY),
    benchmark:
        layout.benchmark("real_side", layout.TRAIN_KEY)
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        families=config["evaluation"]["families"],
        seed=config["split"]["seed"],
    script:
        "../../scripts/real_side.py"


rule evaluate_run:
    """All metric families for one LLM run, against train, holdout, the example rows its prompts showed and the
    real side."""
    input:
        unpack(split_files),
        real_json=rules.real_side.output.json,
        real_npz=rules.real_side.output.npz,
        groups=layout.GROUPS,  # each real row's group (spec group_column): privacy counts a group as one member
        synthetic=layout.in_run("synthetic.csv"),
        parse_report=layout.in_run("parse_report.json"),
        meta=layout.in_run("generation.json"),
    output:
        layout.in_run("metrics.json"),
    log:
        layout.log("evaluate", f"models/{layout.RUN_KEY}"),
    benchmark:
        layout.benchmark("evaluate", f"models/{layout.RUN_KEY}")
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        families=config["evaluation"]["families"],
        tables=lambda wc: [llm_table(Run.from_wildcards(wc))],
    script:
        "../../scripts/evaluate.py"


for batch in EVALUATION_BATCHES:

    rule:
        """Baseline or imported tables of one dataset and train size, evaluated in one job (one metrics.json each)."""
        name:
            batch.name
        input:
            **split_files(batch),
            real_json=layout.evaluation_file(batch.dataset, batch.train_rows, "real_side.json"),
            real_npz=layout.evaluation_file(batch.dataset, batch.train_rows, "real_side.npz"),
            groups=layout.groups_file(batch.dataset),
            tables=[path for table in batch.tables for path in table["inputs"].values()],
        output:
            batch.outputs,
        log:
            layout.log("evaluate", batch.name),
        benchmark:
            layout.benchmark("evaluate", batch.name)
        conda:
            "../envs/tables.yaml"
        params:
            spec=config["dataset_options"][batch.dataset]["spec"],
            families=config["evaluation"]["families"],
            tables=list(batch.tables),
        script:
            "../../scripts/evaluate.py"


rule aggregate_metrics:
    """One row per evaluated table, and means with 95% intervals over seeds."""
    input:
        all_metrics_files(),
    output:
        metrics=layout.table("metrics"),
        summary=layout.table("summary"),
        key=layout.table("key_metrics"),
    log:
        layout.log("aggregate_metrics"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    script:
        "../../scripts/aggregate_metrics.py"
