"""Self-checks for the ``incident_response`` exercises (Round 3, "Handling a payment outage").

Expected values come from ``razorlab.ops.slo`` and ``razorlab.ops.incident``; messages
hint at the method and never state the answer.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from razorlab.grading import near, question
from razorlab.ops.incident import ACTIONS, FAULTS, Incident, respond
from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, alert_episodes, evaluate_alerts
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


# ---- engine oracles ---------------------------------------------------------------------
def hours_to_exhaust(error_ratio: float, slo_target: float, window_days: int = 30) -> float:
    """Hours until a steady ``error_ratio`` spends a whole window's budget."""
    burn = error_ratio / SLO(slo_target, window_days).error_budget
    return window_days * 24 / burn


def q2_stream() -> tuple[np.ndarray, np.ndarray]:
    start, end, ratio = Q2_BAD
    requests = np.full(Q2_MINUTES, Q2_RPM)
    errors = np.zeros(Q2_MINUTES)
    errors[start:end] = Q2_RPM * ratio
    return errors, requests


@cache
def fast_burn_episode() -> tuple[int, int]:
    errors, requests = q2_stream()
    episodes = alert_episodes(evaluate_alerts(errors, requests, SLO(0.999)))
    fast = episodes[episodes["alert"] == WORKBOOK_ALERTS[0].name].iloc[0]
    return int(fast["fired"]), int(fast["cleared"])


def _mystery_fault() -> str:
    names = sorted(FAULTS)
    return names[int(rng(Q3_SEED, "mystery").integers(len(names)))]


def mystery_incident() -> Incident:
    """An incident whose fault is drawn at random: diagnose it from the signals."""
    inc = Incident(_mystery_fault(), seed=Q3_SEED)
    inc.advance(inc.fault_minute + 20)
    return inc


@cache
def extra_mttr() -> int:
    prompt, slow = (
        respond(Incident("bad_deploy", seed=Q4_SEED), ack_minutes=a).summary()["mttr_min"]
        for a in Q4_ACKS
    )
    return slow - prompt


# ---- the checks -------------------------------------------------------------------------
@question(SET, "q1", covers="other error ratios (some drawn), stricter SLOs, 7- and 28-day windows")
def _q1(answer: object) -> str | None:
    if not callable(answer):
        return "answer with your function, hours_to_exhaust(error_ratio, slo_target)."
    for ratio, target in Q1_CASES:
        got = answer(ratio, target)
        problem = near(got, hours_to_exhaust(ratio, target), rel=0.01, what="hours to exhaust")
        if problem:
            return f"for {ratio:.2%} errors against {target:.2%}: {problem} (burn rate first)"
    return None


@question(SET, "q2", covers="both minutes of the fast-burn episode")
def _q2(answer: object) -> str | None:
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return "answer with a tuple (first minute firing, first minute clear)."
    fired, cleared = fast_burn_episode()
    if answer[0] != fired:
        return "the firing minute is off: both windows must be at or above 14.4x."
    if answer[1] != cleared:
        return "the clearing minute is off: which window empties of errors first?"
    return None


@question(SET, "q3", covers="that the action ends the fault the signals point to")
def _q3(answer: object) -> str | None:
    if answer not in ACTIONS:
        return f"answer with one of {ACTIONS}."
    if answer != FAULTS[_mystery_fault()].mitigation:
        return "that action would not help: compare error codes, banks and releases again."
    return None


@question(SET, "q4", covers="the extra minutes of MTTR for the given incident")
def _q4(answer: object) -> str | None:
    want = extra_mttr()
    if isinstance(answer, bool) or not isinstance(answer, int | float) or math.isnan(answer):
        return "answer with a number of minutes."
    if answer == want:
        return None
    return "measure MTTR from respond(...).summary() for both delays and subtract."
