"""The seed's booking flow under faults: a slow or failing Redis, and a slow payment.

Two experiments, each run on the seed's locking (``naive_locks``) and on this engine:

* :func:`redis_outage` — users book one after another (no concurrency at all) while a share
  of Redis commands time out. The seed's ``IsSeatLocked`` reads any error as "not locked", so
  a taken seat looks free and is sold again; failing *closed* (refuse, let the user retry)
  sells nothing twice. A lock check that cannot answer must never answer "free".
* :func:`slow_payment` — Amy locks two seats and her payment takes 15 minutes, longer than
  the 10-minute lock. The seed pays inside the lock and then confirms without re-checking it,
  so Bob, who locked the expired seats and paid in the meantime, holds the same seats. The
  engine races the payment against the hold's expiry: Bob gets the seats, Amy's late money
  is refunded, and no seat is sold twice.

Both run on seeded generators and a ``ManualClock``, so every number is the same on every run.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pandas as pd

from razorlab.clock import ManualClock
from razorlab.social.booking.memory_store import MemorySeatStore
from razorlab.social.booking.models import HOLD_TTL_S
from razorlab.social.booking.naive_locks import FakeRedis, NaiveSeatLocks
from razorlab.social.booking.payments import SLOW_PAYMENT_LATENCY_S, SimulatedPayments
from razorlab.social.booking.service import BookingService
from razorlab.social.booking.simulation import popular_show, rush_requests

__all__ = ["redis_outage", "slow_payment", "BOB_ARRIVES_S"]

BOB_ARRIVES_S = HOLD_TTL_S + 60  # seconds after Amy's hold: just after her lock expired


async def redis_outage(error_rate: float = 0.2, users: int = 2_000, seed: int = 42) -> pd.DataFrame:
    """One row per policy: requests booked, refused on a Redis error, seats sold twice.

    Requests run strictly one at a time, so every seat sold twice is the fail-open check's
    doing, not a race.
    """
    show = popular_show()
    rows = []
    for fail_open in (True, False):
        redis = FakeRedis(seed, error_rate=error_rate)
        locks = NaiveSeatLocks(redis, fail_open=fail_open)
        booked = 0
        for i, seats in enumerate(rush_requests(show, users, seed)):
            booked += await locks.book(show.show_id, seats, f"u{i}")
        rows.append(
            {
                "lock check on error": "fail open (seed)" if fail_open else "fail closed",
                "requests": users,
                "booked": booked,
                "refused (retry)": locks.refused_on_error,
                "seats sold twice": locks.double_booked_seats(),
            }
        )
    return pd.DataFrame(rows).set_index("lock check on error")


async def slow_payment(seats: tuple[str, ...] = ("E5", "E6"), seed: int = 42) -> pd.DataFrame:
    """Amy's payment outlives her hold; Bob books the same seats; who ends up with them?"""
    show = popular_show()
    # The seed: lock, pay inside the lock (slowly), confirm without re-checking the lock.
    redis = FakeRedis(seed)
    locks = NaiveSeatLocks(redis)
    await locks.lock_seats(show.show_id, seats, "amy")  # Amy's payment starts now
    redis.now = BOB_ARRIVES_S  # her lock has expired; Bob locks and pays at once
    await locks.book(show.show_id, seats, "bob")
    redis.now = SLOW_PAYMENT_LATENCY_S  # Amy's payment finally succeeds
    locks.confirm_after_payment(show.show_id, seats, "amy")
    seed_owners = Counter(user for _, _, user in locks.bookings)
    # The engine: the payment races the hold's expiry on the clock.
    clock, store = ManualClock(), MemorySeatStore()
    await store.add_show(show)
    payments = SimulatedPayments(seed, clock, failure_rate=0.0, slow_rate=1.0)
    service = BookingService(store, payments, clock)
    amy = asyncio.ensure_future(service.book(show.show_id, seats, "amy"))
    while clock.pending_sleepers < 2:  # until her charge and her hold's timer are both waiting
        await asyncio.sleep(0)
    await clock.run_for(BOB_ARRIVES_S)
    bob = await service.hold(show.show_id, seats, "bob")
    await service.confirm(bob.token, "bob", "pay_bob")
    await clock.run_for(SLOW_PAYMENT_LATENCY_S)
    late = await amy
    claims = Counter(c.user_id for c in await store.claims(show.show_id))
    sold = Counter(c.seat_id for c in await store.claims(show.show_id))
    rows = [
        ("seed: pay inside the lock", True, False, dict(seed_owners), locks.double_booked_seats()),
        ("engine: payment races the hold", late.payment_id is not None, late.refunded,
         dict(claims), sum(n > 1 for n in sold.values())),
    ]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["design", "Amy charged", "Amy refunded", "seats booked by", "sold twice"]
    ).set_index("design")
