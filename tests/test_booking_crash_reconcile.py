"""A process dies mid-booking; after a restart the reconciler leaves 0 payments kept without a
seat and 0 seats sold twice, wherever the crash fell (SQLite store, reopened from its file)."""

import asyncio
from collections import Counter

import pytest

from razorlab.clock import ManualClock
from razorlab.social.booking import (
    ABANDON_AFTER_S,
    HOLD_TTL_S,
    AttemptState,
    BookingOutcome,
    BookingService,
    HoldStatus,
    SimulatedPayments,
    SqliteSeatStore,
)
from razorlab.social.booking.simulation import popular_show


class ProcessDied(Exception):
    """Stands for kill -9: the flow stops where it is and nothing after it runs."""


class DyingGateway:
    """The real (simulated) gateway, but our process dies just before or after a call."""

    def __init__(self, gateway, point):
        self.gateway, self.point = gateway, point

    async def charge(self, key, amount):
        if self.point == "before_charge":
            raise ProcessDied(self.point)
        result = await self.gateway.charge(key, amount)
        if self.point == "after_charge":  # money taken, the answer lost with the process
            raise ProcessDied(self.point)
        return result

    async def refund(self, payment_id, amount):
        if self.point == "before_refund":
            raise ProcessDied(self.point)
        await self.gateway.refund(payment_id, amount)

    async def lookup(self, key):
        return await self.gateway.lookup(key)


async def drive(clock, coro, seconds):
    """Run ``coro`` while advancing the manual clock by ``seconds`` in 1-second steps."""
    task = asyncio.ensure_future(coro)
    for _ in range(int(seconds)):
        if task.done():
            break
        await asyncio.sleep(0.001)  # let SQLite's worker thread answer
        await clock.run_for(1)
    for _ in range(5_000):
        if task.done():
            return await task
        await asyncio.sleep(0.001)
    task.cancel()
    raise AssertionError(f"still running after {seconds} s of simulated time")


async def audit(store, gateway, show_id):
    """Payments kept without a seat, and seats sold more than once."""
    claims = await store.claims(show_id)
    sold_twice = sum(n > 1 for n in Counter(c.seat_id for c in claims).values())
    bought = set()
    for token in {c.token for c in claims if c.status is HoldStatus.CONFIRMED}:
        bought.add((await store.get(token, 0)).payment_id)
    kept = set(gateway.captured) - set(gateway.refunds) - bought
    assert bought <= set(gateway.captured), "every booking was paid for"
    assert not bought & set(gateway.refunds), "no booking's money went back"
    return kept, sold_twice


CRASH_POINTS = ["before_charge", "after_charge", "after_confirm", "before_refund"]


