rule release_gate:
    """The privacy gate: every evaluated table marked releasable or not, with the reasons (config release_gate)."""
    input:
        all_metrics_files(),
    output:
        layout.table("release_gate"),
    log:
        layout.log("release_gate"),
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
        gate=layout.table("release_gate"),
    output:
        directory(layout.RELEASE_DIR),
    log:
        layout.log("release"),
    localrule: True
    conda:
        "../envs/tables.yaml"
    params:
        thresholds=config["release_gate"],
    script:
        "../../scripts/release.py"
