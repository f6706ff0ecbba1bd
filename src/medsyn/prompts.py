"""The four SynLLM prompt types, built automatically from a spec and the train split.

A  example-driven       task + header + example rows
B  definitions          A + one definition per column (type, unit, range, levels)
C  statistics/metadata  B + statistics computed from the train split (never hand-typed)
D  rule-based           definitions + statistics + the spec's clinical rules, no example rows

All statistics and examples come from the train split; the holdout never reaches a prompt.
The assistant turn is prefilled with the CSV header (and, for A-C, the example rows), so the model continues
a table instead of starting a chat answer; prefilling measurably stops models from copying the examples.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from medsyn.errors import PromptError
from medsyn.grammar import spec_to_gbnf
from medsyn.seeds import derive_seed
from medsyn.spec import MISSING_TEXT, Column, DatasetSpec

PROMPT_TYPES = {
    "A": "example-driven",
    "B": "definitions",
    "C": "statistics/metadata",
    "D": "rule-based, no examples",
}


@dataclass
class PromptArtifact:
    """One prompt of a run, as its prompt file holds it (``to_dict``); steps read a file back only through
    ``read_prompt`` / ``from_dict``, which want every field and no other key."""

    dataset: str
    prompt_type: str
    prompt_name: str
    seed: int
    system: str
    user: str
    prefill: str
    header: str
    example_row_ids: list[int]
    example_rows: list[str]
    rows_per_call: int
    grammar: str
    widest_row: str = ""  # the longest row the grammar allows: sizes the completion budget
    columns: list[str] = field(default_factory=list)  # the order rows are written in (``row_spec``)
    # user = user_head + example rows (one a line) + user_tail; prefill = prefill_head + example rows + "\n" each.
    # A call with examples of its own (generation.examples.per_call) is rendered from these (``with_examples``).
    user_head: str = ""
    user_tail: str = ""
    prefill_head: str = ""
    user_bare: str = ""  # the user message without the example block (generation.examples.placement: prefill)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "prompt") -> "PromptArtifact":
        """The artifact ``to_dict`` wrote; ``source`` (the file) names where a missing, unknown or mistyped key is."""
        if not isinstance(data, dict):
            raise PromptError(f"{source}: a prompt is a JSON object, got {type(data).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        missing = [k for k in known if k not in data]
        unknown = sorted(set(data) - set(known))
        problems = [f"{what} key(s) {keys}" for what, keys in (("missing", missing), ("unknown", unknown)) if keys]
        if problems:
            raise PromptError(f"{source}: " + "; ".join(problems))
        for f in dataclasses.fields(cls):
            kind = _FIELD_KINDS[f.type]
            if not isinstance(data[f.name], kind) or (kind is int and isinstance(data[f.name], bool)):
                raise PromptError(f"{source}: key '{f.name}' must be {f.type}, got {data[f.name]!r:.80}")
        return cls(**data)

    @property
    def id(self) -> str:
        """'pima/A/seed1': the prompt a call record names."""
        return f"{self.dataset}/{self.prompt_type}/seed{self.seed}"

    def row_spec(self, spec: DatasetSpec) -> DatasetSpec:
        """``spec`` with its columns in the order this prompt's rows are written in (generation.column_order):
        the order generation, the row hooks and the parser read rows in."""
        return spec.in_order(self.columns)

    def with_examples(self, rows: list[str], in_user: bool = True) -> "PromptArtifact":
        """The prompt with other example rows in place of its own (same instructions, same header); with
        ``in_user`` false they are shown only in the prefill, the user message words the task without them."""
        if not self.user_head:
            raise ValueError(f"prompt {self.dataset}/{self.prompt_type} shows no example rows to replace")
        user = self.user_head + "\n".join(rows) + self.user_tail if in_user else self.user_bare
        prefill = self.prefill_head + "".join(r + "\n" for r in rows)
        return dataclasses.replace(self, user=user, prefill=prefill, example_rows=list(rows))


_FIELD_KINDS = {"str": str, "int": int, "list[int]": list, "list[str]": list}  # PromptArtifact's annotations


def read_prompt(path: str | Path, run=None) -> PromptArtifact:
    """The prompt artifact of a prompt file; with ``run`` (a ``medsyn.config.Run``), a prompt of another dataset,
    prompt type or seed than the run's is an error naming the file."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc}") from None
    prompt = PromptArtifact.from_dict(data, str(path))
    if run is not None and (prompt.dataset, prompt.prompt_type, prompt.seed) != (run.dataset, run.prompt, run.seed):
        raise PromptError(f"{path}: prompt {prompt.id} is not the prompt of run {run.dataset}/{run.prompt}/seed"
                          f"{run.seed}")
    return prompt


