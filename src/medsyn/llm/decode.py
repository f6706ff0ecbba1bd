"""Calls decoded together: N sequences of one llama.cpp batch, each with its own seed, sampler chain and grammar.

A batch of N tokens costs much less than N single-token decodes (the weights are read once per batch), so
sequences decoded together give more tokens per second. Every sequence starts from the same evaluated prompt
(its KV cells copied into the sequence's own stream), may add tokens of its own first (``Call.suffix``: the
call's example rows), and is then sampled token by token.

Sampling runs in llama.cpp's native sampler chain (penalties, top-k, typical, top-p, min-p, temperature, dist
with the call's seed). The grammar is checked against the token the chain sampled first (one candidate); only when
it rejects that token is the vocabulary constrained and sampled again (llama.cpp's own common_sampler does the
same), and then only the tokens made of the grammar's characters (``LlamaBackend.grammar_candidates``): every other
token would be set to -inf by the grammar, so leaving it out samples the same token at a fraction of the cost. With a repeat penalty the grammar constrains every token first, so the penalty's history never sees a
rejected token. After each line break the grammar is asked whether end of text is allowed; our grammars
(``spec_to_gbnf``: exactly ``rows_per_call`` rows) allow it only once every row is written, and then allow nothing
else, so the sequence stops there without sampling the forced end-of-text token.

Jump-forward (``language``, optional: a ``medsyn.row_language.RowLanguage``): where the grammar allows exactly one
continuation (a separator, a fixed digit, the decimal point, a level's remaining letters), those bytes' tokens are
accepted by the grammar and appended to the sampled token in the same ``llama_decode`` batch, with no logits and
no sampling step of their own. Forcing stops at a row's line break, where the row hooks act.

Row hooks (``RowHooks``, optional) act at row boundaries, for the generation recipes: text forced at the start of
a row (values drawn outside the model), a logit bias at the tokens that start a value (marginal steering), and a
judge of every completed row. A rejected row is rolled back in place (its KV cells removed, the grammar state
restored from a copy taken at the row start, the next token sampled again from the row start's logits) and
resampled, at most ``max_retries`` times; then the call ends before that row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from medsyn.errors import GenerationError
from medsyn.llm.sampling import Samplers, TokenBatch

NEWLINE = b"\n"


@dataclass
class Call:
    """One call of a group: its seed and the tokens it adds after the shared prompt (its own example rows)."""

    seed: int
    suffix: list[int] = field(default_factory=list)


@dataclass
class CallResult:
    text: str
    finish: str  # "stop" (rows complete or end of text), "length" (token budget), "retries" (novelty gave up)
    prompt_tokens: int
    completion_tokens: int  # tokens of the text kept
    decoded_tokens: int = 0  # every token evaluated for this call after the prompt: suffix, kept and rolled back
    forced_tokens: int = 0  # of the decoded tokens, those the grammar forced (jump-forward: no sampling step)
    rejected_rows: dict = field(default_factory=dict)  # row judge's reason -> rows rolled back


class RowLanguage(Protocol):
    """The grammar's rows as a byte automaton (``medsyn.row_language.RowLanguage``)."""

    start: int

    def advance(self, state: int, data: bytes) -> int: ...

    def forced(self, state: int) -> bytes: ...


