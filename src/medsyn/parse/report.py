"""The parse report of one run (counts per reason, yields) and the files a parse step writes."""

from __future__ import annotations

import csv

import pandas as pd

from medsyn.atomic import atomic_open
from medsyn.data import coerce_to_spec, write_table
from medsyn.parse.parser import COPY_REASONS, Reject, RowParser
from medsyn.spec import MISSING_TEXT, DatasetSpec


def parse_calls(calls: list[dict], spec: DatasetSpec, *parser_args, **parser_options) -> tuple[RowParser, dict]:
    """Parse every call record (``text``, ``finish_reason``, token counts) of one run; returns parser and report.
    The other arguments are ``RowParser``'s (example rows, prompt text, options); ``parser_for`` builds one from
    config."""
    parser = RowParser(spec, *parser_args, **parser_options)
    return parser, read_calls(parser, calls)


def read_calls(parser: RowParser, calls: list[dict]) -> dict:
    """Feed every call record of one run to ``parser``; returns the run's parse report."""
    for i, call in enumerate(calls):
        parser.feed(call.get("text", ""), call=call.get("call", i), truncated=call.get("finish_reason") == "length",
                    examples=call.get("example_rows"))
    result = parser.result
    reasons = result.reason_counts()
    accepted = len(result.rows)
    rejected = sum(reasons.values())
    candidates = accepted + rejected
    seconds = sum(float(c.get("seconds", 0.0)) for c in calls)
    completion_tokens = sum(int(c.get("completion_tokens", 0)) for c in calls)
    spec_invalid = sum(v for k, v in reasons.items() if k not in COPY_REASONS)
    report = {
        "calls": len(calls),
        "completion_tokens": completion_tokens,
        "generation_seconds": round(seconds, 3),
        "candidate_rows": candidates,
        "accepted": accepted,
        "rejected": rejected,
        "rejected_by_reason": reasons,
        "valid_share": round(accepted / candidates, 4) if candidates else None,
        # valid per spec: parses with the right fields, types, levels and ranges (copies/duplicates included)
        "spec_valid_rows": candidates - spec_invalid,
        "spec_valid_share": round((candidates - spec_invalid) / candidates, 4) if candidates else None,
        # copies the model made: rows equal to a prompt example outside an echoed prompt
        "example_copies": reasons["example_copy"] + result.copies_kept,
        "example_copies_kept": result.copies_kept,
        # the prompt's own rows: spec-valid rows inside an echoed prompt (dropped unless keep_prompt_echo)
        "prompt_echo_rows": result.echo_rows,
        "prompt_echo_example_rows": result.echo_example_rows,
        "duplicates": reasons["duplicate"],
        "non_data_lines": result.non_data_lines,
        "header_lines": result.header_lines,
        "rows_per_second": round(accepted / seconds, 4) if seconds > 0 else None,
        "tokens_per_valid_row": round(completion_tokens / accepted, 2) if accepted else None,
        "rows_by_format": result.format_counts(),
    }
    if parser.keep_prompt_echo:
        report["prompt_echo_rows_kept"] = result.echo_kept
    report["example_copy_share"] = example_copy_share(result.copies_kept, accepted - result.echo_kept)
    report["example_copy_rate"] = example_copy_rate(report)
    return report


def run_table(rows: list, target_rows: int) -> tuple[list, dict]:
    """The table of an LLM run: its first ``target_rows`` valid rows (as the paper's loop kept them), and what
    the report says of it: the target, rows kept, the run's yield (kept / target) and its status. The one place a
    run's size and yield are decided (generation only stops asking once it has seen enough valid rows)."""
    kept = rows[:target_rows]
    status = "ok" if len(kept) >= target_rows else ("no_valid_rows" if not kept else "short")
    return kept, {"target_rows": target_rows, "rows_kept": len(kept), "yield": round(len(kept) / target_rows, 4),
                  "status": status}


def example_copy_share(copies: int, rows: int) -> float | None:
    """The example-copy share of a table: its rows equal to one of the prompt's example rows, divided by its rows
    (4 decimals; None for a table without rows). In a parse report the table is the kept rows outside an echoed
    prompt; the paper audit applies it to the table the paper scored too (echo included)."""
    return round(copies / rows, 4) if rows else None


def example_copy_rate(report: dict) -> float | None:
    """How often the model copied, whether copies were kept or not: example copies / the candidate rows outside
    an echoed prompt (4 decimals; None without such rows). Not a share of any table: see ``example_copy_share``."""
    rows = report["candidate_rows"] - report.get("prompt_echo_rows", 0)
    return round(report["example_copies"] / rows, 4) if rows > 0 else None


def rows_to_frame(rows: list[list[str]], spec: DatasetSpec) -> pd.DataFrame:
    """Canonical row text -> a DataFrame of strings ('' for missing), ready for ``data.coerce_to_spec``."""
    frame = pd.DataFrame(rows, columns=spec.column_names, dtype=object)
    return frame.replace({MISSING_TEXT: ""})


def write_rejects(path, rejects: list[Reject]) -> None:
    """One TSV row per rejected row: where it came from, why, and its text (kept for auditing the parser)."""
    with atomic_open(path, newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["call", "line", "reason", "detail", "text"])
        for r in rejects:
            writer.writerow([r.call, r.line, r.reason, r.detail, r.text])


def write_rows(rows: list[list[str]], spec: DatasetSpec, path, origin: str) -> None:
    """Canonical parsed rows -> a typed CSV with the spec's columns (empty or all-missing columns allowed)."""
    frame = coerce_to_spec(rows_to_frame(rows, spec), spec, origin=origin, real=False)
    write_table(frame, path, spec, index=False)
