"""Score one table (an LLM run, a baseline or an imported generator) with every metric family."""

from medsyn.data import read_table
from medsyn.evaluate import EvalInputs
from medsyn.evaluate.suite import evaluate_table
from medsyn.parse import example_copy_rate
from medsyn.seeds import derive_seed
from medsyn.spec import load_spec
from medsyn.step import read_json, run_step, write_json

GENERATION_KEYS = (
    "candidate_rows", "rows_kept", "example_copies", "duplicates", "spec_valid_share", "valid_share",
    "rows_per_second", "tokens_per_valid_row", "calls", "status",
    # generation recipes (present for LLM runs only): decode-time resampling, cost, exposure of train patients
    "resampled_rows", "resampled_earlier", "resampled_examples", "resampled_train", "resampled_near",
    "decoded_tokens_per_valid_row", "seconds_per_valid_row", "exposed_train_rows",
)


def describe(kind: str, wc) -> dict:
    if kind == "llm":
        return {"generator": wc.model, "prompt": wc.prompt, "mode": wc.mode, "recipe": wc.recipe, "seed": int(wc.seed)}
    if kind == "baseline":
        return {"generator": wc.baseline, "prompt": "-", "mode": "-", "recipe": "-", "seed": int(wc.seed)}
    return {"generator": wc.generator, "prompt": wc.label, "mode": "import", "recipe": "-", "seed": 0}


def main(snakemake, log):
    wc = snakemake.wildcards
    kind = snakemake.params.kind
    spec = load_spec(snakemake.params.spec)
    train = read_table(snakemake.input.train, spec)
    holdout = read_table(snakemake.input.holdout, spec)
    reference = read_table(snakemake.input.reference, spec)
    synthetic = read_table(snakemake.input.synthetic, spec, real=False)
    examples = train.iloc[:0]
    if kind == "llm":  # every example row the run's prompts showed (per call with fresh examples)
        ids = read_json(snakemake.input.meta)["exposed_train_row_ids"]
        examples = train.loc[ids]
    elif kind == "external":
        examples = read_table(snakemake.input.examples, spec, real=False)
    info = describe(kind, wc)
    # an imported table has no run seed: its metric seed is derived from its name (run seed 0 is a seed like any)
    seed = derive_seed("external", wc.dataset, info["generator"], info["prompt"]) if kind == "external" \
        else info["seed"]
    inputs = EvalInputs(spec, train, holdout, reference, synthetic, examples, seed=seed)
    result = evaluate_table(inputs, snakemake.params.families)
    generation = {}
    if "parse_report" in dict(snakemake.input):
        report = read_json(snakemake.input.parse_report)
        generation = {k: report.get(k) for k in GENERATION_KEYS}
        generation["example_copy_rate"] = example_copy_rate(report)  # copies / candidate rows (not the table's share)
    record = {"kind": kind, "dataset": wc.dataset, **info, "n_rows": len(synthetic), "generation": generation,
              **result}
    write_json(snakemake.output[0], record)
    log(f"{kind} {info}: {len(synthetic)} rows, families {result['seconds']}, errors {list(result['errors'])}")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
