"""Clinical consistency: every rule of the spec scored on real train, real holdout and synthetic, by the same code.

Real data break textbook rules too (evaluation reference 2.5), so a synthetic table is judged against the real
rate, never against 0% violations. A rule that cannot be checked never passes (SynLLM flaw 9, whose score
defaulted to 1.0 when a column was missing).

Per rule ``<id>`` (keys ``rule.<id>.*``):

- ``implication`` (params ``if``, ``then``: pandas query expressions): satisfaction rate = share of the rows
  matching ``if`` that also match ``then``. ``train``, ``holdout``, ``synthetic`` are the three rates,
  ``n_train``/``n_holdout``/``n_synthetic`` the rows the rule applied to.
- ``direction`` (``outcome`` query, numeric ``predictor``, ``sign`` increasing|decreasing): effect = Spearman
  correlation between the 0/1 outcome indicator and the predictor.
- ``group_difference`` (numeric ``column``, ``group`` query selecting the group expected HIGHER): effect =
  (mean(column | group) - mean(column | not group)) / sd(column in real train), a standardized mean difference
  (the same train sd scales all three tables; ``rule.<id>.train_sd`` records it).
- ``range`` (``column``, ``min``, ``max``; either bound may be absent): share of non-missing values in
  [min, max].

Missing values: a rule is evaluated on the rows where every column it references is present (complete cases on
the rule's columns), so a missing Edema never counts as ``Edema != 'N'``. Queries run with
``DataFrame.eval(engine="python")``; an unknown column, a malformed expression or a non-boolean result gives
``rule.<id>.error`` naming the rule and the column, never an exception.

Agreement (``rule.<id>.synthetic_agrees``, 1.0 / 0.0 / None):

- implication and range: ``p_syn >= p_train - tol`` with ``tol = max(0.1, 2 * se)`` and
  ``se = sqrt(p_train * (1 - p_train) * (1 / n_syn + 1 / n_train))`` (binomial standard error of the difference
  under the real rate). A gap within tolerance agrees, and so does satisfying the rule MORE often than real data
  ("or better"); ``implication_gap_mean`` keeps the two-sided gap visible.
- direction and group_difference: the synthetic effect has the spec's expected sign AND is non-trivial:
  ``|effect| >= min(floor, |train effect| / 2)`` with floor 0.05 for Spearman rho and 0.1 for the standardized
  difference (a real effect weaker than the floor lowers the bar to half of it).
- the synthetic table cannot be scored while real train can (no row matches ``if``, the outcome never varies,
  an empty group): 0.0 when the real train frequency predicts at least 5 applicable synthetic rows, else None
  (too few rows to expect the premise by chance). Without a real-train value agreement is None.

Summaries: ``rules_agree_share`` = mean of ``synthetic_agrees`` over rules where it is not None;
``implication_gap_mean`` = mean |p_syn - p_train| over implications where both are computable;
``rules_total``, ``rules_scored`` (agreement not None) and ``rules_errored`` (rule-level errors).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from medsyn.evaluate import EvalInputs
from medsyn.evaluate.clinical_query import RuleError, eval_frame, eval_mask
from medsyn.evaluate.results import Metrics
from medsyn.spec import DatasetSpec, Rule

TABLES = ("train", "holdout", "synthetic")
MIN_IMPLICATION_TOL = 0.1
MIN_RHO = 0.05
MIN_STD_DIFF = 0.1
MIN_EXPECTED_ROWS = 5.0


@dataclass
class TableScore:
    value: float | None = None
    n: int = 0  # rows the rule applied to
    support: float | None = None  # share of all rows in the table the rule needs (premise / minority side)
    error: str | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class RuleScore:
    rule: Rule
    scores: dict[str, TableScore]
    agrees: float | None
    errors: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def _numeric(frame: pd.DataFrame, spec: DatasetSpec, name: str, role: str) -> pd.Series:
    if name not in frame.columns:
        raise RuleError(f"{role} column '{name}' is unknown")
    if name in spec.column_names and not spec.column(name).is_numeric:
        raise RuleError(f"{role} column '{name}' is not numeric")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


# --- one rule on one table ------------------------------------------------------------------------------------


def _implication(rule: Rule, frame: pd.DataFrame, spec: DatasetSpec, ctx: dict) -> TableScore:
    if_mask, _ = eval_mask(frame, rule.params.get("if"), "'if'")
    then_mask, then_complete = eval_mask(frame, rule.params.get("then"), "'then'")
    applies = if_mask & then_complete
    n = int(applies.sum())
    support = n / len(frame) if len(frame) else None
    if n == 0:
        return TableScore(None, 0, support, "no row matches 'if' (with the rule's columns present)")
    return TableScore(float((then_mask & applies).sum() / n), n, support)


def _direction(rule: Rule, frame: pd.DataFrame, spec: DatasetSpec, ctx: dict) -> TableScore:
    out_mask, out_complete = eval_mask(frame, rule.params.get("outcome"), "'outcome'")
    x = _numeric(frame, spec, rule.params.get("predictor"), "predictor")
    ok = out_complete & x.notna()
    n = int(ok.sum())
    y = out_mask[ok].astype(float)
    minority = float(min(y.mean(), 1 - y.mean())) if n else 0.0
    support = minority * n / len(frame) if len(frame) else None
    if n < 3:
        return TableScore(None, n, support, f"only {n} rows with outcome and predictor present")
    if y.nunique() < 2:
        return TableScore(None, n, support, f"the outcome is {'always' if y.iloc[0] else 'never'} true")
    if x[ok].nunique() < 2:
        return TableScore(None, n, support, "the predictor is constant")
    rho = spearmanr(y.to_numpy(), x[ok].to_numpy()).statistic
    if not np.isfinite(rho):
        return TableScore(None, n, support, "Spearman correlation is undefined")
    return TableScore(float(rho), n, support)


def _group_difference(rule: Rule, frame: pd.DataFrame, spec: DatasetSpec, ctx: dict) -> TableScore:
    g_mask, g_complete = eval_mask(frame, rule.params.get("group"), "'group'")
    x = _numeric(frame, spec, rule.params.get("column"), "'column'")
    ok = g_complete & x.notna()
    inside, outside = g_mask & ok, ~g_mask & ok
    n_in, n_out = int(inside.sum()), int(outside.sum())
    n = n_in + n_out
    support = min(n_in, n_out) / len(frame) if len(frame) else None
    if n_in == 0 or n_out == 0:
        return TableScore(None, n, support, f"{'the group' if n_in == 0 else 'the rest'} is empty")
    diff = float(x[inside].mean() - x[outside].mean())
    sd = ctx.get("scale")
    if sd is None or not np.isfinite(sd) or sd <= 0:
        return TableScore(None, n, support, "real train sd of the column is 0 or undefined", {"diff": diff})
    return TableScore(diff / sd, n, support, None, {"diff": diff})


def _range(rule: Rule, frame: pd.DataFrame, spec: DatasetSpec, ctx: dict) -> TableScore:
    x = _numeric(frame, spec, rule.params.get("column"), "'column'").dropna()
    lo = rule.params.get("min", -math.inf)
    hi = rule.params.get("max", math.inf)
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    n = len(x)
    support = n / len(frame) if len(frame) else None
    if n == 0:
        return TableScore(None, 0, support, "no non-missing value")
    return TableScore(float(((x >= lo) & (x <= hi)).mean()), n, support)


SCORERS = {
    "implication": _implication,
    "direction": _direction,
    "group_difference": _group_difference,
    "range": _range,
}
REQUIRED = {
    "implication": ("if", "then"),
    "direction": ("outcome", "predictor", "sign"),
    "group_difference": ("column", "group"),
    "range": ("column",),
}


# --- agreement ------------------------------------------------------------------------------------------------


def _agreement(rule: Rule, train: TableScore, syn: TableScore, n_syn_rows: int) -> tuple[float | None, str | None]:
    if train.value is None:
        return None, "no real-train value to compare with"
    if syn.value is None:
        expected = (train.support or 0.0) * n_syn_rows
        if expected >= MIN_EXPECTED_ROWS:
            return 0.0, (f"rule cannot be scored on the synthetic table although real train predicts "
                         f"~{expected:.0f} applicable rows")
        return None, f"rule cannot be scored on the synthetic table (real train predicts only ~{expected:.1f} rows)"
    if rule.kind in ("implication", "range"):
        p = train.value
        se = math.sqrt(max(p * (1 - p), 0.0) * (1 / max(syn.n, 1) + 1 / max(train.n, 1)))
        tol = max(MIN_IMPLICATION_TOL, 2 * se)
        return (1.0 if syn.value >= p - tol - 1e-12 else 0.0), None
    expected_sign = -1.0 if (rule.kind == "direction" and rule.params.get("sign") == "decreasing") else 1.0
    floor = MIN_RHO if rule.kind == "direction" else MIN_STD_DIFF
    threshold = min(floor, abs(train.value) / 2)
    ok = syn.value * expected_sign > 0 and abs(syn.value) >= threshold
    return (1.0 if ok else 0.0), None


def _static_error(rule: Rule) -> str | None:
    """What makes a rule unusable on any table (unknown kind, missing parameters), or None."""
    missing = [k for k in REQUIRED.get(rule.kind, ()) if rule.params.get(k) in (None, "")]
    if rule.kind not in SCORERS:
        return f"rule {rule.id}: unknown kind '{rule.kind}'"
    if missing:
        return f"rule {rule.id}: {rule.kind} rule needs {missing}"
    if rule.kind == "direction" and rule.params.get("sign") not in ("increasing", "decreasing"):
        return f"rule {rule.id}: sign must be increasing or decreasing, got {rule.params.get('sign')!r}"
    return None


def _score_table(rule: Rule, frame: pd.DataFrame, spec: DatasetSpec, ctx: dict) -> tuple[TableScore, str | None]:
    """(score, the RuleError's message when the rule could not be evaluated on this table)."""
    try:
        return SCORERS[rule.kind](rule, frame, spec, ctx), None
    except RuleError as exc:
        return TableScore(error=str(exc)), str(exc)


def real_rule(rule: Rule, frames: dict[str, pd.DataFrame], spec: DatasetSpec) -> dict:
    """One rule on real train and holdout (``eval_frame``-prepared): the part of ``score_rule`` that does not
    depend on the synthetic table, as JSON (``real_part`` caches it per dataset)."""
    static = _static_error(rule)
    if static:
        return {"static_error": static}
    ctx: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if rule.kind == "group_difference":
        try:
            sd = _numeric(frames["train"], spec, rule.params["column"], "'column'").std(ddof=1)
            ctx["scale"] = float(sd) if pd.notna(sd) else None
            extra["train_sd"] = ctx["scale"]
        except RuleError:
            pass  # reported per table
    tables = {}
    for table in ("train", "holdout"):
        score, raised = _score_table(rule, frames[table], spec, ctx)
        tables[table] = {"score": dataclasses.asdict(score), "raised": raised}
    return {"static_error": None, "ctx": ctx, "extra": extra, "tables": tables}


def score_rule(rule: Rule, real: dict, synthetic: pd.DataFrame, spec: DatasetSpec) -> RuleScore:
    """One rule: its real side (``real_rule``) with the (``eval_frame``-prepared) synthetic table; never raises
    for a bad rule or table."""
    scores = {t: TableScore(error="not evaluated") for t in TABLES}
    if real["static_error"]:
        return RuleScore(rule, scores, None, [real["static_error"]], {})
    extra = dict(real["extra"])
    table_errors: dict[str, str] = {}
    for table in ("train", "holdout"):
        scores[table] = TableScore(**real["tables"][table]["score"])
        if real["tables"][table]["raised"]:
            table_errors[table] = real["tables"][table]["raised"]
    scores["synthetic"], raised = _score_table(rule, synthetic, spec, dict(real["ctx"]))
    if raised:
        table_errors["synthetic"] = raised
    errors: list[str] = []
    distinct = list(dict.fromkeys(table_errors.values()))
    if len(table_errors) == len(TABLES) and len(distinct) == 1:
        errors.append(f"rule {rule.id}: {distinct[0]}")
    else:
        errors.extend(f"rule {rule.id} on {t}: {msg}" for t, msg in table_errors.items())
    agrees = None
    if not errors:
        agrees, why = _agreement(rule, scores["train"], scores["synthetic"], len(synthetic))
        extra["agree_note"] = why
    return RuleScore(rule, scores, agrees, errors, extra)


def real_part(spec: DatasetSpec, train: pd.DataFrame, holdout: pd.DataFrame, reference: pd.DataFrame,
              seed: int) -> dict:
    """Every rule of the spec on real train and holdout (rates, applicable rows, errors), in spec order."""
    frames = {"train": eval_frame(train, spec), "holdout": eval_frame(holdout, spec)}
    return {"rules": [real_rule(rule, frames, spec) for rule in spec.rules]}


def score_rules(inputs: EvalInputs) -> list[RuleScore]:
    spec = inputs.spec
    real = inputs.real_part("clinical")["rules"]
    synthetic = eval_frame(inputs.synthetic, spec)
    return [score_rule(rule, part, synthetic, spec) for rule, part in zip(spec.rules, real)]


# --- outputs --------------------------------------------------------------------------------------------------


def _rule_error(rs: RuleScore) -> str | None:
    if rs.errors:
        return "; ".join(rs.errors)
    parts = [f"{t}: {rs.scores[t].error}" for t in TABLES if rs.scores[t].value is None and rs.scores[t].error]
    note = rs.extra.get("agree_note")
    if note and rs.agrees != 1.0:
        parts.append(f"agreement: {note}")
    return "; ".join(parts) or None


def compute(inputs: EvalInputs) -> dict:
    """Flat clinical-consistency metrics (see the module docstring for every key and criterion)."""
    out = Metrics()
    results = score_rules(inputs)
    gaps, agrees = [], []
    for rs in results:
        key = f"rule.{rs.rule.id}"
        err = _rule_error(rs)
        why = "; ".join(rs.errors) or None
        for table in TABLES:
            score = rs.scores[table]
            out.put(f"{key}.{table}", score.value, why or score.error)
            out.put(f"{key}.n_{table}", score.n)
        if rs.rule.kind == "group_difference":
            for table in TABLES:
                out.put(f"{key}.{table}_diff", rs.scores[table].extra.get("diff"), why or rs.scores[table].error)
            out.put(f"{key}.train_sd", rs.extra.get("train_sd"), why or "train sd not computable")
        out.put(f"{key}.synthetic_agrees", rs.agrees, why or rs.extra.get("agree_note"))
        if err:
            out[f"{key}.error"] = err  # the rule's own summary (every reason above, in one line)
        if rs.agrees is not None:
            agrees.append(rs.agrees)
        if rs.rule.kind == "implication":
            s, t = rs.scores["synthetic"].value, rs.scores["train"].value
            if s is not None and t is not None:
                gaps.append(abs(s - t))
    out.put("rules_total", len(results))
    out.put("rules_scored", len(agrees))
    out.put("rules_errored", sum(1 for rs in results if rs.errors))
    out.put("rules_agree_share", float(np.mean(agrees)) if agrees else None,
            "no rule could be scored" if results else "the spec has no rules")
    out.put("implication_gap_mean", float(np.mean(gaps)) if gaps else None,
            "no implication computable on both real train and synthetic")
    return out


def rule_table(inputs: EvalInputs) -> pd.DataFrame:
    """One row per rule for the report: id, kind, text, train, holdout, synthetic, agrees, n_synthetic, error."""
    rows = []
    for rs in score_rules(inputs):
        rows.append(
            {
                "id": rs.rule.id,
                "kind": rs.rule.kind,
                "text": rs.rule.text,
                "train": rs.scores["train"].value,
                "holdout": rs.scores["holdout"].value,
                "synthetic": rs.scores["synthetic"].value,
                "agrees": rs.agrees,
                "n_synthetic": rs.scores["synthetic"].n,
                "error": _rule_error(rs),
            }
        )
    return pd.DataFrame(rows, columns=["id", "kind", "text", "train", "holdout", "synthetic", "agrees",
                                       "n_synthetic", "error"])
