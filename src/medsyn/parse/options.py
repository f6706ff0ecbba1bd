"""One RowParser configuration: the config's ``parse:`` block (or an import's options) -> a parser.

The parse step, external imports and the generation stop rule build their parser here, so a parse option means
the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from medsyn.errors import ConfigError
from medsyn.parse.parser import RowParser
from medsyn.spec import DatasetSpec

if TYPE_CHECKING:
    from medsyn.prompts import PromptArtifact


@dataclass(frozen=True)
class ParseOptions:
    keep_example_copies: bool = False  # keep rows equal to a prompt example (always counted)
    reject_duplicates: bool = True  # reject rows equal to an earlier row of the same run (always counted)
    keep_prompt_echo: bool = False  # keep rows inside an echoed prompt (always counted as prompt_echo_rows)


def parse_options(block: Mapping | None = None) -> ParseOptions:
    """A ``parse:`` block (``{keep_example_copies, reject_duplicates, keep_prompt_echo}``, any of them) -> options;
    a missing key takes the default, an unknown key is an error naming it."""
    block = dict(block or {})
    known = {f.name for f in fields(ParseOptions)}
    unknown = sorted(set(block) - known)
    if unknown:
        raise ConfigError(f"parse options: unknown key(s) {unknown}; known: {sorted(known)}")
    for key, value in block.items():
        if not isinstance(value, bool):
            raise ConfigError(f"parse options: '{key}' must be true or false, got {value!r}")
    return ParseOptions(**block)


def parser_for(spec: DatasetSpec, parse_config: Mapping | ParseOptions | None = None, *,
               examples: Sequence[str] = (), prompt_text: str = "") -> RowParser:
    """A parser of rows in ``spec``'s column order: ``parse_config`` is the config's ``parse:`` block (None:
    defaults), ``examples`` the canonical rows the prompt showed, ``prompt_text`` the text whose echo is
    recognised."""
    options = parse_options(parse_config) if not isinstance(parse_config, ParseOptions) else parse_config
    return RowParser(spec, list(examples), prompt_text, **asdict(options))


def prompt_parser(prompt: PromptArtifact, spec: DatasetSpec, parse_config: Mapping | None = None) -> RowParser:
    """The parser of one LLM run: rows in the prompt's column order, copies of its example rows, echoes of its
    user message. Generation (to count valid rows) and the parse step build the same one here."""
    return parser_for(prompt.row_spec(spec), parse_config, examples=prompt.example_rows, prompt_text=prompt.user)
