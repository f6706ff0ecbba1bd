"""One RowParser configuration: the config's ``parse:`` block (or an import's options) -> a parser.

The parse step, external imports and the generation stop rule build their parser here, so a parse option means
the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from medsyn.errors import ConfigError
from medsyn.parse.parser import RowParser
from medsyn.spec import DatasetSpec


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


def parser_for(spec: DatasetSpec, prompt: Mapping | None = None, parse_config: Mapping | None = None) -> RowParser:
    """The parser of one run: ``prompt`` is a prompt record (``example_rows``: canonical rows, ``user``: the prompt
    text whose echo is recognised), None for none; ``parse_config`` the config's ``parse:`` block (None: defaults)."""
    prompt = prompt or {}
    options = parse_options(parse_config) if not isinstance(parse_config, ParseOptions) else parse_config
    return RowParser(spec, list(prompt.get("example_rows", ())), prompt.get("user", ""), **asdict(options))
