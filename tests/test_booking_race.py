"""10,000 concurrent hold attempts on 100 seats: zero double bookings, except the naive engine.

The Redis-held store races over real connections, so it is checked for its invariants (each
seat sold once, the Redis locks agree with the SQL record) rather than for one interleaving.
"""

import asyncio
from dataclasses import replace
from uuid import uuid4

from razorlab.clock import EPOCH_2026
from razorlab.social.booking import SeatsUnavailable
from razorlab.social.booking.naive_locks import FakeRedis, NaiveSeatLocks
from razorlab.social.booking.redis_holds import RedisSeatStore
from razorlab.social.booking.simulation import popular_show, rush, rush_requests

USERS = 10_000


async def test_rush_double_books_only_with_the_seeds_locking():
    naive, memory, sqlite = [await rush(e, USERS, seed=7) for e in ("naive", "memory", "sqlite")]
    assert naive.double_booked > 0, "check-then-set across round trips must race"
    assert naive.half_locked > 0, "failed multi-seat requests leave seats locked"
    for correct in (memory, sqlite):
        assert correct.double_booked == 0, f"{correct.engine} sold a seat twice"
        assert correct.successful > 0 and correct.seats_sold <= 100
    assert replace(sqlite, engine="memory") == memory, "same interleaving, same answer"


async def test_rush_is_deterministic_by_seed():
    assert await rush("naive", 2_000, seed=3) == await rush("naive", 2_000, seed=3)


async def test_the_seeds_blind_set_double_books_even_one_user_at_a_time():
    locks = NaiveSeatLocks(FakeRedis(seed=1), check_first=False)
    assert await locks.book("s", ["A1", "A2"], "amy")
    assert await locks.book("s", ["A2"], "bob"), "a plain SET overwrites amy's lock"
    assert locks.double_booked_seats() == 1


async def test_rush_of_2000_users_through_redis_and_sqlite_sells_each_seat_once(redis_url):
    show = popular_show()
    store = await RedisSeatStore.open(redis_url, namespace=uuid4().hex, ephemeral=True)
    gate = asyncio.Semaphore(50)  # 50 requests in flight, as from 50 app servers

    async def user(i: int, seats: list[str]) -> bool:
        async with gate:
            try:
                hold = await store.hold(show.show_id, seats, f"u{i}", EPOCH_2026, 600)
            except SeatsUnavailable:
                return False
            await store.confirm(hold.token, hold.user_id, f"pay_u{i}", EPOCH_2026)
            return True

    try:
        await store.add_show(show)
        ok = await asyncio.gather(
            *(user(i, r) for i, r in enumerate(rush_requests(show, 2_000, seed=7)))
        )
        claims = await store.claims(show.show_id)
        sold = [c.seat_id for c in claims]
        assert sum(ok) > 0 and len(sold) == len(set(sold)) <= 100
        for claim in claims:
            _, user, ends = await store.holds.holder(show.show_id, claim.seat_id)
            assert (user, ends) == (claim.user_id, "confirmed")
    finally:
        await store.close()
