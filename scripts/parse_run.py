"""Parse one run's raw.jsonl into synthetic.csv, parse_report.json and rejects.tsv."""

import json

from medsyn.run import Run
from medsyn.generation_costs import generation_costs
from medsyn.parse import prompt_parser, read_calls, write_rejects, write_rows
from medsyn.parse.report import run_table
from medsyn.prompts import read_prompt
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step, write_json


def main(snakemake, log):
    run = Run.from_wildcards(snakemake.wildcards)
    spec = load_spec(snakemake.params.spec)
    prompt = read_prompt(snakemake.input.prompt, run)
    meta = read_json(snakemake.input.meta)
    with open(snakemake.input.raw) as fh:
        calls = [json.loads(line) for line in fh if line.strip()]
    parser = prompt_parser(prompt, spec, snakemake.params.parse)
    order = parser.spec  # the order the rows were generated in
    report = read_calls(parser, calls)
    kept, table = run_table(parser.result.rows, snakemake.params.target_rows)
    position = {name: i for i, name in enumerate(order.column_names)}
    kept = [[row[position[name]] for name in spec.column_names] for row in kept]  # back to spec order
    report = {
        "model": run.model,
        "dataset": run.dataset,
        "prompt_type": run.prompt,
        "mode": run.mode,
        "recipe": run.recipe,
        "seed": run.seed,
        **table,
        "wall_seconds": meta.get("seconds"),
        **report,
        **generation_costs(calls, meta.get("exposed_train_rows"), len(kept)),
    }
    write_rows(kept, spec, snakemake.output.synthetic, origin=snakemake.input.raw)
    write_rejects(snakemake.output.rejects, parser.result.rejects)
    write_json(snakemake.output.report, report)
    log(
        f"{run.model}/{run.dataset}/{run.prompt}/{run.mode}/{run.recipe}/seed{run.seed}: {report['accepted']} "
        f"valid of {report['candidate_rows']} candidate rows; rejected {report['rejected_by_reason']}"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
