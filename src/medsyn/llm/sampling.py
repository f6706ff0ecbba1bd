"""llama.cpp's native samplers for the decoder: the sampler chain of a call, its grammar, and the candidate arrays
that check one token against a grammar or sample from logits that are not the context's. Also the decoder's own
``llama_batch``. No Python loop over the vocabulary anywhere here.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

from medsyn.errors import GenerationError


class TokenBatch:
    """A ``llama_batch`` this decoder owns: up to ``capacity`` tokens of up to ``n_seq`` sequences."""

    def __init__(self, lc, capacity: int, n_seq: int):
        self.lc = lc
        self.capacity = capacity
        self.batch = lc.llama_batch_init(capacity, 0, n_seq)

    def clear(self) -> None:
        self.batch.n_tokens = 0

    def add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        j = self.batch.n_tokens
        b = self.batch
        b.token[j], b.pos[j], b.seq_id[j][0], b.n_seq_id[j], b.logits[j] = token, pos, seq, 1, logits
        b.n_tokens = j + 1
        return j

    def close(self) -> None:
        if self.batch is not None:
            self.lc.llama_batch_free(self.batch)
            self.batch = None


class Samplers:
    """Builds the samplers of one group of calls and owns the candidate buffers they are applied to."""

    def __init__(self, backend, settings, grammar_text: str | None):
        self.b = backend
        self.lc = backend.lc
        self.s = settings
        self.grammar_text = grammar_text
        # one-token candidate array: checks the sampled token against the grammar without touching the vocabulary
        self._one = (self.lc.llama_token_data * 1)()
        self._one_array = self.lc.llama_token_data_array(self._one, 1, -1, False)
        self._all = None  # full-vocabulary candidate array, built on first use
        # the grammar's candidates: tokens it could ever accept; the others would only be set to -inf by it
        self._grammar_ids = backend.grammar_candidates(grammar_text) if grammar_text else None
        self._some = None  # candidate array over _grammar_ids, built on first use

    def chain(self, seed: int):
        """llama.cpp's native sampler chain, in llama-cpp-python's order (penalties, top-k, typical, top-p, min-p,
        temperature, dist with the call's seed): no Python logits processing."""
        lc, s = self.lc, self.s
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if s.repeat_penalty != 1.0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_penalties(self.b.n_vocab, 64, s.repeat_penalty,
                                                                               0.0, 0.0))
        if s.temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
            return chain
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_k(s.top_k))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_typical(1.0, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(s.top_p, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_min_p(s.min_p, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(s.temperature))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        return chain

    def grammar(self):
        if not self.grammar_text:
            return None
        grammar = self.lc.llama_sampler_init_grammar(self.b.vocab, self.grammar_text.encode("utf-8"), b"root")
        if not grammar:
            raise GenerationError("llama.cpp could not parse the grammar")
        return grammar

    def allows(self, grammar, token: int) -> bool:
        """Whether the grammar accepts ``token`` next: applied to a one-candidate array, not the whole vocabulary."""
        one, one_array = self._one, self._one_array
        one[0].id, one[0].logit, one[0].p = token, 1.0, 0.0
        one_array.size, one_array.selected, one_array.sorted = 1, -1, False
        self.lc.llama_sampler_apply(grammar, ctypes.byref(one_array))
        return one[0].logit != -math.inf

    @staticmethod
    def _array(lc, ids: np.ndarray):
        data = (lc.llama_token_data * len(ids))()
        view = np.ctypeslib.as_array(data).view(np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)]))
        return data, view, ids

    def sample_array(self, chain, grammar, logits: np.ndarray) -> int:
        """Sample from a candidate array of ``logits``: through the grammar (if given), then the chain. Used where
        the logits are not the context's (the prompt's, a row start's) and when the grammar rejected the token the
        chain sampled. With a grammar, the array holds only the tokens the grammar could ever accept (a few
        thousand, not the vocabulary): the grammar would set every other token to -inf, which no sampler of the
        chain ever picks, so the same distribution is sampled at a fraction of the grammar's cost."""
        lc = self.lc
        if grammar is not None and self._grammar_ids is not None:
            if self._some is None:
                self._some = self._array(lc, self._grammar_ids)
            data, view, ids = self._some
            view["logit"] = logits[ids]
        else:
            if self._all is None:
                self._all = self._array(lc, np.arange(self.b.n_vocab, dtype=np.intc))
            data, view, ids = self._all
            view["logit"] = logits
        view["id"] = ids
        view["p"] = 0.0
        array = lc.llama_token_data_array(data, len(ids), -1, False)
        if grammar is not None:
            lc.llama_sampler_apply(grammar, ctypes.byref(array))
        lc.llama_sampler_apply(chain, ctypes.byref(array))
        if array.selected < 0:
            raise GenerationError("the grammar allows no token here")
        return int(array.data[array.selected].id)
