"""Answers a self-check can test without holding them: salted SHA-256 digests.

The notebook imports its set's check module, so an expected value kept there (or a
function computing it) for a question whose answer *is* a value is an answer a learner
could hand back. Such a module stores ``seal(salt, canonical answer)`` instead and hashes
candidates near the learner's answer to find where the right one lies, so feedback can
still say which way and roughly how far, never the value.

Floats are sealed as their cell on a log grid of step ``rel``: an answer in the right cell
or a neighbour passes (tolerance between ``rel`` and ``2·rel``). Ints are searched by
exact offsets. Trade-off: a digest of a simulation's result goes stale when the engine
changes; the tests that check the engine's own answer is accepted catch that.
"""

from __future__ import annotations

import math
import numbers

from razorlab.grading.selfcheck import digest, near, size_class

__all__ = ["float_cell", "int_offset", "near_sealed", "seal"]

_SEARCH_FACTOR = 1_000.0  # floats are searched up to this factor either way


def seal(salt: str, value: object) -> str:
    """Salted digest of ``value``'s repr (canonicalise sets and floats first)."""
    return digest(f"{salt}|{value!r}")


def float_cell(x: float, rel: float) -> int:
    """The cell of ``x`` (> 0) on a log grid of step ``1 + rel``."""
    return math.floor(math.log(x) / math.log1p(rel))


def int_offset(answer: int, sealed: str, salt: str, span: int) -> int | None:
    """``right - answer`` when the sealed int is within ``span`` of ``answer``, else None."""
    for off in sorted(range(-span, span + 1), key=abs):
        if seal(salt, answer + off) == sealed:
            return off
    return None


def near_sealed(answer: object, sealed: str, salt: str, *, rel: float, what: str) -> str | None:
    """:func:`near` against a target known only as ``seal(salt, float_cell(target, rel))``."""
    if (
        isinstance(answer, bool)
        or not isinstance(answer, numbers.Real)
        or not math.isfinite(answer)
    ):
        return f"{what} should be a finite number, got {answer!r}."
    if answer <= 0:
        return f"{what} is {'zero' if answer == 0 else 'negative'}; re-check each input."
    cell = float_cell(float(answer), rel)
    span = math.ceil(math.log(_SEARCH_FACTOR) / math.log1p(rel))
    for off in sorted(range(-span, span + 1), key=abs):
        if seal(salt, cell + off) == sealed:
            if abs(off) <= 1:
                return None
            return near(answer, answer * (1 + rel) ** off, rel=rel, what=what)
    return f"{what} is off {size_class(_SEARCH_FACTOR)}."