def format_row(row: pd.Series, spec: DatasetSpec) -> str:
    return ",".join(col.format_value(row[col.name]) for col in spec.columns)


def widest_row(spec: DatasetSpec) -> str:
    """The longest row text the spec allows (longest level, widest number, or NA per column)."""
    fields = []
    for col in spec.columns:
        if col.is_numeric:
            options = [col.format_value(col.min), col.format_value(col.max)]
        else:
            options = list(col.levels)
        if col.allow_missing:
            options.append(MISSING_TEXT)
        fields.append(max(options, key=len))
    return ",".join(fields)


def draw_examples(train: pd.DataFrame, n: int, seed: int, dataset: str) -> pd.DataFrame:
    """``n`` train rows drawn with the run seed; the same rows for prompts A-C of one seed (comparability)."""
    if n <= 0:
        return train.iloc[:0]
    n = min(n, len(train))
    rng = np.random.default_rng(derive_seed("examples", dataset, seed))
    positions = np.sort(rng.choice(len(train), size=n, replace=False))
    return train.iloc[positions]


def _fmt(x: float) -> str:
    """Compact number text: 3 significant digits, no trailing zeros (5-40, 0.0526, 1.8e+03 -> 1800)."""
    x = float(x)
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def _span(lo: float, hi: float) -> str:
    """'5-40'; '-35 to 5' when an end is negative ('-35--5' would read as a minus between them)."""
    a, b = _fmt(lo), _fmt(hi)
    return f"{a} to {b}" if a.startswith("-") or b.startswith("-") else f"{a}-{b}"


def describe_column(col: Column) -> str:
    if col.is_numeric:
        unit = f" {col.unit}" if col.unit else ""
        kind = "integer" if col.type == "integer" else f"number with {col.decimals} decimals"
        text = f"{kind}, {_span(col.min, col.max)}{unit}"
    else:
        levels = [f"{lvl} ({col.level_meanings[lvl]})" if lvl in col.level_meanings else lvl for lvl in col.levels]
        text = "one of " + ", ".join(levels)
    if col.allow_missing:
        text += f", or {MISSING_TEXT} if unknown"
    return f"- {col.name}: {col.definition} [{text}]"


