rule make_prompt:
    """Build one prompt (type A-D) from the spec and the train split, with its example rows and grammar."""
    input:
        train=layout.in_data("train.csv"),
    output:
        layout.PROMPT,
    log:
        "logs/make_prompt/{dataset}/{prompt}/{recipe}/seed{seed}.log",
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        n_examples=config["prompts"]["n_examples"],
        rows_per_call=config["generation"]["rows_per_call"],
        column_order=prompt_column_order,
    script:
        "../../scripts/make_prompt.py"
