"""A drafted spec as YAML a reviewer reads line by line: one comment per guess, each column's evidence above it."""

from __future__ import annotations

import yaml

from medsyn.draft.table import Draft


def _flow(value) -> str:
    """One YAML value on one line (flow style), as the hand-written specs write columns."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True).strip()


def _scalar(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix(" ...").strip()


def render(draft: Draft, keep_path: str) -> str:
    spec = draft.spec
    by_name = {d.name: d for d in draft.columns}
    lines = [
        f"# Drafted by medsyn from {spec['source']['csv']} ({draft.spec['drafted']['read']}).",
        "# Every decision below is a guess from the data and the column names, with its evidence in a comment.",
        f"# Review it, then keep it as {keep_path} (a spec there always wins over a drafted one) and delete the",
        "# 'drafted' block at the end once you have checked it (the report lists its guesses while it is there).",
    ]
    for key in ("name", "title", "description", "domain"):
        lines.append(f"{key}: {_scalar(spec[key])}")
    lines.append(f"source: {_flow(spec['source'])}")
    lines.append(f"# target: {draft.target_reason}")
    lines.append(f"target: {_scalar(spec['target'])}")
    for key in ("id_columns", "group_column", "drop_columns"):
        if key not in spec:
            continue
        value = spec[key]
        for name in ([value] if isinstance(value, str) else value):
            lines.append(f"#   {name}: {draft.roles.get(name, '')}")
        lines.append(f"{key}: {_scalar(value) if isinstance(value, str) else _flow(value)}")
    lines.append("# quasi-identifiers: columns named like age, sex, race/ethnicity, geography, birth or marital "
                 "status, and dates")
    lines.append(f"quasi_identifiers: {_flow(spec['quasi_identifiers'])}")
    lines.append("# missing_tokens: the missing-value spellings found in the data (empty cells are always missing)")
    lines.append(f"missing_tokens: {_flow(spec['missing_tokens'])}")
    lines.append("columns:")
    for entry in spec["columns"]:
        column = by_name[entry["name"]]
        lines.append(f"  # {column.evidence}")
        if column.check:
            lines.append(f"  # CHECK: {column.check}")
        lines.append(f"  - {_flow(entry)}")
    lines.append("# No clinical rules are drafted: add them under 'rules' (prompt D and the clinical checks use them).")
    lines.append("rules: []")
    lines.append("drafted:")
    for line in yaml.safe_dump(spec["drafted"], sort_keys=False, width=110, allow_unicode=True).splitlines():
        lines.append(f"  {line}")
    return "\n".join(lines) + "\n"
