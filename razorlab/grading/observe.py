"""What a hidden-tests cell does in the learner's kernel: observe, never judge.

A hidden-tests cell calls the learner's answer on inputs and hands each result to
:func:`observe`. Nothing in the kernel decides whether it is right: the grader runs the
instructor's solution notebook with the same cells and the same hidden seed in another
sandbox, and compares the two sets of observations in its own process (``judge.py``).

Design note
-----------
- **Why observations, not asserts.** Code in the learner's kernel can swallow exceptions
  (``set_custom_exc``), rewrite result registries or replace a reference function. A value is
  different: to forge the right value for an input drawn at grading time, the learner has to
  compute it, which is the exercise.
- **The channel.** While grading (``RAZORLAB_GRADING`` set by the grader), each observation is
  one stdout line ``RAZORLAB-OBSERVE:{json}`` of the hidden cell; the grader reads only the
  outputs of the cells it inserted. Outside grading (the solution's own nbval run, a learner
  opening the solution) :func:`observe` records in :data:`OBSERVED` and prints nothing, so stored
  outputs never hold a float's last bits.
- **Tolerances travel with the observation** but the grader only ever uses the reference
  run's, so a learner cannot widen them.
- **Values become JSON** (:func:`plain`): numbers, strings, lists, dicts, sets (sorted), enums
  (their value), dataclasses (their fields), dates (ISO); any other object becomes its type
  name and ``repr``.
- :func:`attempt` turns an exception into an observable ``{"raised": "TypeError"}`` so one bad
  input does not hide the other observations of the cell.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import enum
import json
import math
import os
import random
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "GRADING_ENV",
    "SEED_ENV",
    "MARK",
    "OBSERVED",
    "plain",
    "observe",
    "attempt",
    "hidden_seed",
    "hidden_rng",
    "run_hidden",
]

GRADING_ENV = "RAZORLAB_GRADING"
SEED_ENV = "RAZORLAB_HIDDEN_SEED"
MARK = "RAZORLAB-OBSERVE:"
DEFAULT_SEED = 2026  # the solution's own run (nbval, a learner opening it) draws these inputs
#: Observations recorded outside grading, for tests of the hidden cells themselves.
OBSERVED: list[dict[str, Any]] = []


def plain(value: object) -> object:
    """``value`` as JSON-ready data (see the module note for each kind)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        return plain(value.item())  # a numpy scalar
    if hasattr(value, "tolist") and callable(value.tolist):
        return plain(value.tolist())  # a numpy array
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return {"type": type(value).__name__, "repr": repr(value)[:200]}


def observe(name: str, value: object, *, rel: float = 0.0, abs: float = 0.0) -> None:
    """Record what the learner's answer gave for the case ``name`` (with a numeric tolerance)."""
    record = {"name": str(name), "value": plain(value), "rel": float(rel), "abs": float(abs)}
    if os.environ.get(GRADING_ENV):
        print(MARK + json.dumps(record, ensure_ascii=False, sort_keys=True), flush=True)
    else:
        OBSERVED.append(record)


def attempt(fn: Callable[..., Any], *args: object, **kwargs: object) -> object:
    """``fn(*args, **kwargs)``, or ``{"raised": <exception name>}`` if it raises."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the learner's code may raise anything; that is an observation
        return {"raised": type(exc).__name__}


def hidden_seed() -> int:
    """The seed of this grading run's hidden inputs (drawn by the grader, recorded in reports)."""
    try:
        return int(os.environ.get(SEED_ENV, DEFAULT_SEED))
    except ValueError:
        return DEFAULT_SEED


def hidden_rng(salt: str = "") -> random.Random:
    """A generator for hidden inputs: same seed and salt, same inputs, in both runs."""
    return random.Random(f"{hidden_seed()}:{salt}")


async def run_hidden(source: str, namespace: dict[str, Any]) -> None:
    """Run a hidden cell's ``source`` against a *copy* of the learner's ``namespace``.

    The cell sees the learner's answers but cannot change them, and a learner's variable
    cannot change the cell's own names. Top-level ``await`` works as in a notebook cell.
    """
    code = compile(source, "<hidden tests>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    pending = eval(code, dict(namespace))
    if pending is not None:
        await pending
