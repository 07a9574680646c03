"""The seed's booking flow under faults: fail-open lock checks and payments slower than the lock."""

import pytest

from razorlab.social.booking.naive_locks import FakeRedis, NaiveSeatLocks, RedisUnavailable
from razorlab.social.booking.seed_faults import redis_outage, slow_payment


async def test_a_failed_lock_check_read_as_free_sells_the_seat_again():
    redis = FakeRedis(seed=1)
    open_locks = NaiveSeatLocks(redis, fail_open=True)
    assert await open_locks.book("s", ["A1"], "amy")
    redis.error_rate = 1.0  # every GET times out from now on
    with pytest.raises(RedisUnavailable):
        await redis.get("seat:locked:s:A1")
    redis.error_rate = 0.0
    closed = NaiveSeatLocks(redis, fail_open=False)

    async def flaky_get(key: str, _get=redis.get) -> str | None:
        raise RedisUnavailable("timeout")

    redis.get = flaky_get  # the check fails, the SET still works
    assert await open_locks.book("s", ["A1"], "bob"), "fail open: the error reads as free"
    assert open_locks.double_booked_seats() == 1
    assert not await closed.book("s", ["A1"], "cat"), "fail closed: refuse, let the user retry"
    assert closed.refused_on_error == 1 and closed.bookings == []


async def test_redis_outage_sells_twice_only_when_the_check_fails_open():
    table = await redis_outage(error_rate=0.2, users=500, seed=3)
    assert table.loc["fail open (seed)", "seats sold twice"] > 0
    assert table.loc["fail closed", "seats sold twice"] == 0, "fail closed never double-books"
    assert (table["refused (retry)"] > 0).all()
    assert table.equals(await redis_outage(error_rate=0.2, users=500, seed=3)), "seeded"


async def test_error_rate_zero_keeps_the_seeded_round_trips_unchanged():
    a, b = FakeRedis(seed=5), FakeRedis(seed=5, error_rate=0.0)
    for redis in (a, b):
        for i in range(50):
            await redis.set(f"k{i}", "v", 10)
    assert a.commands == b.commands == 50 and b.errors == 0
    with pytest.raises(ValueError):
        FakeRedis(seed=1, error_rate=1.5)


async def test_a_payment_slower_than_the_lock_double_books_the_seed_but_not_the_engine():
    table = await slow_payment()
    seed, engine = table.iloc[0], table.iloc[1]
    assert seed["sold twice"] == 2 and seed["seats booked by"] == {"bob": 2, "amy": 2}
    assert not seed["Amy refunded"], "the seed keeps Amy's money and sells her seats to Bob too"
    assert engine["sold twice"] == 0 and engine["seats booked by"] == {"bob": 2}
    assert engine["Amy charged"] and engine["Amy refunded"], "late money goes back"
