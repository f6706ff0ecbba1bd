"""Which spec column a key names: 'Diabetes Status', 'Blood Glucose Level', '"HbA1c_level"', 'Age (years)'.

A key is matched against each column's name, its definition and a normalised form of both (lower case, words
split on spaces, '_' and '-', a possessive 's' and a parenthesised unit dropped, 'avg' read as 'average'), with
generic words ('level', 'status', 'type', 'history', 'value') optional. When that finds nothing, a key whose words
are all words of exactly one column's name is that column ('glucose' -> blood_glucose_level). A key that fits two
columns is ambiguous and is never guessed; ID-like keys ('ID', 'Patient', 'Record No') name no column.
"""

from __future__ import annotations

import re
from medsyn.spec import DatasetSpec

_SYNONYMS = {"avg": "average", "yrs": "years", "no": "number", "num": "number", "nr": "number"}
_STOP = {"patient", "patients", "the", "s", "of", "a", "an", "is", "in"}
_GENERIC = {"level", "levels", "status", "type", "history", "value", "count"}
# keys that label a record instead of naming a column ('Patient ID: 7', 'Record: 3', '#': 4)
_ID_FORMS = {("id",), ("number",), ("record",), ("record", "id"), ("record", "number"), ("id", "number"),
             ("index",), ("row",), ("row", "number"), ("sample",), ("subject",), ("subject", "id")}

ID = "<id>"  # resolve() result for a key that labels the record (dropped, never a value)
UNKNOWN = "<unknown>"
AMBIGUOUS = "<ambiguous>"


def key_tokens(text: str) -> tuple[str, ...]:
    """'Patient's Blood-Glucose Level (mg/dL)' -> ('blood', 'glucose', 'level')."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)  # a unit or note in brackets
    text = re.sub(r"[\"'`*]", " ", text.replace("'s ", " ").replace("\u2019s ", " "))
    words = [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]
    words = [_SYNONYMS.get(w, w) for w in words]
    return tuple(w for w in words if w not in _STOP)


def _without_generic(tokens: tuple[str, ...]) -> tuple[str, ...]:
    rest = tuple(t for t in tokens if t not in _GENERIC)
    return rest or tokens


class KeyResolver:
    """Resolves keys for one spec; ``resolve`` returns a column name, ``ID``, ``UNKNOWN`` or ``AMBIGUOUS``."""

    def __init__(self, spec: DatasetSpec):
        self.spec = spec
        self._forms: dict[frozenset[str], set[str]] = {}
        self._names: dict[str, set[str]] = {}
        for col in spec.columns:
            own = {key_tokens(col.name), _without_generic(key_tokens(col.name))}
            definition = key_tokens(col.definition)
            if 0 < len(definition) <= 5:
                own |= {definition, _without_generic(definition)}
            for form in own:
                self._forms.setdefault(frozenset(form), set()).add(col.name)
            self._names[col.name] = set(key_tokens(col.name))
        for name in spec.dropped_columns:
            self._forms.setdefault(frozenset(key_tokens(name)), set()).add(ID)
        self._cache: dict[str, str] = {}

    def resolve(self, key: str) -> str:
        if key not in self._cache:
            self._cache[key] = self._resolve(key)
        return self._cache[key]

    def column(self, key: str) -> str | None:
        """The column a key names, or None (ID, unknown or ambiguous)."""
        found = self.resolve(key)
        return None if found in (ID, UNKNOWN, AMBIGUOUS) else found

    def _resolve(self, key: str) -> str:
        tokens = key_tokens(key)
        if not tokens:  # 'Patient', '#': a record label; anything else without words names nothing
            return ID if re.search(r"patient|#", key, re.I) else UNKNOWN
        if len(tokens) > 6:
            return UNKNOWN
        for form in (tokens, _without_generic(tokens)):
            hits = self._forms.get(frozenset(form))
            if hits:
                return next(iter(hits)) if len(hits) == 1 else AMBIGUOUS
        if tokens in _ID_FORMS or _without_generic(tokens) in _ID_FORMS:
            return ID
        core = set(_without_generic(tokens)) - _GENERIC
        if core and all(len(t) >= 3 and t.isalpha() for t in core):
            hits = {name for name, words in self._names.items() if core <= words}
            if len(hits) == 1:
                return hits.pop()
            if len(hits) > 1:
                return AMBIGUOUS
        return UNKNOWN
