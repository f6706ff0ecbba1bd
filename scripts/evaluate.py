"""Score the tables of one evaluation job (one LLM run, or a batch of baselines or imports of one dataset) with every
metric family, against the real splits (and each real row's group, for a spec with a group_column) and the dataset's
real side; one metrics.json per table."""

from pathlib import Path

from medsyn.data import read_table
from medsyn.evaluate import real_side
from medsyn.evaluate.record import evaluate_record, fingerprint, recall, remember
from medsyn.spec import load_spec
from medsyn.split import read_groups
from medsyn.step import run_step, write_json

SPLITS = ("train", "holdout", "reference")


def main(snakemake, log):
    spec = load_spec(snakemake.params.spec)
    splits = {part: read_table(snakemake.input[part], spec) for part in SPLITS}
    groups = read_groups(snakemake.input.groups, spec, splits)  # None unless the spec has a group_column
    real = real_side.load(snakemake.input.real_json, snakemake.input.real_npz)
    real_side.check_sources(real, {part: snakemake.input[part] for part in SPLITS})
    families = snakemake.params.families
    shared = [snakemake.input.real_json, snakemake.input.real_npz, snakemake.params.spec,
              snakemake.input.groups]
    source = Path(__file__).read_text()
    reused = 0
    for table in snakemake.params.tables:
        mark = fingerprint(table, shared, families, source)
        record = recall(table, mark)
        if record is None:
            record = evaluate_record(table, spec, splits, real, families, groups)
            remember(table, mark, record)
            log(f"{table['metrics']}: {record['n_rows']} rows, families {record['seconds']}, "
                f"errors {len(record['errors'])}")
        else:
            reused += 1
        write_json(table["metrics"], record)
    log(f"{len(snakemake.params.tables)} tables: {len(snakemake.params.tables) - reused} evaluated, {reused} "
        "unchanged since their last evaluation (taken from metrics.memo.json)")


if "snakemake" in globals():
    run_step(snakemake, main)  # noqa: F821
