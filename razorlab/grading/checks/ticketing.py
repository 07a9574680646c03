"""Self-checks for the ticketing exercises (``solutions/more_scenarios/01_ticketing_exercises``).

Expected values come from the engine itself (``razorlab.social.booking.simulation``), so a change
to the engine's seeded simulations cannot leave a stale number here.
"""

from __future__ import annotations

import copy

from razorlab.grading import near, question
from razorlab.social.booking.simulation import run_now, rush, seats_held_at_once, simulate_hour

SET = "ticketing"

#: q1's scenario: a festival weekend in one city.
Q1 = dict(bookings_per_min=2_400, seats_per_booking=3, mean_hold_s=240)
Q2_USERS, Q2_SEED = 2_000, 7
Q4_TTL_S, Q4_SEED = 300, 42


def _exact_count(answer: object, target: int, what: str, hint: str) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        return f"{what} should be a whole number (an int), got {answer!r}."
    if answer == target:
        return None
    return f"{what} is {'too high' if answer > target else 'too low'}; {hint}"


@question(
    SET,
    "q1",
    covers="other booking rates (zero too), seat counts and hold times; seconds vs minutes",
)
def _q1(answer: object) -> str | None:
    return near(answer, seats_held_at_once(**Q1), rel=0.02, what="seats held at once")


@question(SET, "q2", covers="the count of seats sold more than once, as a whole number")
def _q2(answer: object) -> str | None:
    target = run_now(rush("naive", users=Q2_USERS, seed=Q2_SEED)).double_booked
    return _exact_count(
        answer,
        target,
        "the number of double-booked seats",
        "count seats sold more than once (not bookings, not users), for the stated users and seed.",
    )


_Q3_CASES = [  # (owners before, seats, user, expected result)
    ({}, ["A1", "A2"], "amy", True),
    ({"A2": "bob"}, ["A1", "A2", "A3"], "amy", False),
    ({"A1": "amy"}, ["A1"], "bob", False),
    ({"B1": "bob"}, ["A1"], "amy", True),
]


@question(
    SET,
    "q3",
    covers="empty and duplicate seat lists raise ValueError; a taken last seat; random "
    "requests (the result and the seat owners left behind)",
)
def _q3(answer: object) -> str | None:
    if not callable(answer):
        return "pass your function itself (hold_all_or_none), not its result."
    for owners, seats, user, expected in _Q3_CASES:
        state = copy.deepcopy(owners)
        got = answer(state, list(seats), user)
        if got is not expected:
            return f"for seats {seats} with {owners} taken it returned {got!r}; re-read the rule."
        wanted = {**owners, **dict.fromkeys(seats, user)} if expected else owners
        if state != wanted:
            return (
                "it returned the right answer but left the seat owners wrong — "
                "a refused request must change nothing, an accepted one must claim every seat."
            )
    return None


@question(
    SET, "q4", covers="the refunds are a whole number of paise, for the stated seed and hold time"
)
def _q4(answer: object) -> str | None:
    target = run_now(simulate_hour(seed=Q4_SEED, hold_ttl_s=Q4_TTL_S)).refunded.paise
    return _exact_count(
        answer,
        target,
        "the refunded amount in paise",
        "use the stated seed and a hold time in seconds, and read HourResult.refunded in paise.",
    )