@pytest.mark.parametrize("restart_after_s", [60, HOLD_TTL_S + 60], ids=["in_time", "late"])
@pytest.mark.parametrize("point", CRASH_POINTS)
async def test_crash_then_restart_keeps_no_money_and_sells_no_seat_twice(
    tmp_path, point, restart_after_s
):
    path, clock = str(tmp_path / "tickets.db"), ManualClock()
    slow = 1.0 if point == "before_refund" else 0.0  # a refund is due only after a late payment
    gateway = SimulatedPayments(seed=3, clock=clock, failure_rate=0, slow_rate=slow)
    gateway.mean_latency_s = 5.0
    store = await SqliteSeatStore.open(path)
    await store.add_show(popular_show("s1"))
    dying = DyingGateway(gateway, point)
    svc = BookingService(store, dying, clock)
    if point == "after_confirm":
        confirm = store.confirm

        async def confirm_then_die(*args):
            await confirm(*args)
            raise ProcessDied(point)

        store.confirm = confirm_then_die
    hold = await svc.hold("s1", ["A1", "A2"], "amy")
    with pytest.raises(ProcessDied):
        await drive(clock, svc.pay_and_confirm(hold), 2_000)
    await store.close()  # the process is gone; only what it committed survives

    await clock.run_for(max(0.0, hold.created_at + restart_after_s - clock.now()))
    gateway.slow_rate = 0.0  # bob's payment, after the restart, is a quick one
    store = await SqliteSeatStore.open(path)
    try:
        svc = BookingService(store, gateway, clock)
        if clock.now() >= hold.expires_at:  # someone else wants the seats first
            bob = await drive(clock, svc.book("s1", ["A2", "A3"], "bob"), 600)
            amy_kept_seats = point == "after_confirm"
            assert (bob.outcome is BookingOutcome.CONFIRMED) != amy_kept_seats
        report = await svc.reconcile()
        await clock.run_for(ABANDON_AFTER_S)
        later = await svc.reconcile()
        kept, sold_twice = await audit(store, gateway, "s1")
        assert kept == set(), f"crash {point}: payments kept without a seat"
        assert sold_twice == 0, f"crash {point}: a seat sold twice"
        assert await store.open_attempts() == [], "every attempt finished"
        attempt = await store.attempt(hold.token)
        amy = await store.get(hold.token, clock.now())
        if point == "before_charge":
            assert attempt.idempotency_key not in gateway.charges, "the charge never left"
            assert (report.abandoned, later.abandoned) == (0, 1), "abandoned only when surely dead"
            assert attempt.state is AttemptState.ABANDONED
        elif point == "after_charge" and restart_after_s < HOLD_TTL_S:
            assert report.confirmed == 1 and amy.status is HoldStatus.CONFIRMED, "seats kept"
            assert attempt.payment_id == amy.payment_id
        elif point == "after_confirm":
            assert amy.status is HoldStatus.CONFIRMED and attempt.state is AttemptState.CONFIRMED
        else:  # the money arrived for seats that were no longer amy's
            assert report.refunded == 1 and attempt.state is AttemptState.REFUNDED
            assert gateway.refunds == {attempt.payment_id: hold.amount}
            assert amy.status in (HoldStatus.EXPIRED, HoldStatus.RELEASED)
    finally:
        await store.close()


async def test_reconciling_twice_or_alongside_live_bookings_refunds_nothing_twice(tmp_path):
    clock = ManualClock()
    gateway = SimulatedPayments(seed=5, clock=clock, failure_rate=0.2, slow_rate=0.3)
    store = await SqliteSeatStore.open(str(tmp_path / "t.db"))
    await store.add_show(popular_show("s1"))
    svc = BookingService(store, gateway, clock)
    seats = [f"{row}{n}" for row in "ABCD" for n in range(1, 6)]
    holds = [await svc.hold("s1", [seat], f"u{i}") for i, seat in enumerate(seats)]
    flows = asyncio.gather(*(svc.pay_and_confirm(h) for h in holds))

    async def reconcile_all_along():
        for _ in range(40):
            await svc.reconcile()
            await asyncio.sleep(0.002)

    try:
        results, _ = await drive(clock, asyncio.gather(flows, reconcile_all_along()), 2_000)
        await svc.reconcile()
        kept, sold_twice = await audit(store, gateway, "s1")
        assert (kept, sold_twice) == (set(), 0)
        refunded = [r for r in results if r.refunded]
        assert refunded, "the seed gives some payments slower than the hold"
        assert len(gateway.refunds) == len(refunded), "each late payment refunded exactly once"
    finally:
        await store.close()


async def test_the_chapters_crash_drill_confirms_in_time_and_refunds_late(tmp_path):
    from razorlab.social.booking.crash_drill import crash_after_charge

    soon = await crash_after_charge(tmp_path / "soon.db", 60)
    late = await crash_after_charge(tmp_path / "late.db", 15 * 60)
    assert (soon["reconciler"], soon["seats belong to"]) == ("confirmed", "amy")
    assert (late["reconciler"], late["seats belong to"]) == ("refunded", "bob")
    for row in (soon, late):
        assert (row["kept without a seat"], row["seats sold twice"]) == ("₹0.00", 0)
