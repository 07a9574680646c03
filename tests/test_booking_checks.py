"""The ticketing self-checks accept right answers and refuse wrong ones without the value."""

import pytest

from razorlab.grading import Checker
from razorlab.social.booking.simulation import rush, seats_held_at_once, simulate_hour

check = Checker("ticketing")


def hold_all_or_none(owners, seats, user):
    if not seats or len(set(seats)) != len(seats):
        raise ValueError("need distinct seats")
    if any(s in owners for s in seats):
        return False
    owners.update(dict.fromkeys(seats, user))
    return True


def half_locking(owners, seats, user):
    """The seed's bug: claims seats until it meets a taken one, then gives up."""
    for seat in seats:
        if seat in owners:
            return False
        owners[seat] = user
    return True


def test_q1_estimate_within_tolerance_and_units_mistake_refused():
    right = seats_held_at_once(2_400, 3, 240)
    assert check("q1", right).passed and check("q1", right * 1.01).passed
    wrong = check("q1", right / 60)
    assert not wrong.passed and "too low" in wrong.message and str(int(right)) not in wrong.message


async def test_q2_needs_the_exact_count_of_double_booked_seats():
    naive = await rush("naive", users=2_000, seed=7)
    assert check("q2", naive.double_booked).passed
    for wrong in (naive.double_booked + 1, naive.successful, "many", 3.0):
        feedback = check("q2", wrong)
        assert not feedback.passed and str(naive.double_booked) not in feedback.message


@pytest.mark.parametrize(
    "fn, passes", [(hold_all_or_none, True), (half_locking, False), (lambda o, s, u: True, False)]
)
def test_q3_accepts_only_an_all_or_nothing_hold(fn, passes):
    assert check("q3", fn).passed is passes
    assert not check("q3", True).passed, "a result instead of the function is refused"


async def test_q4_needs_the_refunds_in_paise():
    short = await simulate_hour(seed=42, hold_ttl_s=300)
    assert check("q4", short.refunded.paise).passed
    wrong = check("q4", short.refunded.paise // 100)
    assert not wrong.passed and str(short.refunded.paise) not in wrong.message
