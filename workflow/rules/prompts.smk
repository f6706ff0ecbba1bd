rule make_prompt:
    """Build one prompt (type A-D) from the spec and the train split, with its example rows and grammar."""
    input:
        train="results/data/{dataset}/train.csv",
    output:
        "results/prompts/{dataset}/{prompt}/seed{seed}.json",
    log:
        "logs/make_prompt/{dataset}/{prompt}/seed{seed}.log",
    conda:
        "../envs/medsyn.yaml"
    params:
        spec=spec_path,
        n_examples=CONFIG["prompts"]["n_examples"],
        rows_per_call=CONFIG["generation"]["rows_per_call"],
    script:
        "../../scripts/make_prompt.py"
