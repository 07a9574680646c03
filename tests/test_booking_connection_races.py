"""Races between two connections to one SQLite file, and retried payments, surface as typed
booking errors — never a raw ``sqlite3`` error, a silent wrong answer or a double refund."""

import asyncio

import pytest

from razorlab.clock import EPOCH_2026, ManualClock
from razorlab.social.booking import (
    HOLD_TTL_S,
    AlreadyConfirmed,
    BookingError,
    BookingOutcome,
    BookingService,
    HoldNotActive,
    HoldStatus,
    SimulatedPayments,
    SqliteSeatStore,
)
from razorlab.social.booking.simulation import popular_show

T0 = EPOCH_2026


@pytest.fixture
async def two(tmp_path):
    """Two stores (two connections, as two processes would have) on one database file."""
    path = str(tmp_path / "tickets.db")
    a = await SqliteSeatStore.open(path)
    await a.add_show(popular_show("s1"))
    b = await SqliteSeatStore.open(path)
    yield a, b
    await a.close()
    await b.close()


def after_next_read(store, action):
    """Run ``action`` (on the other connection) right after ``store``'s next read of a hold."""
    read = store._expire_and_read

    async def read_then_act(token, now):
        store._expire_and_read = read
        hold = await read(token, now)
        await action()
        return hold

    store._expire_and_read = read_then_act


async def test_release_racing_a_confirm_on_another_connection_is_a_booking_error(two):
    a, b = two
    hold = await a.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    after_next_read(b, lambda: a.confirm(hold.token, "amy", "pay_1", T0))
    with pytest.raises(HoldNotActive):  # was sqlite3.IntegrityError from the final-state trigger
        await b.release(hold.token, "amy", T0)
    assert (await a.get(hold.token, T0)).status is HoldStatus.CONFIRMED


async def test_confirm_racing_a_release_on_another_connection_is_a_booking_error(two):
    a, b = two
    hold = await a.hold("s1", ["A1", "A2"], "amy", T0, HOLD_TTL_S)
    after_next_read(b, lambda: a.release(hold.token, "amy", T0))
    with pytest.raises(BookingError):
        await b.confirm(hold.token, "amy", "pay_1", T0)
    assert await b.claims("s1") == [], "the release won: nobody holds the seats"


async def test_two_confirms_with_different_payments_on_two_connections_refuse_the_second(two):
    a, b = two
    hold = await a.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    after_next_read(b, lambda: a.confirm(hold.token, "amy", "pay_1", T0))
    with pytest.raises(AlreadyConfirmed):  # was: returned pay_1's booking as if pay_2 bought it
        await b.confirm(hold.token, "amy", "pay_2", T0)


async def test_the_same_confirm_on_two_connections_is_a_replay(two):
    a, b = two
    hold = await a.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    after_next_read(b, lambda: a.confirm(hold.token, "amy", "pay_1", T0))
    confirmed = await b.confirm(hold.token, "amy", "pay_1", T0)
    assert (confirmed.status, confirmed.payment_id) == (HoldStatus.CONFIRMED, "pay_1")


async def drive(clock, coro, seconds):
    task = asyncio.ensure_future(coro)
    for _ in range(seconds):
        if task.done():
            break
        await asyncio.sleep(0.001)
        await clock.run_for(1)
    for _ in range(5_000):
        if task.done():
            return await task
        await asyncio.sleep(0.001)
    raise AssertionError("the flow never finished")


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
@pytest.mark.parametrize("slow", [0.0, 1.0], ids=["in_time", "late"])
async def test_a_retried_pay_and_confirm_charges_once_and_refunds_at_most_once(engine, slow):
    from razorlab.social.booking import MemorySeatStore

    clock = ManualClock()
    store = MemorySeatStore() if engine == "memory" else await SqliteSeatStore.open()
    await store.add_show(popular_show("s1"))
    gateway = SimulatedPayments(seed=2, clock=clock, failure_rate=0, slow_rate=slow)
    svc = BookingService(store, gateway, clock)
    try:
        hold = await svc.hold("s1", ["A1"], "amy")
        retries = asyncio.gather(*(svc.pay_and_confirm(hold) for _ in range(3)))
        results = await drive(clock, retries, 2_000)  # no unhandled conflict from a 2nd refund
        again = await svc.pay_and_confirm(hold)  # a retry after everything settled
        assert len(gateway.captured) == 1, "one hold, one charge, however many retries"
        if slow:
            assert len(gateway.refunds) == 1 and all(r.refunded for r in [*results, again])
            assert {r.outcome for r in [*results, again]} == {BookingOutcome.HOLD_EXPIRED}
        else:
            assert gateway.refunds == {}
            assert {r.outcome for r in [*results, again]} == {BookingOutcome.CONFIRMED}
    finally:
        await store.close()
