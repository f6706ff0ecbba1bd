"""Build one prompt artifact (messages, prefill, example row ids, grammar) from the spec and train split."""

from medsyn.config import resolve_column_order
from medsyn.data import read_table
from medsyn.prompts import build_prompt
from medsyn.spec import load_spec
from medsyn.step import run_step, write_json


def main(snakemake, log):
    spec = load_spec(snakemake.params.spec)
    train = read_table(snakemake.input.train, spec)
    prompt = build_prompt(
        spec,
        train,
        prompt_type=snakemake.wildcards.prompt,
        seed=int(snakemake.wildcards.seed),
        n_examples=snakemake.params.n_examples,
        rows_per_call=snakemake.params.rows_per_call,
        column_order=resolve_column_order(snakemake.params.column_order, spec.target),
    )
    write_json(snakemake.output[0], prompt.to_dict())
    log(f"prompt {spec.name}/{prompt.prompt_type}: {len(prompt.user)} chars, examples {prompt.example_row_ids}, "
        f"columns {prompt.columns}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