def column_statistics(train: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    lines = []
    for col in spec.columns:
        values = train[col.name]
        missing = values.isna().mean()
        miss = f"; missing {missing:.0%}" if missing > 0 else ""
        if col.is_numeric:
            v = values.dropna().astype(float)
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            lines.append(
                f"- {col.name}: mean {_fmt(v.mean())}, sd {_fmt(v.std())}, median {_fmt(med)}, "
                f"quartiles {_span(q1, q3)}, observed range {_span(v.min(), v.max())}{miss}"
            )
        else:
            shares = values.dropna().value_counts(normalize=True)
            parts = ", ".join(f"{lvl} {shares.get(lvl, 0.0):.0%}" for lvl in col.levels)
            lines.append(f"- {col.name}: {parts}{miss}")
    return lines


def correlation_notes(train: pd.DataFrame, spec: DatasetSpec, threshold: float = 0.3, limit: int = 6) -> list[str]:
    numeric = [c.name for c in spec.columns if c.is_numeric]
    if len(numeric) < 2:
        return []
    corr = train[numeric].astype(float).corr(method="spearman")
    pairs = []
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            r = corr.loc[a, b]
            if np.isfinite(r) and abs(r) >= threshold:
                pairs.append((abs(r), a, b, r))
    pairs.sort(reverse=True)
    return [f"- {a} and {b}: rank correlation {r:+.2f}" for _, a, b, r in pairs[:limit]]


def target_notes(train: pd.DataFrame, spec: DatasetSpec, limit: int = 6) -> list[str]:
    """Mean of each numeric column per target class: the class-conditional structure the paper's prompts hint at."""
    numeric = [c.name for c in spec.columns if c.is_numeric]
    if not numeric:
        return []
    means = train.groupby(spec.target, dropna=True)[numeric].mean()
    lines = []
    for name in numeric[:limit]:
        parts = ", ".join(f"{spec.target}={cls}: {_fmt(means.loc[cls, name])}" for cls in means.index)
        lines.append(f"- mean {name} by {spec.target}: {parts}")
    return lines


def build_prompt(
    spec: DatasetSpec,
    train: pd.DataFrame,
    prompt_type: str,
    seed: int,
    n_examples: int,
    rows_per_call: int,
    column_order: list[str] | tuple[str, ...] = (),
) -> PromptArtifact:
    """The prompt of one type for one seed. ``column_order``: columns written first (the rest in spec order)."""
    if prompt_type not in PROMPT_TYPES:
        raise ValueError(f"unknown prompt type {prompt_type!r}; expected one of {sorted(PROMPT_TYPES)}")
    spec = spec.in_order(column_order)
    header = ",".join(spec.column_names)
    examples = draw_examples(train, 0 if prompt_type == "D" else n_examples, seed, spec.name)
    example_rows = [format_row(row, spec) for _, row in examples.iterrows()]

    system = (
        f"You are a synthetic medical data generator for {spec.domain}. You write realistic, varied, new "
        "patient records as CSV rows. You never copy example records."
    )
    parts = [
        f"Generate {rows_per_call} new synthetic patient records for the table '{spec.title}'.",
        f"Write CSV rows with these {len(spec.columns)} columns, in this order:",
        header,
    ]
    if prompt_type in ("B", "C", "D"):
        parts += ["", "Column definitions:"] + [describe_column(c) for c in spec.columns]
    if prompt_type in ("C", "D"):
        parts += ["", f"Statistics of the real data ({len(train)} patients):"] + column_statistics(train, spec)
        notes = correlation_notes(train, spec) + target_notes(train, spec)
        if notes:
            parts += ["", "Relations between columns in the real data:"] + notes
    if prompt_type == "D" and spec.rules:
        parts += ["", "Clinical rules the records must respect:"] + [f"- {r.text}" for r in spec.rules]
    elif prompt_type == "D":  # a drafted spec has no rules: D is then C without examples, and says so
        parts += ["", "No clinical rules are given for this table; follow the statistics above."]
    tail = (
        f"\n\nWrite {rows_per_call} new records, one per line, in exactly this format, with no other text. "
        f"Write {MISSING_TEXT} for an unknown value."
    )
    bare = "\n".join(parts) + tail
    if example_rows:
        parts += ["", "Example records:"]
    head = "\n".join(parts) + "\n"
    user = head + "\n".join(example_rows) + tail if example_rows else head[:-1] + tail
    prefill = header + "\n" + "".join(r + "\n" for r in example_rows)
    return PromptArtifact(
        dataset=spec.name,
        prompt_type=prompt_type,
        prompt_name=PROMPT_TYPES[prompt_type],
        seed=seed,
        system=system,
        user=user,
        prefill=prefill,
        header=header,
        example_row_ids=[int(i) for i in examples.index],
        example_rows=example_rows,
        rows_per_call=rows_per_call,
        grammar=spec_to_gbnf(spec, rows_per_call),
        widest_row=widest_row(spec),
        columns=spec.column_names,
        user_head=head if example_rows else "",
        user_tail=tail if example_rows else "",
        prefill_head=header + "\n",
        user_bare=bare if example_rows else "",
    )
