# Paper claims vs this evaluation (issue 5): tables over the SynLLM paper's imported raw outputs.
# Active only when `paper_raw` is configured (config/paper.yaml); the imports themselves are import_external /
# evaluate_external jobs like any other external generator. Logic: src/medsyn/paper_audit.py.
if PAPER_RUNS:

    rule paper_copy_shares:
        """Per imported paper run: candidate, valid and kept rows, copies of prompt examples and of train rows."""
        input:
            reports=paper_files("parse_report.json"),
            metrics=paper_files("metrics.json"),
            synthetic=paper_files("synthetic.csv"),
            examples=paper_files("examples.csv"),
        output:
            layout.table("paper_copy_shares"),
        log:
            layout.log("paper", "copy_shares"),
        localrule: True
        conda:
            "../envs/tables.yaml"
        params:
            runs=PAPER_RUNS,
            table="copy_shares",
        script:
            "../../scripts/paper_tables.py"

    rule paper_comparison:
        """The paper's published harmonic scores and ranks beside ours (paper metrics recomputed, and our own)."""
        input:
            metrics=paper_files("metrics.json"),
            copies=layout.table("paper_copy_shares"),
            scores=str(Path(workflow.basedir).parent / layout.PAPER_SCORES),
        output:
            comparison=layout.table("paper_comparison"),
            rankings=layout.table("paper_rankings"),
        log:
            layout.log("paper", "comparison"),
        localrule: True
        conda:
            "../envs/tables.yaml"
        params:
            runs=PAPER_RUNS,
            table="comparison",
        script:
            "../../scripts/paper_tables.py"
