"""Marginal steering: a logit bias that pulls the run's generated values toward each column's train marginal.

At every token that decides which value a field takes, the candidate tokens get a bias

    bias(t) = strength * (log target(t | P) - log running(t | P))

where P is the field's text so far, ``target(t | P)`` is the share of train values starting with P that continue
with token t (or end right there, for a token that closes the field), and ``running(t | P)`` the same share among
the values this run has generated so far (smoothed toward the target with ``PSEUDO_ROWS`` pseudo-rows, so the
first rows get no bias). The bias is the same for every row at a given point, so rows still differ by their own
context: the model's conditional structure stays, only the run's aggregate is pulled toward train. Its fixed
point mixes the two: running ~ model^(1/(1+s)) * target^(s/(1+s)).

Where it acts: categorical columns until the level is decided; numeric columns until the value's quantile bin
(``bins`` bins of the train values) is decided, i.e. on the leading digits; with ``bins`` 0 every distinct train
value is a bin of its own, so the pull reaches the last digit (the spikes of a real column, such as an imputed
value written in a quarter of the rows, are then reproduced). Tokens that close one field and open
the next (Qwen has tokens like ",Female", SmolLM2 ",-" before a negative number) get both fields' biases. A
negative value's sign is its first character: the prefix "-" is shared by every negative train value, so the sign
is steered like a leading digit.

With ``train_values_only`` a token that leads to a value no train row shows for the column (a continuation of
train share 0) gets ``UNSEEN_BIAS``, from the first row on (the plain bias only pushes a value away once the run has
written it) and past the point where the bin is decided, so values stay within each column's train support (the
marginals baseline's support). The cue a detection classifier reads first, a lab value the lab never reports,
is then gone; the novelty judge still keeps rows away from whole train patients.

With ``conditional`` the pull of a column is toward its train distribution *given the bin of one earlier column*
(its parent: the earlier column with the highest mutual information on train, numeric columns in ``PARENT_BINS``
quantile bins), and the running share is counted among the generated rows in that same parent bin: the run's
pairwise structure along a chain of columns (age -> pregnancies, BMI -> skin fold) is pulled toward train's, not
just each marginal. A parent bin with fewer than ``MIN_PARENT_ROWS`` train rows pulls toward the marginal. This
information comes from train, not from the model: the comparison that tells them apart is the same pull without
the model (``pull_without_model``, the ``steered-<recipe>`` baseline).

Cost: the candidates of each (column, text so far) are found once through a piece -> token map (built once per
model); the biases are recomputed only after a new row was accepted; the decoder adds them to the few candidate
logits in llama.cpp's own logits buffer, so the native sampler chain does the sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsyn.recipes.rowtext import value_texts
from medsyn.recipes.steering_counts import FLOOR, PSEUDO_ROWS, Chain, ColumnCounts
from medsyn.settings import SteeringSettings
from medsyn.spec import DatasetSpec

UNSEEN_BIAS = -30.0  # logit bias of a token leading off the train support (e^-30: never sampled in practice)


class MarginalSteering:
    """Biases for the decoder (``steer``), fed with every accepted row (``observe``). ``spec`` is in the order
    the rows are written in; ``pieces`` maps token bytes to token ids (``LlamaBackend.pieces``)."""

    def __init__(self, settings: SteeringSettings, spec: DatasetSpec, train: pd.DataFrame,
                 pieces: dict[bytes, int]):
        self.strength = settings.strength
        self.train_values_only = settings.train_values_only
        self.pieces = pieces
        texts = value_texts(train, spec)
        self.columns = [ColumnCounts(col, t, settings.bins) for col, t in zip(spec.columns, texts)]
        self.chain = Chain(spec, texts) if settings.conditional else None
        self._candidates: dict[tuple[int, str], list[tuple[int, tuple]]] = {}
        self._biases: dict[tuple[int, str], tuple[np.ndarray, np.ndarray] | None] = {}
        self._decided_at: dict[tuple[int, str], bool] = {}  # (column, field text so far) -> bin decided

    def observe(self, row: str) -> None:
        """Count an accepted row's values (the running distribution)."""
        fields = row.split(",")
        for column, text in zip(self.columns, fields):
            column.generated.add(text)
        if self.chain is not None:
            self.chain.observe(fields)
        self._biases.clear()

    def steer(self, row: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """Token ids and biases for the next token after the row's text so far, or None where nothing is decided."""
        if self.strength == 0:
            return None
        index = row.count(b",")
        if index >= len(self.columns):
            return None
        if self.chain is None:  # per token and sequence: only the open field's text is decoded
            partial = row[row.rfind(b",") + 1:].decode("utf-8", errors="replace")
            before, parent_keys = None, None
        else:  # the parent bins known from the fields before the open one
            *before, partial = row.decode("utf-8", errors="replace").split(",")
            parent_keys = (self.chain.key(index, before),
                           self.chain.key(index + 1, before) if index + 1 < len(self.columns) else None)
        key = (index, partial, parent_keys)
        if key not in self._biases:
            self._biases[key] = self._compute(index, partial, before, parent_keys)
        return self._biases[key]

    def _counts(self, column_index: int, index: int, before: list[str], parts: tuple, parent_keys):
        """(target, generated) counts a part of ``column_index`` is steered with: its parent bin's, or None for
        the marginal's. The next field's parent may be the field this token closes (its value is in ``parts[0]``)."""
        if parent_keys is None:
            return None, None
        if column_index == index:
            return self.chain.counts(column_index, parent_keys[0])
        if self.chain.parents[column_index] == index:
            closed = before + [parts[0][1] + parts[0][2]]
            return self.chain.counts(column_index, self.chain.key(column_index, closed))
        return self.chain.counts(column_index, parent_keys[1])

    def _compute(self, index: int, partial: str, before: list[str] | None = None, parent_keys=None):
        candidates = self._candidates.get((index, partial))
        if candidates is None:
            candidates = self._candidates[(index, partial)] = self._find_candidates(index, partial)
        if not candidates:
            return None
        ids, values = [], []
        decided = self._decided(index, partial)  # only the support is enforced from here on
        for token, parts in candidates:
            if self.train_values_only and any(self.columns[c].unseen(p, t, e) for c, p, t, e in parts):
                ids.append(token)
                values.append(UNSEEN_BIAS)
                continue
            total = 0.0
            for column_index, field_partial, continuation, ends in parts:
                if not (decided and column_index == index):
                    target, generated = self._counts(column_index, index, before, parts, parent_keys)
                    total += self.columns[column_index].log_ratio(field_partial, continuation, ends, target,
                                                                  generated)
            ids.append(token)
            values.append(self.strength * total)
        values = np.asarray(values, dtype=np.float32)
        if not np.any(values):
            return None
        return np.asarray(ids, dtype=np.intc), values

    def _decided(self, index: int, partial: str) -> bool:
        key = (index, partial)
        if key not in self._decided_at:
            self._decided_at[key] = self.columns[index].decided(partial)
        return self._decided_at[key]

    def _find_candidates(self, index: int, partial: str) -> list[tuple[int, tuple]]:
        """Tokens that decide something about field ``index`` after ``partial``, each with the (column, field
        text so far, continuation, ends) parts it decides."""
        found: dict[int, tuple] = {}
        if not self._decided(index, partial) or self.train_values_only:
            self._field_candidates(index, partial, found)
        self._next_field_openers(index, partial, found)
        return list(found.items())

    def _field_candidates(self, index: int, partial: str, found: dict) -> None:
        """Tokens inside the open field, closing it, or closing it and opening the next one at a train value."""
        column = self.columns[index]
        last = index == len(self.columns) - 1
        for value in column.starting_with(partial):
            rest = value[len(partial):]
            for k in range(1, len(rest) + 1):  # tokens inside the field
                token = self.pieces.get(rest[:k].encode())
                if token is not None:
                    found.setdefault(token, ((index, partial, rest[:k], False),))
            # tokens that close the field here (and may open the next one)
            closing = rest + ("\n" if last else ",")
            token = self.pieces.get(closing.encode())
            if token is not None:
                found.setdefault(token, ((index, partial, rest, True),))
            if not last:
                nxt = self.columns[index + 1]
                for opener in nxt.openers:
                    token = self.pieces.get((closing + opener).encode())
                    if token is not None:
                        parts = ((index, partial, rest, True),)
                        if not nxt.decided(""):
                            parts += ((index + 1, "", opener, False),)
                        found.setdefault(token, parts)
        for char in column.alphabet:  # single characters, wherever train has values with them or not
            token = self.pieces.get(char.encode())
            if token is not None:
                found.setdefault(token, ((index, partial, char, False),))
        token = self.pieces.get(("\n" if last else ",").encode())  # closing the field right here
        if partial and token is not None:
            found.setdefault(token, ((index, partial, "", True),))

    def _next_field_openers(self, index: int, partial: str, found: dict) -> None:
        """Tokens that close the open field right here and begin the next (categorical) field's level, such as
        Qwen's ",M" or ",F" (SmolLM2 has none: its comma is always a token of its own). Looked up wherever the field
        may close, also past its decided bin or off train's support (a numeric value no train row shows), where no
        other candidate is: without them the next level would be written unsteered (Qwen2.5-Coder-1.5B wrote breast
        cancer's diagnosis, the column after 30 numeric ones, M in 65-73% of rows against train's 37% at strength 8)."""
        if not partial or index + 1 >= len(self.columns):
            return
        nxt = self.columns[index + 1]
        if nxt.decided(""):
            return
        for opener in nxt.openers:
            token = self.pieces.get(("," + opener).encode())
            if token is not None:
                found.setdefault(token, ((index, partial, "", True), (index + 1, "", opener, False)))



def pull_without_model(settings: SteeringSettings, spec: DatasetSpec, train: pd.DataFrame, n: int,
                       rng: np.random.Generator) -> pd.DataFrame:
    """The steering's pull with the model replaced by train's own marginals (the ``steered-<recipe>`` baseline):
    row by row, each column's bin (level, or numeric quantile bin as the steering cuts it) is drawn with
    probability ~ target x (target / running)^strength, the same pull the decoder adds to the model's logits, and
    its value from the train rows in that bin. The columns are independent, except that with ``conditional`` the
    target and the running counts are those of the column's parent bin (so the chain's pairs are train's). What the
    recipe's table scores above this, the model added; a table at or below it owes its scores to the pull."""
    strength = settings.strength
    texts = value_texts(train, spec)
    columns = [ColumnCounts(col, t, settings.bins) for col, t in zip(spec.columns, texts)]
    chain = Chain(spec, texts) if settings.conditional else None
    codes = [np.array([column.bin_of[t] for t in column_texts]) for column, column_texts in zip(columns, texts)]
    pools: list[dict] = [{} for _ in spec.columns]  # column -> parent key (None: all rows) -> bin -> positions
    for j, column_codes in enumerate(codes):
        keys = [None] * len(train) if chain is None or chain.parents[j] is None else \
            [chain.key_of(j, t) for t in texts[chain.parents[j]]]
        for i, (key, code) in enumerate(zip(keys, column_codes)):
            pools[j].setdefault(key, {}).setdefault(int(code), []).append(i)
            if key is not None:  # the marginal pool holds every row
                pools[j].setdefault(None, {}).setdefault(int(code), []).append(i)
    generated: list[dict] = [{} for _ in spec.columns]  # column -> parent key -> bin -> count
    picks = np.zeros((n, len(spec.columns)), dtype=np.int64)
    for r in range(n):
        fields: list[str] = []
        for j in range(len(spec.columns)):
            key = chain.key(j, fields) if chain is not None else None
            pool = pools[j][key]
            bins_here = sorted(pool)
            target = np.array([len(pool[b]) for b in bins_here], dtype=float)
            target /= target.sum()
            counts = generated[j].setdefault(key, {})
            made = np.array([counts.get(b, 0) for b in bins_here], dtype=float)
            running = (made + PSEUDO_ROWS * target) / (made.sum() + PSEUDO_ROWS)
            weight = target * np.exp(strength * (np.log(np.maximum(target, FLOOR)) - np.log(np.maximum(running, FLOOR))))
            b = bins_here[int(rng.choice(len(bins_here), p=weight / weight.sum()))]
            members = pool[b]
            i = int(members[rng.integers(len(members))])
            picks[r, j] = i
            fields.append(texts[j][i])
            counts[b] = counts.get(b, 0) + 1
    return pd.DataFrame({c.name: train[c.name].to_numpy()[picks[:, j]] for j, c in enumerate(spec.columns)})
