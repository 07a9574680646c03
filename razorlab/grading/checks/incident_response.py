"""Self-checks for the ``incident_response`` exercises (Round 3, "Handling a payment outage").

Expected values come from ``razorlab.ops.slo`` and ``razorlab.ops.incident``; messages
hint at the method and never state the answer.

The notebook imports this module, so it holds the questions' inputs, q1's values for its
own inputs (``q1_expected``), and sealed digests of the answers to q2-q4, which are values
(the tests recompute them from the engines and say when they go stale); never a function
with an answer's signature. The hidden tests compare with the instructor's solution.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from razorlab.grading import near, question
from razorlab.grading.checks._sealed import int_offset, seal
from razorlab.ops.incident import ACTIONS, FAULTS, Incident
from razorlab.ops.slo import SLO
from razorlab.rand import rng

SET = "incident_response"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_CASES = ((0.005, 0.999), (0.02, 0.999), (0.0005, 0.9999))  # (error ratio, SLO target)
Q2_RPM = 10_000
Q2_MINUTES = 400
Q2_BAD = (200, 260, 0.03)  # errors from minute 200 up to (not incl.) 260 at 3%
Q3_SEED = 2026
Q4_SEED = 42
Q4_ACKS = (5, 20)  # minutes to acknowledge: prompt vs slow


# ---- the questions' inputs ----------------------------------------------------------
def q2_stream() -> tuple[np.ndarray, np.ndarray]:
    """(errors, requests) per minute of the q2 traffic."""
    start, end, ratio = Q2_BAD
    requests = np.full(Q2_MINUTES, Q2_RPM)
    errors = np.zeros(Q2_MINUTES)
    errors[start:end] = Q2_RPM * ratio
    return errors, requests


def mystery_incident() -> Incident:
    """An incident whose fault is drawn at random: diagnose it from the signals."""
    names = sorted(FAULTS)
    inc = Incident(names[int(rng(Q3_SEED, "mystery").integers(len(names)))], seed=Q3_SEED)
    inc.advance(inc.fault_minute + 20)
    return inc


# ---- expected values for the question's own inputs, from the engines ----------------
# (values, not functions with the answers' signatures: ``ex`` is imported by the notebook)
def q1_expected() -> tuple[float, ...]:
    """Hours until each of ``Q1_CASES``' steady error ratio spends a 30-day budget."""
    return tuple(30 * 24 * SLO(target, 30).error_budget / ratio for ratio, target in Q1_CASES)


# q2-q4 are answered with values, so their values are sealed (see ``_sealed``): the fast-burn
# episode's firing and clearing minutes in the q2 stream (``evaluate_alerts``), the action
# that mitigates the mystery incident's fault, and the extra MTTR of the slow
# acknowledgement (``respond``).
_Q2_SEALED = {
    "fired": "bc81bacf38df040326c91e0598e7c3d9",
    "cleared": "ea4a11afb10fc77c0d6db9afe5911c99",
}
_Q3_SEALED = "ebf6d792288a7ea1ddbebba2156b2762"
_Q4_SEALED = "2d02b7ff19570ec18b8100b050a3db76"
_SPAN_MIN = 24 * 60  # minutes searched either side of an answer


# ---- the checks -------------------------------------------------------------------------
@question(SET, "q1", covers="other error ratios (some drawn), stricter SLOs, 7- and 28-day windows")
def _q1(answer: object) -> str | None:
    if not callable(answer):
        return "answer with your function, hours_to_exhaust(error_ratio, slo_target)."
    for (ratio, target), want in zip(Q1_CASES, q1_expected(), strict=True):
        got = answer(ratio, target)
        problem = near(got, want, rel=0.01, what="hours to exhaust")
        if problem:
            return f"for {ratio:.2%} errors against {target:.2%}: {problem} (burn rate first)"
    return None


@question(SET, "q2", covers="both minutes of the fast-burn episode")
def _q2(answer: object) -> str | None:
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return "answer with a tuple (first minute firing, first minute clear)."
    hints = (
        "the firing minute is {}: both windows must be at or above 14.4x.",
        "the clearing minute is {}: which window empties of errors first?",
    )
    for minute, which, hint in zip(answer, ("fired", "cleared"), hints, strict=True):
        if isinstance(minute, bool) or not isinstance(minute, numbers.Real) or minute % 1:
            return "answer with two whole minutes (ints)."
        off = int_offset(int(minute), _Q2_SEALED[which], f"{SET}/q2/{which}", _SPAN_MIN)
        if off:
            return hint.format("too early" if off > 0 else "too late")
        if off is None:
            return hint.format("far off")
    return None


@question(SET, "q3", covers="that the action ends the fault the signals point to")
def _q3(answer: object) -> str | None:
    if answer not in ACTIONS:
        return f"answer with one of {ACTIONS}."
    if seal(f"{SET}/q3", answer) != _Q3_SEALED:
        return "that action would not help: compare error codes, banks and releases again."
    return None


@question(SET, "q4", covers="the extra minutes of MTTR for the given incident")
def _q4(answer: object) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, int | float) or math.isnan(answer):
        return "answer with a number of minutes."
    if answer != int(answer):
        return "MTTR is counted in whole minutes: the difference is a whole number too."
    off = int_offset(int(answer), _Q4_SEALED, f"{SET}/q4", _SPAN_MIN)
    if off == 0:
        return None
    where = "far off" if off is None else "too low" if off > 0 else "too high"
    return f"{where}: measure MTTR from respond(...).summary() for both delays and subtract."
