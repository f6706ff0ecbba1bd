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
            "results/tables/paper_copy_shares.tsv",
        log:
            "logs/paper/copy_shares.log",
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
            copies="results/tables/paper_copy_shares.tsv",
            scores=str(Path(workflow.basedir).parent / "resources" / "synllm_paper_scores.tsv"),
        output:
            comparison="results/tables/paper_comparison.tsv",
            rankings="results/tables/paper_rankings.tsv",
        log:
            "logs/paper/comparison.log",
        localrule: True
        conda:
            "../envs/tables.yaml"
        params:
            runs=PAPER_RUNS,
            table="comparison",
        script:
            "../../scripts/paper_tables.py"
