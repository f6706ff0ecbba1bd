"""The grammar's row language as a byte automaton: where the grammar leaves exactly one way to go on.

``medsyn.grammar.spec_to_gbnf`` writes a row as the columns' alternatives joined by ``,`` and ended by ``\\n``; each
alternative is a fixed sequence of byte classes (a level's bytes, a number's digit classes, the point, the sign,
``NA``). This module reads the same alternatives (``medsyn.grammar.column_alternatives``, the one source of both)
and follows a row byte by byte. ``forced(state)`` is the text the grammar allows as the only continuation: the
separator after a value that cannot go on, the ``0.`` every value of a column in [0, 1) starts with, the rest of a
level once its first bytes single it out. The decoder appends those bytes' tokens to the next decode instead of
sampling them one step each (jump-forward decoding); it never forces past a row's line break, where the recipes
act.

States are small integers; transitions and forced texts are computed once per state and kept, so following a token
costs a dictionary lookup per byte.
"""

from __future__ import annotations

from medsyn.grammar import column_alternatives
from medsyn.spec import DatasetSpec

DEAD = -1  # a byte the language does not allow: nothing is forced from here on (the grammar sampler decides)
NEWLINE = ord("\n")
SEPARATOR = ord(",")


class RowLanguage:
    """Follows rows of one row spec. A state is (column, the set of (alternative, position) still possible)."""

    def __init__(self, spec: DatasetSpec):
        self.columns = [column_alternatives(column) for column in spec.columns]
        self._keys: list[tuple[int, frozenset]] = []
        self._ids: dict[tuple[int, frozenset], int] = {}
        self._next: list[dict[int, int]] = []
        self._forced: list[bytes | None] = []
        self.start = self._state(0, self._column_start(0))

    def _column_start(self, column: int) -> frozenset:
        return frozenset((alt, 0) for alt in range(len(self.columns[column])))

    def _state(self, column: int, live: frozenset) -> int:
        key = (column, live)
        state = self._ids.get(key)
        if state is None:
            state = self._ids[key] = len(self._keys)
            self._keys.append(key)
            self._next.append({})
            self._forced.append(None)
        return state

    def _step(self, state: int, byte: int) -> int:
        column, live = self._keys[state]
        alternatives = self.columns[column]
        last = column == len(self.columns) - 1
        moved = frozenset((alt, pos + 1) for alt, pos in live
                          if pos < len(alternatives[alt]) and byte in alternatives[alt][pos])
        if moved:
            return self._state(column, moved)
        ended = any(pos == len(alternatives[alt]) for alt, pos in live)
        if ended and byte == (NEWLINE if last else SEPARATOR):
            return self.start if last else self._state(column + 1, self._column_start(column + 1))
        return DEAD

    def advance(self, state: int, data: bytes) -> int:
        """The state after ``data`` (DEAD once a byte is outside the language); a line break starts the next row."""
        for byte in data:
            if state == DEAD:
                return DEAD
            nxt = self._next[state].get(byte)
            if nxt is None:
                nxt = self._next[state][byte] = self._step(state, byte)
            state = nxt
        return state

    def allowed(self, state: int) -> set[int]:
        """The bytes the language allows next."""
        if state == DEAD:
            return set()
        column, live = self._keys[state]
        alternatives = self.columns[column]
        out: set[int] = set()
        for alt, pos in live:
            if pos < len(alternatives[alt]):
                out |= alternatives[alt][pos]
            else:
                out.add(NEWLINE if column == len(self.columns) - 1 else SEPARATOR)
        return out

    def forced(self, state: int) -> bytes:
        """The bytes that must come next, up to the first choice or the row's line break (inclusive); b'' if none.
        Never ends inside a UTF-8 character (a level's multi-byte letter is forced whole or not at all)."""
        if state == DEAD:
            return b""
        text = self._forced[state]
        if text is None:
            out = bytearray()
            current = state
            while True:
                allowed = self.allowed(current)
                if len(allowed) != 1:
                    break
                (byte,) = allowed
                out.append(byte)
                if byte == NEWLINE:
                    break
                current = self.advance(current, bytes([byte]))
            text = self._forced[state] = _whole_characters(bytes(out))
        return text


def _whole_characters(data: bytes) -> bytes:
    """``data`` without a trailing incomplete UTF-8 sequence."""
    for cut in range(len(data), max(len(data) - 4, -1), -1):
        try:
            data[:cut].decode("utf-8")
            return data[:cut]
        except UnicodeDecodeError:
            continue
    return b""