class RowHooks(Protocol):
    """What the recipes do at row boundaries; ``seq`` is the index of the call in its group."""

    max_retries: int

    def row_prefix(self, seq: int) -> str:
        """Text forced at the start of the sequence's next row ('' for none)."""

    def steer(self, seq: int, row: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(token ids, logit biases) for the next token after the row's text so far, or None."""

    def judge(self, seq: int, row: str) -> str | None:
        """Why a completed row (without its line break) must be resampled, or None to keep it."""

    def accepted(self, seq: int, row: str) -> None:
        """A completed row was kept."""


@dataclass
class _Sequence:
    number: int  # its index in the group (its sequence id in llama.cpp)
    chain: object
    grammar: object
    grammar_first: bool
    pending: list = field(default_factory=list)  # tokens to evaluate before the next sample
    out: list = field(default_factory=list)
    pos: int = 0  # position of the next token in the sequence's stream
    index: int | None = None  # its entry in the last decoded batch (where its logits are)
    logits: np.ndarray | None = None  # logits to sample from when not in the last batch (copied or the prompt's)
    finish: str = "length"
    decoded: int = 0
    forced: int = 0
    lang: int = -1  # the row language's state after the tokens so far (jump-forward only)
    # row state, used with hooks only
    row: bytes = b""  # the current row's text so far
    row_begin: int = 0  # len(out) before the row (and its forced prefix)
    row_start: int = 0  # len(out) after the forced prefix: where a retry restarts
    row_pos: int = 0  # stream position matching row_start
    row_text0: bytes = b""  # the row's text at row_start (forced prefix, carried bytes)
    row_grammar: object = None  # grammar state at row_start (a llama_sampler_clone)
    row_logits: np.ndarray | None = None  # logits at row_start
    row_lang: int = -1  # the row language's state at row_start
    snapshot: bool = False  # take the row-start copies after the next decode
    retries: int = 0
    rejected: Counter = field(default_factory=Counter)


class BatchDecoder:
    """Decodes one group of calls. Owns its batch, candidate buffers, sampler chains and grammars."""

    def __init__(self, backend, settings, grammar_text: str | None, max_tokens: int, hooks: RowHooks | None = None,
                 language: RowLanguage | None = None):
        self.b = backend
        self.lc = backend.lc
        self.s = settings
        self.grammar_text = grammar_text
        self.max_tokens = max_tokens
        self.hooks = hooks
        self.language = language if grammar_text else None  # forcing follows the grammar: never without one
        self._forced_tokens: dict[bytes, list[int]] = {}
        self.eog = backend.eos_token
        self.samplers = Samplers(backend, settings, grammar_text)
        self._grammar_allows = self.samplers.allows
        self._sample_array = self.samplers.sample_array

    def _sample(self, seq: _Sequence) -> int:
        """The next token of ``seq``: from its logits in the last batch, or from its saved logits."""
        lc = self.lc
        bias = self.hooks.steer(seq.number, seq.row) if self.hooks is not None else None
        if seq.index is not None and not seq.grammar_first:
            if bias is not None:  # added in llama.cpp's own logits buffer: the native chain samples them
                ids, values = bias
                self.b.logits(seq.index)[ids] += values
            token = lc.llama_sampler_sample(seq.chain, self.b.ctx, seq.index)  # samples and accepts in llama.cpp
            logits = None
        else:
            logits = seq.logits if seq.index is None else self.b.logits(seq.index)
            if bias is not None:
                logits = logits.copy() if seq.index is None else logits  # never change the saved copies
                ids, values = bias
                logits[ids] += values
            token = self._sample_array(seq.chain, seq.grammar if seq.grammar_first else None, logits)
            lc.llama_sampler_accept(seq.chain, token)
        if seq.grammar is not None:
            if not seq.grammar_first and not self._grammar_allows(seq.grammar, token):
                if logits is None:
                    logits = self.b.logits(seq.index)
                token = self._sample_array(seq.chain, seq.grammar, logits)
            lc.llama_sampler_accept(seq.grammar, token)
        return token

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self, prompt_tokens: list[int], calls: list[Call]) -> list[CallResult]:
        if len(calls) > self.b.n_seq:
            raise GenerationError(f"{len(calls)} sequences asked for, the context was made for {self.b.n_seq}")
        prompt_logits = self.b.restore_prompt(prompt_tokens)
        for i in range(1, len(calls)):
            self.b.copy_sequence(0, i)  # whole stream: it holds just the prompt
        n_prompt = len(prompt_tokens)
        self.seqs: list[_Sequence] = []
        batch = TokenBatch(self.lc, self.b.n_batch, max(1, len(calls)))
        try:
            for number, call in enumerate(calls):
                grammar = self.samplers.grammar()
                # with a repeat penalty the chain must not see rejected tokens: the grammar then constrains first
                seq = _Sequence(number=number, chain=self.samplers.chain(call.seed), grammar=grammar,
                                grammar_first=grammar is not None and self.s.repeat_penalty != 1.0,
                                pending=list(call.suffix), pos=n_prompt, logits=prompt_logits,
                                decoded=len(call.suffix),
                                lang=self.language.start if self.language is not None else -1)
                self.seqs.append(seq)
                if self.hooks is not None:
                    self._start_row(seq)
            self._loop(batch)
        finally:
            batch.close()
            for seq in self.seqs:
                for sampler in (seq.grammar, seq.row_grammar, seq.chain):
                    if sampler is not None:
                        self.lc.llama_sampler_free(sampler)
        return [CallResult(text=self.b.detokenize(seq.out), finish=seq.finish,
                           prompt_tokens=n_prompt + len(call.suffix), completion_tokens=len(seq.out),
                           decoded_tokens=seq.decoded, forced_tokens=seq.forced, rejected_rows=dict(seq.rejected))
                for call, seq in zip(calls, self.seqs)]

    def _loop(self, batch: TokenBatch) -> None:
        active = list(range(len(self.seqs)))
        while active:
            feed: list[tuple[int, list[int]]] = []
            still = []
            for i in active:
                seq = self.seqs[i]
                if seq.pending:  # the call's own prompt tokens, or a forced row start: evaluate before sampling
                    feed.append((i, seq.pending))
                    seq.pending = []
                    still.append(i)
                    continue
                token = self._sample(seq)
                if self.b.is_end_of_generation(token):
                    seq.finish = "stop"
                    continue
                tokens = [token]
                piece = self.b.piece(token)
                if self.language is not None:
                    seq.lang = self.language.advance(seq.lang, piece)
                    if NEWLINE not in piece:  # never past a line break: the row hooks act there
                        piece += self._force(seq, tokens)
                seq.out.extend(tokens)
                seq.decoded += len(tokens)
                if self.hooks is not None:
                    seq.row += piece
                    if NEWLINE in piece:
                        action = self._row_completed(seq, tokens)
                        if action == "retry":  # nothing to evaluate: the next token comes from the row start
                            still.append(i)
                        elif action == "next":  # the line break, then the next row's forced start
                            feed.append((i, seq.pending))
                            seq.pending = []
                            still.append(i)
                        continue
                # after a line break: end of text allowed = every row written (our grammars then allow nothing else)
                elif seq.grammar is not None and self.eog >= 0 and NEWLINE in piece \
                        and self._grammar_allows(seq.grammar, self.eog):
                    seq.finish = "stop"
                    continue
                if len(seq.out) >= self.max_tokens:
                    continue
                feed.append((i, tokens))
                still.append(i)
            active = still
            if feed:
                self._evaluate(batch, feed)

    def _force(self, seq: _Sequence, tokens: list[int]) -> bytes:
        """Append to ``tokens`` the tokens of the text the grammar forces next (accepted by the grammar and the
        chain as if sampled); returns that text."""
        text = self.language.forced(seq.lang)
        if not text:
            return b""
        forced = self._forced_tokens.get(text)
        if forced is None:
            forced = self._forced_tokens[text] = self.b.tokens_of(text)
        for token in forced:
            if not self._grammar_allows(seq.grammar, token):  # the automaton and the grammar disagree: a bug
                raise GenerationError(f"the grammar refuses the forced text {text!r} (token {token}) after "
                                      f"{self.b.detokenize(seq.out[-20:])!r}")
            self.lc.llama_sampler_accept(seq.grammar, token)
            self.lc.llama_sampler_accept(seq.chain, token)
        tokens.extend(forced)
        seq.forced += len(forced)
        seq.lang = self.language.advance(seq.lang, text)
        return text

    def _evaluate(self, batch: TokenBatch, feed: list[tuple[int, list[int]]]) -> None:
        """Decode every sequence's new tokens, in batches of at most n_batch tokens, with logits for each
        sequence's last token. A sequence whose last token was in an earlier batch keeps a copy of its logits
        (the next llama_decode overwrites them)."""
        entries = [(i, t, k == len(tokens) - 1) for i, tokens in feed for k, t in enumerate(tokens)]
        for start in range(0, len(entries), batch.capacity):
            batch.clear()
            last = {}
            for i, token, is_last in entries[start:start + batch.capacity]:
                seq = self.seqs[i]
                j = batch.add(token, seq.pos, i, is_last)
                seq.pos += 1
                if is_last:
                    last[i] = j
            self.b.decode(batch.batch)
            final = start + batch.capacity >= len(entries)
            for i, j in last.items():
                seq = self.seqs[i]
                if final:
                    seq.index, seq.logits = j, None
                else:
                    seq.index, seq.logits = None, self.b.logits(j).copy()
                if seq.snapshot:
                    seq.row_logits = self.b.logits(j).copy() if seq.logits is None else seq.logits
                    seq.snapshot = False

    # -- rows (hooks only) -----------------------------------------------------------------------------------

    def _start_row(self, seq: _Sequence, carry: bytes = b"") -> None:
        """A row begins: force its drawn start (if any), then remember where a retry restarts.

        ``carry``: bytes of the row that came with the previous row's line-break token (then nothing is forced).
        """
        seq.row_begin = len(seq.out)
        seq.row = carry
        prefix = "" if carry else self.hooks.row_prefix(seq.number)
        if prefix:
            tokens = self.b.tokenize(prefix, add_bos=False)
            for token in tokens:
                if seq.grammar is not None:
                    if not self._grammar_allows(seq.grammar, token):
                        raise GenerationError(f"the grammar refuses the drawn row start {prefix!r}")
                    self.lc.llama_sampler_accept(seq.grammar, token)
                self.lc.llama_sampler_accept(seq.chain, token)
            seq.out.extend(tokens)
            seq.pending.extend(tokens)
            seq.decoded += len(tokens)
            seq.row += prefix.encode()
            if self.language is not None:
                seq.lang = self.language.advance(seq.lang, prefix.encode())
        if self.language is not None:  # the text forced after the drawn start (or at the row's first byte)
            forced: list[int] = []
            seq.row += self._force(seq, forced)
            seq.out.extend(forced)
            seq.pending.extend(forced)
            seq.decoded += len(forced)
        seq.row_start = len(seq.out)
        seq.row_pos = seq.pos + len(seq.pending)  # the stream position of the row's first sampled token
        seq.row_text0 = seq.row
        seq.row_lang = seq.lang
        if seq.row_grammar is not None:
            self.lc.llama_sampler_free(seq.row_grammar)
        seq.row_grammar = self.lc.llama_sampler_clone(seq.grammar) if seq.grammar is not None else None
        seq.retries = 0
        seq.snapshot = bool(seq.pending)  # the row start's logits come with the next decode
        if not seq.pending:
            seq.row_logits = seq.logits

    def _row_completed(self, seq: _Sequence, tokens: list[int]) -> str:
        """A line break was sampled: judge the row. Returns "next" (kept; the next row starts), "retry" (rolled
        back to the row start) or "end" (the call ends: every row written, budget spent, or retries used up)."""
        text, _, carry = seq.row.partition(NEWLINE)
        row = text.decode("utf-8", errors="replace")
        reason = self.hooks.judge(seq.number, row)
        if reason is not None:
            seq.rejected[reason] += 1
            if seq.retries >= self.hooks.max_retries:
                del seq.out[seq.row_begin:]  # the call ends before the row it could not make new
                seq.finish = "retries"
                return "end"
            self._roll_back(seq)
            return "retry"
        self.hooks.accepted(seq.number, row)
        if seq.grammar is not None and self.eog >= 0 and self._grammar_allows(seq.grammar, self.eog):
            seq.finish = "stop"  # every row written
            return "end"
        if len(seq.out) >= self.max_tokens:
            return "end"
        seq.pending = list(tokens)  # the line break (and what was forced with it) first, then the next row's start
        self._start_row(seq, carry)
        return "next"

    def _roll_back(self, seq: _Sequence) -> None:
        """Back to the row start: cells, tokens, grammar state and logits; the chain's random stream goes on."""
        seq.retries += 1
        del seq.out[seq.row_start:]
        self.b.remove_from(seq.number, seq.row_pos)
        seq.pos = seq.row_pos
        if seq.grammar is not None:
            self.lc.llama_sampler_free(seq.grammar)
            seq.grammar = self.lc.llama_sampler_clone(seq.row_grammar)
        seq.row = seq.row_text0
        seq.lang = seq.row_lang
        seq.index, seq.logits = None, seq.row_logits
