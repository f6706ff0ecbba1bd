"""Import already-generated synthetic data (raw LLM text or a CSV) through the same parser as our own runs."""

from __future__ import annotations

import csv
import io

from medsyn.parse import RowParser, parser_for, read_calls
from medsyn.spec import DatasetSpec

# An import scores the table as the other tool produced it: copies of the prompt's examples and repeated rows are
# kept (the evaluation, not the parser, flags them; the report counts them either way); rows inside an echoed
# prompt are the prompt's, not the tool's, and are dropped unless keep_prompt_echo.
IMPORT_DEFAULTS = {"keep_example_copies": True, "reject_duplicates": False, "keep_prompt_echo": False}


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
    keep_prompt_echo: bool = False,
) -> tuple[RowParser, dict, list[str]]:
    """Parse imported text; returns the parser (rows, rejects), the parse report and the prompt's example rows."""
    examples = prompt_examples(spec, prompt_text) if prompt_text else []
    options = {"keep_example_copies": keep_example_copies, "reject_duplicates": reject_duplicates,
               "keep_prompt_echo": keep_prompt_echo}
    parser = parser_for(spec, options, examples=examples, prompt_text=prompt_text)
    report = read_calls(parser, [{"text": text}])
    report["prompt_example_rows"] = len(examples)
    return parser, report, examples
