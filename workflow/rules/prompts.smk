rule make_prompt:
    """Build one prompt (type A-D) from the spec and the train rows of its train size, with its example rows and
    grammar."""
    input:
        train=train_set,
    output:
        layout.PROMPT,
    log:
        layout.log("make_prompt", layout.PROMPT_KEY),
    conda:
        "../envs/tables.yaml"
    params:
        spec=spec_path,
        n_examples=config["prompts"]["n_examples"],
        rows_per_call=config["generation"]["rows_per_call"],
        column_order=prompt_column_order,
    script:
        "../../scripts/make_prompt.py"
