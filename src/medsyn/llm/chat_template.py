"""Chat templates from GGUF files, rendered in a sandbox, and the prompt text a model is given.

Templates come from model files, which are untrusted input: they are rendered in Jinja2's immutable sandbox with
caps on output size and time. Chat models get their GGUF's own template; base models get plain completion text.
"""

from __future__ import annotations

import contextlib
import datetime
import signal
import threading
import time
from typing import TYPE_CHECKING

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from medsyn.errors import ModelError

if TYPE_CHECKING:
    from medsyn.prompts import PromptArtifact

MAX_TEMPLATE_OUTPUT = 1_000_000  # characters a chat template may produce (a real prompt is a few thousand)
MAX_TEMPLATE_SECONDS = 10.0


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no attribute of Python internals, no mutation of the arguments), plus limits on
    what could exhaust memory or CPU: huge repetitions (``'a' * 10**10``) and powers are refused."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            bits = left.bit_length() if isinstance(left, int) else 64
            if isinstance(right, (int, float)) and (abs(right) > 64 or bits * abs(right) > 4096):
                raise SecurityError(f"power ** {right} too large")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_TEMPLATE_OUTPUT:
                    raise SecurityError(f"repetition to {len(seq) * n:,} items exceeds {MAX_TEMPLATE_OUTPUT:,}")
        return super().call_binop(context, operator, left, right)


def render_chat_template(template: str, messages: list[dict], bos_token: str, eos_token: str) -> str:
    """Render a GGUF chat template in a sandbox: a template cannot reach Python internals or mutate objects,
    and its output is capped (MAX_TEMPLATE_OUTPUT characters, MAX_TEMPLATE_SECONDS). Any failure is a ModelError."""

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    def strftime_now(fmt: str) -> str:
        return datetime.datetime.now().strftime(fmt)

    env = TemplateSandbox(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
    deadline = time.perf_counter() + MAX_TEMPLATE_SECONDS
    try:
        with _time_limit(MAX_TEMPLATE_SECONDS):
            return _render_capped(env, template, deadline, messages=messages, bos_token=bos_token,
                                  eos_token=eos_token, add_generation_prompt=True, raise_exception=raise_exception,
                                  strftime_now=strftime_now, tools=None)
    except (jinja2.TemplateError, ArithmeticError, RecursionError, TypeError, ValueError, TimeoutError) as exc:
        # TemplateError includes the sandbox's SecurityError; OverflowError: range() beyond the sandbox's MAX_RANGE
        raise ModelError(f"the model's chat template failed to render: {type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def _time_limit(seconds: float):
    """SIGALRM after ``seconds`` (main thread only): a template looping without output cannot hang the job."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(f"rendering took longer than {seconds:.0f}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _render_capped(env, template: str, deadline: float, **variables) -> str:
    chunks, size = [], 0
    for chunk in env.from_string(template).generate(**variables):
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT:
            raise SecurityError(f"output longer than {MAX_TEMPLATE_OUTPUT:,} characters")
        if time.perf_counter() > deadline:
            raise SecurityError(f"rendering took longer than {MAX_TEMPLATE_SECONDS:.0f}s")
        chunks.append(chunk)
    return "".join(chunks)


def build_prompt_text(prompt: PromptArtifact, chat: str, template: str | None, bos: str, eos: str,
                      prefill: bool) -> str:
    messages = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
    if chat == "template":
        if not template:
            raise ModelError(
                "the model has no chat template (tokenizer.chat_template); set 'chat: completion' for base models"
            )
        text = render_chat_template(template, messages, bos, eos)
    elif chat == "completion":
        text = f"{prompt.system}\n\n{prompt.user}\n\n"
    else:
        raise ModelError(f"unknown chat handling {chat!r}; expected 'template' or 'completion'")
    return text + (prompt.prefill if prefill else "")
