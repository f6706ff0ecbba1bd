"""From raw LLM text to validated rows, with a reason for every rejected row (see ``parser``)."""

from medsyn.parse.parser import COPY_REASONS, MISSING_WORDS, REASONS, ParseResult, Reject, RowParser
from medsyn.parse.report import parse_calls, rows_to_frame, write_rejects, write_rows

__all__ = [
    "COPY_REASONS", "MISSING_WORDS", "REASONS", "ParseResult", "Reject", "RowParser",
    "parse_calls", "rows_to_frame", "write_rejects", "write_rows",
]
