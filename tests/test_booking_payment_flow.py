"""hold → pay → confirm: failed and timed-out payments free seats; late money is refunded."""

import asyncio
from uuid import uuid4

import pytest

from razorlab.clock import ManualClock
from razorlab.social.booking import (
    HOLD_TTL_S,
    BookingOutcome,
    BookingService,
    HoldStatus,
    PaymentResult,
    SimulatedPayments,
)
from razorlab.social.booking.payments import SLOW_PAYMENT_LATENCY_S
from razorlab.social.booking.redis_holds import STORE_KINDS, open_seat_store
from razorlab.social.booking.simulation import popular_show, simulate_hour


@pytest.fixture(params=STORE_KINDS)
async def store(request):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    s = await open_seat_store(request.param, url, namespace=uuid4().hex, ephemeral=True)
    await s.add_show(popular_show("s1"))
    yield s
    await s.close()


def service(store, clock, **rates):
    payments = SimulatedPayments(seed=1, clock=clock, **rates)
    return BookingService(store, payments, clock), payments


async def settle(predicate):
    """Poll until SQLite's worker thread has let the engine reach the awaited state."""
    for _ in range(20_000):
        if predicate():
            return
        await asyncio.sleep(0.0005)
    raise AssertionError("the engine never reached the expected state")


async def run(clock, coro, seconds):
    """Start ``coro``, wait until it is parked on the clock (payment + expiry timer), advance."""
    task = asyncio.ensure_future(coro)
    await settle(lambda: task.done() or clock.pending_sleepers >= 2)
    await clock.run_for(seconds)
    return await task


async def test_successful_payment_confirms_the_booking(store):
    clock = ManualClock()
    svc, payments = service(store, clock, failure_rate=0, slow_rate=0)
    result = await run(clock, svc.book("s1", ["A1", "A2"], "amy"), HOLD_TTL_S)
    assert result.outcome is BookingOutcome.CONFIRMED and not result.refunded
    assert payments.captured[result.payment_id] == result.amount
    assert (await store.get(result.token, clock.now())).status is HoldStatus.CONFIRMED


async def test_declined_payment_releases_the_seats_at_once(store):
    clock = ManualClock()
    svc, payments = service(store, clock, failure_rate=1, slow_rate=0)
    result = await run(clock, svc.book("s1", ["A1"], "amy"), HOLD_TTL_S)
    assert result.outcome is BookingOutcome.PAYMENT_FAILED and payments.captured == {}
    assert (await store.get(result.token, clock.now())).status is HoldStatus.RELEASED
    assert await store.claims("s1") == []


async def test_payment_slower_than_the_hold_frees_seats_and_is_refunded(store):
    clock = ManualClock()
    svc, payments = service(store, clock, failure_rate=0, slow_rate=1)
    task = asyncio.ensure_future(svc.book("s1", ["A1"], "amy"))
    await settle(lambda: clock.pending_sleepers == 2)
    await clock.run_for(HOLD_TTL_S + 1)
    rival = await svc.hold("s1", ["A1"], "bob")  # seats free when the hold ends, money or not
    await clock.run_for(SLOW_PAYMENT_LATENCY_S)
    result = await task
    assert result.outcome is BookingOutcome.HOLD_EXPIRED and result.refunded
    assert payments.refunds == {result.payment_id: result.amount}
    claims = await store.claims("s1")
    assert [(c.seat_id, c.token) for c in claims] == [("A1", rival.token)], "never double-sold"


async def test_hold_expired_before_paying_charges_nothing(store):
    clock = ManualClock()
    svc, payments = service(store, clock)
    hold = await svc.hold("s1", ["A1"], "amy")
    clock.advance(HOLD_TTL_S)
    result = await svc.pay_and_confirm(hold)
    assert result.outcome is BookingOutcome.HOLD_EXPIRED and payments.charges == {}


async def test_sweeper_frees_abandoned_holds(store):
    clock = ManualClock()
    svc, _ = service(store, clock)
    await svc.hold("s1", ["A1"], "amy")
    stop = asyncio.Event()
    sweeper = asyncio.ensure_future(svc.run_sweeper(stop, interval_s=30))
    for _ in range(HOLD_TTL_S // 30):
        await settle(lambda: clock.pending_sleepers == 1)
        await clock.run_for(30)
    await settle(lambda: clock.pending_sleepers == 1)
    assert await store.claims("s1") == []
    stop.set()
    await clock.run_for(30)
    assert await sweeper == 1


async def test_payment_retry_with_the_same_key_replays_the_first_answer():
    clock = ManualClock()
    payments = SimulatedPayments(seed=5, clock=clock, failure_rate=0, slow_rate=0)
    charge = asyncio.ensure_future(payments.charge("hold-1", popular_show().price_of(["A1"])))
    await settle(lambda: clock.pending_sleepers == 1)
    await clock.run_for(600)
    first = await charge
    again = await payments.charge("hold-1", popular_show().price_of(["A1"]))
    assert first == again and isinstance(first, PaymentResult) and len(payments.captured) == 1


async def test_an_hour_of_sales_never_double_sells_and_is_deterministic():
    first = await simulate_hour(seed=3, minutes=20)
    assert first.double_booked == 0
    assert first.outcomes.get("confirmed", 0) > 0
    sold = first.timeline["sold"]
    assert sold.is_monotonic_increasing, "confirmed seats are never taken back"
    assert (first.timeline[["held", "sold", "free"]].sum(axis=1) == 200).all()
    again = await simulate_hour(seed=3, minutes=20)
    assert again.outcomes == first.outcomes and again.timeline.equals(first.timeline)
