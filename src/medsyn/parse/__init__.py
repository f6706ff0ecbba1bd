"""From raw LLM text to validated rows, with a reason for every rejected row.

Modules, one job each: ``formats`` (where the records are: lines, wrappers, record shapes), ``keys`` (which column
a key names), ``values`` (one field -> a canonical value or a reason), ``prose`` (prose records), ``echo`` (echoed
prompts), ``parser`` (RowParser: records -> rows, copies, duplicates), ``report`` (the parse report, the files a
parse step writes, the example-copy share) and ``options`` (one RowParser configuration from config).
"""

from medsyn.parse.options import ParseOptions, parse_options, parser_for, prompt_parser
from medsyn.parse.parser import COPY_REASONS, MISSING_WORDS, REASONS, ParseResult, Reject, RowParser
from medsyn.parse.report import (
    example_copy_rate,
    example_copy_share,
    parse_calls,
    read_calls,
    rows_to_frame,
    write_rejects,
    write_rows,
)

__all__ = [
    "COPY_REASONS", "MISSING_WORDS", "REASONS", "ParseOptions", "ParseResult", "Reject", "RowParser",
    "example_copy_rate", "example_copy_share", "parse_calls", "parse_options", "parser_for", "prompt_parser",
    "read_calls", "rows_to_frame", "write_rejects", "write_rows",
]
