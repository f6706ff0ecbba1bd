"""An echoed prompt: raw text that holds the prompt itself, its instruction lines and its example block.

Scripts that decode prompt plus completion write the prompt into the output, often once per generation. The rows
inside such an echo are the prompt's, not the model's: they are counted as ``prompt_echo``, never as copies the
model made.

An echo is found by aligning the text's lines, in order, with the prompt's lines (whitespace-normalised, chat role
prefixes and inline chat markup removed): a run of consecutive non-blank lines that equals a run of consecutive
prompt lines is an echo when it holds at least two of the prompt's instruction lines (lines that are not rows), or
all of them when the prompt has fewer. Each prompt line is used once per echo, so when a model repeats the examples
right after an echoed prompt, those repeats are the model's copies. A last line cut off inside a prompt line
(a text truncated mid-echo) still belongs to the echo.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from medsyn.parse.formats import Segment, normalize_line

_ROLE = re.compile(r"^\s*(?:(?:GPT4\s+(?:Correct\s+)?)?(?:system|user|assistant|human|model)\s*:\s*)", re.I)
MIN_INSTRUCTION_LINES = 2
_MIN_CUT = 10  # characters a cut-off last line must have to count as a truncated prompt line


def echo_key(text: str) -> str:
    return normalize_line(_ROLE.sub("", text))


class EchoFinder:
    """Finds echoes of one prompt; ``is_row`` tells which prompt lines are rows (the rest are instructions)."""

    def __init__(self, prompt_text: str, is_row: Callable[[str], bool]):
        self.lines = [k for k in (echo_key(line) for line in prompt_text.splitlines()) if k]
        self.instruction = [not is_row(line) for line in self.lines]
        self.needed = min(MIN_INSTRUCTION_LINES, sum(self.instruction))
        self.starts: dict[str, list[int]] = {}
        for k, line in enumerate(self.lines):
            self.starts.setdefault(line, []).append(k)

    def spans(self, segments: list[Segment]) -> set[int]:
        """Indices of the segments that lie inside an echoed prompt (blank ones between its lines included)."""
        if not self.lines or self.needed == 0:
            return set()
        texts = [(i, echo_key(s.text)) for i, s in enumerate(segments) if s.text.strip()]
        inside: set[int] = set()
        j = 0
        while j < len(texts):
            end = self._longest_echo(texts, j)
            if end is None:
                j += 1
                continue
            inside.update(range(texts[j][0], texts[end - 1][0] + 1))
            j = end
        return inside

    def _longest_echo(self, texts: list[tuple[int, str]], j: int) -> int | None:
        """The end (exclusive, in ``texts``) of the longest echo starting at ``texts[j]``, or None."""
        best = None
        for k0 in self.starts.get(texts[j][1], ()):
            k, end = k0, j
            while end < len(texts) and k < len(self.lines) and texts[end][1] == self.lines[k]:
                end, k = end + 1, k + 1
            cut = end == len(texts) - 1 and k < len(self.lines)
            if cut and len(texts[end][1]) >= _MIN_CUT and self.lines[k].startswith(texts[end][1]):
                end, k = end + 1, k + 1  # the text ends inside this prompt line
            if sum(self.instruction[k0:k]) >= self.needed and (best is None or end > best):
                best = end
        return best
