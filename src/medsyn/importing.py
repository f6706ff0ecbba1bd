"""Import already-generated synthetic data (raw LLM text or a CSV) through the same parser as our own runs."""

from __future__ import annotations

import csv
import io

from medsyn.parse import RowParser, parse_calls
from medsyn.spec import DatasetSpec


def csv_as_text(text: str) -> str:
    """CSV rows as plain comma-joined lines, so imported tables pass the same parser and checks."""
    return "\n".join(",".join(row) for row in csv.reader(io.StringIO(text)))


def prompt_examples(spec: DatasetSpec, prompt_text: str) -> list[str]:
    """The example rows of a prompt: whatever rows our parser finds in the prompt text itself (canonical)."""
    parser = RowParser(spec, reject_duplicates=True)
    parser.feed(prompt_text)
    return [",".join(r) for r in parser.result.rows]


def import_text(
    spec: DatasetSpec,
    text: str,
    prompt_text: str = "",
    keep_example_copies: bool = True,
    reject_duplicates: bool = False,
) -> tuple[RowParser, dict, list[str]]:
    """Parse imported text; returns the parser (rows, rejects), the parse report and the prompt's example rows.

    Copies of the prompt's examples and repeated rows are kept by default: the table is scored as the other tool
    produced it, and the evaluation (not the parser) is what flags a run made of echoed examples. The report
    counts copies either way.
    """
    examples = prompt_examples(spec, prompt_text) if prompt_text else []
    parser, report = parse_calls(
        [{"text": text}], spec, example_rows=examples, prompt_text=prompt_text,
        keep_example_copies=keep_example_copies, reject_duplicates=reject_duplicates,
    )
    candidates = report["candidate_rows"]
    report["prompt_example_rows"] = len(examples)
    report["example_copy_share"] = round(report["example_copies"] / candidates, 4) if candidates else None
    return parser, report, examples
