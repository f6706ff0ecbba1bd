rule release_gate:
    """The privacy gate: every evaluated table marked releasable or not, with the reasons (config release_gate)."""
    input:
        all_metrics_files(),
    output:
        "results/tables/release_gate.tsv",
    log:
        "logs/release_gate.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        thresholds=config["release_gate"],
    script:
        "../../scripts/release_gate.py"


rule release:
    """Copy only releasable synthetic tables to results/release/ with a manifest; fails when none qualifies."""
    input:
        gate="results/tables/release_gate.tsv",
    output:
        directory("results/release"),
    log:
        "logs/release.log",
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        thresholds=config["release_gate"],
    script:
        "../../scripts/release.py"
