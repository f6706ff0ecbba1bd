rule parse:
    """Raw text -> validated synthetic.csv, with a report counting rows accepted and rejected per reason."""
    input:
        raw=layout.in_run("raw.jsonl"),
        meta=layout.in_run("generation.json"),
        prompt=layout.PROMPT,
    output:
        synthetic=layout.in_run("synthetic.csv"),
        report=layout.in_run("parse_report.json"),
        rejects=layout.in_run("rejects.tsv"),
    log:
        layout.log("parse", layout.RUN_KEY),
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        parse=config["parse"],
        target_rows=config["generation"]["target_rows"],
    script:
        "../../scripts/parse_run.py"


rule model_summary:
    """Convenience target: every run of one model (ask for this file to (re)run one model only)."""
    input:
        reports=lambda wc: run_files("parse_report.json", model=wc.model),
    output:
        layout.MODEL_SUMMARY,
    log:
        layout.log("model_summary", "{model}"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    script:
        "../../scripts/model_summary.py"
