"""Self-checks for the ``gateway_fleet`` exercises (Round 2, "From one process to a fleet").

Expected values come from the engines: q2's admissions from real
:class:`~razorlab.infra.ratelimit.RateLimiter` buckets on a manual clock, q1's and q3's from
the arithmetic the chapter does with its measured unit costs. Messages say what is off and
hint at why; they never state the answer. The notebook imports this module, so it holds the
questions' inputs and the values for those inputs, never a function with an answer's
signature; the hidden tests compare with the instructor's solution.
"""

from __future__ import annotations

import math

from razorlab.clock import ManualClock
from razorlab.grading import near, question
from razorlab.infra.ratelimit import RateLimiter

SET = "gateway_fleet"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_TARGET_TPS = 1_000_000  # payments per second the fleet must serve at peak
Q1_CPU_MS_PER_PAYMENT = 10.0  # gateway CPU per sale (order + payment + capture), measured
Q1_UTILISATION = 0.6  # run cores at 60% so a lost zone's traffic fits on the rest
Q2_WORKERS = 4
Q2_BURST = 10  # each worker's in-process bucket: the merchant's whole burst
Q2_REQUESTS = 100  # arriving at one instant (no refill), spread round-robin over the workers
Q3_TARGET_TPS = 1_000_000
Q3_WRITES_PER_PAYMENT = 4  # durable commits per sale: order, intent, result, capture
Q3_COMMITS_PER_S = 1_600  # durable commits/s one primary sustained here, 8 connections


def q1_expected() -> int:
    """Cores for Q1's target: CPU seconds per second over the utilisation, rounded up."""
    return math.ceil(Q1_TARGET_TPS * Q1_CPU_MS_PER_PAYMENT / 1000 / Q1_UTILISATION)


def admitted_by_engine(workers: int, burst: int, requests: int) -> int:
    """How many of ``requests`` simultaneous requests N in-process limiters admit."""
    clock = ManualClock(start=0.0)
    limiters = [RateLimiter(clock, rate_per_s=1.0, burst=burst) for _ in range(workers)]
    return sum(limiters[i % workers].try_acquire("m").allowed for i in range(requests))


def q3_expected() -> int:
    """Primaries whose commit rate covers Q3's writes, rounded up."""
    return math.ceil(Q3_TARGET_TPS * Q3_WRITES_PER_PAYMENT / Q3_COMMITS_PER_S)


def _value(answer: object, *args: object) -> object:
    """Answers may be the learner's function (called with the question's inputs) or a value."""
    return answer(*args) if callable(answer) else answer


def _whole(answer: object, what: str) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        return f"{what} is a whole number; got {answer!r} (round up: a part core is a core)."
    return None


@question(SET, "q1", covers="other targets, CPU costs and utilisations; rounding up")
def _q1(answer: object) -> str | None:
    answer = _value(answer, Q1_TARGET_TPS, Q1_CPU_MS_PER_PAYMENT, Q1_UTILISATION)
    target = q1_expected()
    if isinstance(answer, int | float) and not isinstance(answer, bool) and answer > 0:
        if abs(answer / target - Q1_UTILISATION) < 0.01:
            return "that fleet runs at 100%: leave the headroom the utilisation asks for."
    return _whole(answer, "a number of cores") or near(answer, target, rel=0.001, what="cores")


@question(SET, "q2", covers="one worker, more workers than requests, bursts larger than the share")
def _q2(answer: object) -> str | None:
    answer = _value(answer, Q2_WORKERS, Q2_BURST, Q2_REQUESTS)
    problem = _whole(answer, "a count of requests")
    if problem:
        return problem
    target = admitted_by_engine(Q2_WORKERS, Q2_BURST, Q2_REQUESTS)
    if answer == Q2_BURST:
        return "that is what one shared bucket admits; these workers each hold their own."
    if answer != target:
        return "not what the buckets admit: how many requests reach each worker, and its cap?"
    return None


@question(SET, "q3", covers="other targets, writes per payment and commit rates; rounding up")
def _q3(answer: object) -> str | None:
    answer = _value(answer, Q3_TARGET_TPS, Q3_WRITES_PER_PAYMENT, Q3_COMMITS_PER_S)
    return _whole(answer, "a number of primaries") or near(
        answer, q3_expected(), rel=0.001, what="primaries"
    )
