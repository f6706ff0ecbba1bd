"""What a column's name says: its words, a readable definition, a unit, and whether it names an identifier, a
quasi-identifier or an outcome. Every rule is a word list a reviewer can read and extend."""

from __future__ import annotations

import re

# A name's words: split at '_', '-', spaces, dots and lower->Upper case changes ('BloodPressure', 'PatientID').
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")


def words(name: str) -> list[str]:
    return [w.lower() for w in _SEPARATORS.split(_CAMEL.sub(" ", name)) if w]


# Identifier names: a word of these, or 'patient'/'subject'/'record'/'case' with 'no'/'number'/'nr'/'key'.
ID_WORDS = {"id", "ids", "identifier", "uuid", "guid", "mrn", "ssn", "nhs", "nhi", "uid", "pid", "sid"}
ID_OWNERS = {"patient", "subject", "record", "case", "participant", "person", "encounter", "admission", "visit"}
ID_SUFFIXES = {"no", "num", "number", "nr", "key", "code"}


def named_like_identifier(name: str) -> bool:
    ws = words(name)
    if any(w in ID_WORDS for w in ws):
        return True
    return any(a in ID_OWNERS and b in ID_SUFFIXES for a, b in zip(ws, ws[1:]))


# Quasi-identifiers (what an attacker could link on): demographics and geography, as in HIPAA's Safe Harbor list.
QI_WORDS = {
    "age": "age", "sex": "sex", "gender": "gender", "race": "race", "ethnicity": "ethnicity", "ethnic": "ethnicity",
    "zip": "geography", "zipcode": "geography", "postcode": "geography", "postal": "geography",
    "region": "geography", "city": "geography", "county": "geography", "district": "geography",
    "country": "geography", "residence": "geography", "address": "geography", "state": "geography",
    "birth": "birth date", "dob": "birth date", "marital": "marital status", "married": "marital status",
    "nationality": "nationality",
}


def quasi_identifier_kind(name: str) -> str | None:
    """Which kind of quasi-identifier the name says (age, sex, geography, ...), or None."""
    for w in words(name):
        if w in QI_WORDS:
            return QI_WORDS[w]
    return None


# Outcome-like names, for the target guess (only binary or low-cardinality columns qualify).
OUTCOME_WORDS = {
    "outcome", "target", "label", "class", "diagnosis", "dx", "status", "result", "death", "died", "dead",
    "deceased", "mortality", "survived", "survival", "disease", "cancer", "stroke", "diabetes", "diabetic",
    "risk", "response", "event", "readmitted", "readmission", "malignant", "malignancy", "positive", "case",
    "tumor", "tumour", "infection", "infected", "depression", "outcomes", "y",
}


def named_like_outcome(name: str) -> bool:
    return any(w in OUTCOME_WORDS for w in words(name))


# Units the name spells, as (words in the name, the unit written in the spec). The first match wins.
UNIT_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("mg", "dl"), "mg/dL"), (("mg", "l"), "mg/L"), (("g", "dl"), "g/dL"), (("mmol", "l"), "mmol/L"),
    (("umol", "l"), "umol/L"), (("u", "l"), "U/L"), (("mmhg",), "mm Hg"), (("bpm",), "beats/min"),
    (("kg", "m2"), "kg/m2"), (("bmi",), "kg/m2"), (("kg",), "kg"), (("cm",), "cm"), (("mm",), "mm"),
    (("lbs",), "lb"), (("years",), "years"), (("yrs",), "years"), (("age",), "years"), (("months",), "months"),
    (("weeks",), "weeks"), (("days",), "days"), (("hours", "per", "week"), "hours/week"), (("hours",), "hours"),
    (("hrs",), "hours"), (("minutes",), "minutes"), (("min",), "minutes"), (("percent",), "%"), (("pct",), "%"),
    (("per", "week"), "per week"), (("per", "day"), "per day"), (("bp",), "mm Hg"), (("heart", "rate"), "beats/min"),
)
_UNIT_ONLY_WORDS = {"mg", "dl", "mmol", "umol", "l", "mmhg", "bpm", "kg", "m2", "cm", "mm", "lbs", "pct", "percent"}


def _contains(ws: list[str], seq: tuple[str, ...]) -> bool:
    return any(tuple(ws[i:i + len(seq)]) == seq for i in range(len(ws) - len(seq) + 1))


def unit_from_name(name: str) -> str | None:
    ws = words(name)
    for seq, unit in UNIT_WORDS:
        if _contains(ws, seq):
            return unit
    return None


_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")  # softer than _CAMEL: 'HbA1c' and 'PatientID' stay whole
ACRONYMS = {w: w.upper() for w in ("bmi", "bp", "id", "hdl", "ldl", "ecg", "ekg", "hiv", "icu", "copd", "crp")}


def readable(name: str) -> str:
    """'cholesterol_mg_dl' -> 'Cholesterol', 'BloodPressure' -> 'Blood pressure', 'CHEST PAIN' -> 'Chest pain',
    'HbA1c_level' -> 'HbA1c level': the name's words in sentence case, unit words left out (they go to ``unit``)."""
    parts = [p for p in _SEPARATORS.split(_WORD_START.sub(" ", name.strip())) if p]
    kept = [p for p in parts if p.lower() not in _UNIT_ONLY_WORDS] or parts
    # keep mixed-case words (HbA1c) as written; lower Title words and an ALL-CAPS name's words; known acronyms
    all_caps = all(p.isupper() for p in kept if p.isalpha())
    out = [ACRONYMS.get(p.lower()) or (p.lower() if (all_caps or p.istitle()) and len(p) > 1 else p) for p in kept]
    sentence = " ".join(out)
    return sentence[:1].upper() + sentence[1:]
