"""10,000 concurrent hold attempts on 100 seats: zero double bookings, except the naive engine."""

from dataclasses import replace

from razorlab.social.booking.naive_locks import FakeRedis, NaiveSeatLocks
from razorlab.social.booking.simulation import rush

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
