"""Self-checks for ``solutions/round3_go_runtime/02_memory_gc_exercises.ipynb``.

Expected values come from the memory, GC pacer and tri-colour models in
``razorlab.goruntime`` (calibrated against Go 1.19), never from hard-coded numbers
(q4 and q5, answered with values, are sealed digests of the models' values: the tests
recompute them and say when they go stale).

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs (``qN_expected``) of questions answered with a function, never a function
with an answer's signature; the hidden tests compare with the instructor's solution.
"""

from __future__ import annotations

from collections.abc import Callable

from razorlab.goruntime import (
    MIB,
    Write,
    goroutine_bytes,
    heap_goal,
)
from razorlab.grading.checks._sealed import near_sealed, seal
from razorlab.grading.selfcheck import call_answer, near, question

SET = "go_memory_gc"

Q1_N, Q1_FRAMES = 10**6, 3000
Q2_N = 10**12
Q3_ARGS = (200.0, 8.0, 100, None, 0.0)  # live MiB, roots MiB, GOGC, limit MiB, non-heap MiB
Q4_LIVE_MIB, Q4_ALLOC_MIB_S = 200, 1500
Q5_HEAP: dict[str, dict[str, str | None]] = {
    "root": {"a": "A", "b": "B"},
    "A": {"next": None},
    "B": {"next": "C"},
    "C": {"next": "E"},
    "E": {},
    "F": {},
}
Q5_ROOTS = ["root"]
Q5_WRITES = [Write(3, "A", "next", "C"), Write(3, "B", "next", None)]


# ---- expected values for the question's own inputs, from the models ----------------
# (values, not functions with the answers' signatures: ``mg`` is imported by the notebook)
def q3_expected() -> float:
    """The heap goal (MiB) for ``Q3_ARGS``, by the pacer's ``heap_goal``."""
    live, roots, gogc, limit_mib, non_heap_mib = Q3_ARGS
    goal = heap_goal(
        live * MIB,
        gogc=gogc,
        roots_bytes=roots * MIB,
        memory_limit_bytes=None if limit_mib is None else limit_mib * MIB,
        non_heap_bytes=non_heap_mib * MIB,
    )
    return goal / MIB


# q4 and q5 are answered with a value, so their values are sealed (see ``_sealed``): the
# GOGC=100 / GOGC=200 cycle ratio of the q4 workload from ``simulate_gc`` (rel 3%), and
# the sorted names the q5 writes lose with no barrier (from ``mark``).
_Q4_REL = 0.03
_Q4_SEALED = "5bfbee0227c4434b456a0fe6318489e3"
_Q5_SEALED = "262db5d382f159a1c07b2d69f87a7480"


@question(
    SET,
    "q1",
    covers="no frames, frames at the 2 KiB and 4 KiB edges, 10 KB, one goroutine, a billion; drawn",
)
def _q1(fn: Callable[[int, int], float]) -> str | None:
    got, problem = call_answer(fn, Q1_N, Q1_FRAMES)
    if problem:
        return problem
    expected = goroutine_bytes(Q1_N, stack_used_bytes=Q1_FRAMES)
    hint = near(got, expected, rel=0.01, what="the bytes")
    if hint and isinstance(got, int | float) and abs(got / expected - 0.49) < 0.05:
        return "the frames plus the guard area do not fit in 4 KiB: the stack doubles again."
    return hint


@question(SET, "q2", covers="a million, a billion, a trillion and a drawn number of goroutines")
def _q2(fn: Callable[[int], float]) -> str | None:
    got, problem = call_answer(fn, Q2_N)
    if problem:
        return problem
    hint = near(got, 2048 * Q2_N / 2**50, rel=0.01, what="PiB")
    if hint and isinstance(got, int | float) and 900 < got / (2048 * Q2_N / 2**50) < 1200:
        return "that looks like TiB: a PiB is 2**50 bytes."
    return hint


@question(
    SET,
    "q3",
    covers="GOGC off, a limit below the live heap, a tiny heap (4 MiB floor), drawn settings",
)
def _q3(fn: Callable[..., float]) -> str | None:
    got, problem = call_answer(fn, *Q3_ARGS)
    if problem:
        return problem
    hint = near(got, q3_expected(), rel=0.001, what="the heap goal (MiB)")
    if hint and isinstance(got, int | float) and abs(got - 400) < 1:
        return "GC roots (stacks, globals) count toward the goal since Go 1.18."
    return hint


@question(SET, "q4", covers="the ratio computed with simulate_gc on the given workload")
def _q4(ratio: object) -> str | None:
    return near_sealed(ratio, _Q4_SEALED, f"{SET}/q4", rel=_Q4_REL, what="the cycle ratio")


@question(SET, "q5", covers="the answer is a set, and which objects it holds")
def _q5(lost: object) -> str | None:
    if not isinstance(lost, set | frozenset):
        return f"answer with a set of names, e.g. {{'X'}}, got {type(lost).__name__}."
    if seal(f"{SET}/q5", sorted(map(str, lost))) == _Q5_SEALED:
        return None
    if "F" in lost:
        return "F was never reachable: freeing it is correct, not a loss."
    return "not quite: follow what the marker can still reach after each write."
