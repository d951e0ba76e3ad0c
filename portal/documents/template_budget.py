"""Budgets for rendering an administrator's result template: time, and the size of what one expression makes.

Jinja's sandbox keeps a template away from Python internals and caps `range()`, but a template can still loop
without end in effect (nested loops over long ranges) or build a gigantic string (`'x' * 10**9`). The result is
rendered by a worker when the leader's approval commits and by the administrator's preview on a request: neither
may hang or exhaust memory because of a template. So the render is watched by a trace function that stops it once
RESULT_TEMPLATE_SECONDS have passed (only the template's own frames are traced line by line: the cost stays
small), and the sandbox refuses a repetition or power whose result would be larger than MAX_PRODUCT.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, TypeVar

from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

T = TypeVar("T")
TEMPLATE_FILENAME = "<template>"  # Jinja's name for the code of a template made from a string
MAX_PRODUCT = 100_000  # items (or characters) one `*` may produce; digits one `**` may produce
MAX_OUTPUT = 1_000_000  # characters of rendered body


class TooSlow(BaseException):
    """The template ran past its time budget (a BaseException: no `except Exception` on the way swallows it)."""


class TooLarge(Exception):
    """The template makes more than a result document can hold."""


def within(seconds: float, render: Callable[[], T]) -> T:
    """`render()`, stopped with TooSlow once `seconds` have passed, checked on every line of template code.

    Only the template's own frames raise: Python unsets a trace function that raises, so an exception swallowed
    elsewhere (a garbage-collector callback, a library's `except Exception`) would end the watch while the loop
    went on."""
    deadline = time.monotonic() + seconds

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise TooSlow
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return on_line if frame.f_code.co_filename == TEMPLATE_FILENAME else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return render()
    finally:
        sys.settrace(previous)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with `*` and `**` checked before they run: sequences repeated and powers raised only as far as a
    document needs."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**" and _too_big_power(left, right):
            raise TooLarge
        return super().call_binop(context, operator, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """Refuse (rather than silently empty) an attribute the sandbox considers unsafe, such as `__class__`."""
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")


def _check_repeat(sequence: Any, times: Any) -> None:
    repeatable = isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int)
    if repeatable and max(len(sequence), 1) * times > MAX_PRODUCT:
        raise TooLarge


def _too_big_power(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        return False
    magnitude = abs(base)
    if magnitude <= 1:
        return False
    digits = exponent * (len(str(int(magnitude))) if isinstance(magnitude, int) else 1)
    return digits > MAX_PRODUCT or exponent > MAX_PRODUCT


def bounded_text(parts: Iterable[str]) -> str:
    """The rendered pieces joined, refused with TooLarge as soon as they pass MAX_OUTPUT characters (before they
    fill the memory)."""
    kept: list[str] = []
    size = 0
    for part in parts:
        size += len(part)
        if size > MAX_OUTPUT:
            raise TooLarge
        kept.append(part)
    return "".join(kept)
