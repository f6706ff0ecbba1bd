"""Parse one run's raw.jsonl into synthetic.csv, parse_report.json and rejects.tsv."""

import json
from collections import Counter

from medsyn.parse import parser_for, read_calls, write_rejects, write_rows
from medsyn.recipes.novelty import CHECKS as NOVELTY_CHECKS
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step, write_json


def recipe_costs(calls: list[dict], meta: dict, kept: int) -> dict:
    """What the generation recipe cost and showed: rows resampled at decode time (by reason), every token
    decoded (kept, rolled back, the call's own prompt part), distinct train patients shown in prompts."""
    resampled = Counter()
    for call in calls:
        resampled.update(call.get("rejected_rows") or {})
    decoded = sum(int(c.get("decoded_tokens", c.get("completion_tokens", 0))) for c in calls)
    seconds = sum(float(c.get("seconds", 0.0)) for c in calls)
    return {
        "resampled_rows": sum(resampled.values()),
        **{f"resampled_{reason}": resampled.get(reason, 0) for reason in NOVELTY_CHECKS},
        "decoded_tokens": decoded,
        "decoded_tokens_per_valid_row": round(decoded / kept, 2) if kept else None,
        "seconds_per_valid_row": round(seconds / kept, 4) if kept else None,
        "exposed_train_rows": meta.get("exposed_train_rows"),
    }


def main(snakemake, log):
    wc = snakemake.wildcards
    spec = load_spec(snakemake.params.spec)
    prompt = read_json(snakemake.input.prompt)
    meta = read_json(snakemake.input.meta)
    with open(snakemake.input.raw) as fh:
        calls = [json.loads(line) for line in fh if line.strip()]
    order = spec.in_order(prompt["columns"])  # the order the rows were generated in
    parser = parser_for(order, prompt, snakemake.params.parse)
    report = read_calls(parser, calls)
    target = snakemake.params.target_rows
    kept = parser.result.rows[:target]  # like the paper's loop: the first target_rows valid rows are the run's data
    position = {name: i for i, name in enumerate(order.column_names)}
    kept = [[row[position[name]] for name in spec.column_names] for row in kept]  # back to spec order
    report = {
        "model": wc.model,
        "dataset": wc.dataset,
        "prompt_type": wc.prompt,
        "mode": wc.mode,
        "recipe": wc.recipe,
        "seed": int(wc.seed),
        "target_rows": target,
        "rows_kept": len(kept),
        "yield": round(len(kept) / target, 4),
        "status": "ok" if len(kept) >= target else ("no_valid_rows" if not kept else "short"),
        "wall_seconds": meta.get("seconds"),
        **report,
        **recipe_costs(calls, meta, len(kept)),
    }
    write_rows(kept, spec, snakemake.output.synthetic, origin=snakemake.input.raw)
    write_rejects(snakemake.output.rejects, parser.result.rejects)
    write_json(snakemake.output.report, report)
    log(
        f"{wc.model}/{wc.dataset}/{wc.prompt}/{wc.mode}/{wc.recipe}/seed{wc.seed}: {report['accepted']} valid of "
        f"{report['candidate_rows']} candidate rows; rejected {report['rejected_by_reason']}"
    )


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
