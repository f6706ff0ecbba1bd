"""Prose records: 'Female, 45.2 years old, hypertensive, no heart disease, never smoked, BMI 28.5, HbA1c 6.2%,
glucose 140 mg/dL, no diabetes'.

The text is cut into pieces at commas, semicolons and 'and'. Each piece must name exactly one column, in one of
these ways:
- a key and its value: 'BMI 28.5', 'BMI of 28.5', 'HbA1c: 6.2%' (keys as ``keys.KeyResolver`` matches them);
- a value only one column can hold: a level or alias ('Female', 'never smoked', 'Urban') or a number whose unit
  only one column has ('45.2 years old', '140 mg/dL' where no other column is in mg/dL);
- for a no/yes column, its name or adjective with or without a negation: 'hypertensive', 'has hypertension',
  'no heart disease', 'does not have diabetes', 'non-diabetic'.
The record is read only when every piece is recognised, no column is named twice and every column is found.
Otherwise it is refused with the reason ``prose`` (and the detail says which piece or column failed).
"""

from __future__ import annotations

import math
import re

from medsyn.parse.keys import KeyResolver, key_tokens
from medsyn.parse.values import ValueReader, clean, level_key
from medsyn.spec import DatasetSpec

_PIECES = re.compile(r"\s*(?:,|;|\band\b)\s*", re.I)
_CONNECTOR = re.compile(r"^(?::|=|of|is|was|at|level of)\s+|^[:=]\s*", re.I)
_NEGATIONS = ("no ", "not ", "non ", "without ", "does not have ", "doesn't have ", "has no ", "never had ",
              "no history of ", "free of ")
_AFFIRMATIONS = ("", "has ", "with ", "had ", "having ", "history of ", "diagnosed with ", "is ", "positive for ")


def _adjectives(word: str) -> set[str]:
    """'hypertension' -> 'hypertensive'; 'diabetes' -> 'diabetic'."""
    out = set()
    if word.endswith("sion"):
        out.add(word[:-4] + "sive")
    if word.endswith("es"):
        out.add(word[:-2] + "ic")
    return out


class ProseReader:
    def __init__(self, spec: DatasetSpec, keys: KeyResolver, values: ValueReader):
        self.spec = spec
        self.keys = keys
        self.values = values
        self.phrases: dict[str, list[tuple[str, str]]] = {}  # phrase -> [(column, level)]
        self._pieces: dict[str, tuple[set, bool]] = {}  # piece -> its readings (pieces repeat across a run)
        for col in spec.columns:
            pair = values.levels[col.name].no_yes_pair() if col.name in values.levels else None
            if not pair:
                continue
            words = [w for w in key_tokens(col.name) if w not in ("level", "status", "type")] or [col.name.lower()]
            names = {" ".join(words)} | (_adjectives(words[0]) if len(words) == 1 else set())
            for name in names:
                for neg in _NEGATIONS:
                    self.phrases.setdefault(neg + name, []).append((col.name, pair[0]))
                self.phrases.setdefault("non" + name, []).append((col.name, pair[0]))
                for pos in _AFFIRMATIONS:
                    self.phrases.setdefault(pos + name, []).append((col.name, pair[1]))

    def read(self, text: str) -> tuple[list[str] | None, str, bool]:
        """(values in spec order or None, detail, whether the text reads like a prose record)."""
        pieces = [clean(p).rstrip(".") for p in _PIECES.split(text.strip().rstrip(".")) if clean(p)]
        if not any(" " in p or "%" in p for p in pieces) and not any(p.lower() in self.phrases for p in pieces):
            return None, "no piece names a column", False  # a plain row of bare values: nothing to read as prose
        found: dict[str, str] = {}
        worded = recognised = 0
        problem = ""
        for piece in pieces:
            if piece not in self._pieces:
                self._pieces[piece] = self._piece(piece)
            hits, by_words = self._pieces[piece]
            hits = set(hits)
            columns = {c for c, _ in hits}
            if len(columns) == 1:
                recognised += 1
                worded += by_words
                column, value = hits.pop()
                if column in found and not problem:
                    problem = f"{column} named twice"
                found[column] = value
            elif not problem:
                problem = f"{piece!r} " + ("fits " + "/".join(sorted(columns)) if columns else "names no column")
        prose_like = worded > 0 and recognised >= max(3, math.ceil(len(self.spec.columns) / 2))
        missing = [c.name for c in self.spec.columns if c.name not in found]
        if not problem and missing:
            problem = "no " + ", ".join(missing)
        if problem:
            return None, problem, prose_like
        return [found[c.name] for c in self.spec.columns], "", True

    def _piece(self, piece: str) -> tuple[set[tuple[str, str]], bool]:
        """The (column, value) readings of one piece, and whether words (not a bare value) named the column."""
        note = None
        m = re.match(r"^(.*?)\s*\(([^()]+)\)$", piece)
        if m:
            piece, note = m.group(1), m.group(2)
        key = level_key(piece)
        phrase = self.phrases.get(key)
        if phrase:
            hits = set(phrase)
            if note is not None:  # 'has hypertension (1)': the note must agree
                hits = {(c, v) for c, v in hits if self.values.read(self.spec.column(c), note).value == v}
            return hits, True
        if note is not None:
            piece = f"{piece} ({note})"
        hits = self._keyed(piece)
        if hits:
            return hits, True
        hits = set()
        for col in self.spec.columns:  # a bare value: a level, or a number with a unit
            reading = self.values.with_unit(col, piece) if col.is_numeric else self.values.read(col, piece)
            if reading is not None and reading.value is not None:
                hits.add((col.name, reading.value))
        return hits, any(self.spec.column(c).is_numeric for c, _ in hits)

    def _keyed(self, piece: str) -> set[tuple[str, str]]:
        words = piece.split()
        hits = set()
        for n in range(min(4, len(words) - 1), 0, -1):
            column = self.keys.column(" ".join(words[:n]).rstrip(":="))
            if column is None:
                continue
            rest = _CONNECTOR.sub("", " ".join(words[n:])).strip()
            reading = self.values.read(self.spec.column(column), rest)
            if reading.value is not None:
                hits.add((column, reading.value))
                break
        return hits
