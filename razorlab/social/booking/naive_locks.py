"""The seed's seat locking, reproduced to show its bugs — never use it for bookings.

The seed locks a multi-seat request by looping over the seats and writing one Redis key per
seat with a plain SET (no NX, no token). Two bugs follow:

* **double booking**: a plain SET overwrites whoever held the key, so two users both believe
  they locked the seat. Even with the obvious patch — read the key first (the seed's
  ``IsSeatLocked``) and SET only if it is empty — the read and the write are two network round
  trips; another user's read can land in between (check-then-act race);
* **half-locked requests**: when seat 3 of 4 turns out to be taken, seats 1–2 stay locked for
  the full TTL, with no one buying them;
* **fail-open checks**: the seed's ``IsSeatLocked`` answers "free" on *any* error from Redis —
  the key-not-found reply and a timeout alike — so when Redis is slow or down a taken seat
  looks free and is sold again (``fail_open=True``; ``False`` refuses the request instead);
* **payment inside the lock**: the seed pays synchronously while holding a 10-minute lock and
  then confirms without looking at the lock again (:meth:`NaiveSeatLocks.confirm_after_payment`),
  so a payment slower than the TTL confirms seats someone else has locked and bought meanwhile.

``FakeRedis`` models a remote key-value store: every command costs a round trip, simulated by
a seeded, random number of ``asyncio.sleep(0)`` yields, which is exactly where other users'
coroutines run. The interleaving — and so the number of double bookings — is fixed by the seed.
The correct version is one atomic step (``SET key token NX PX ttl`` for a seat; a Lua script or
a transaction for several): see ``memory_store``, ``sqlite_store`` and ``redis_holds``;
``redis_race`` reproduces this race with two connections to a real Redis.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from razorlab.rand import py_random
from razorlab.social.booking.models import HOLD_TTL_S, SeatsUnavailable

__all__ = ["FakeRedis", "NaiveSeatLocks", "RedisUnavailable", "MAX_RTT_YIELDS"]

MAX_RTT_YIELDS = 3  # a round trip yields to the event loop 1..MAX_RTT_YIELDS times


class RedisUnavailable(ConnectionError):
    """A command timed out or the connection failed: the answer is unknown, not "no key"."""


class FakeRedis:
    """GET and SET with a seeded, simulated network round trip per command."""

    def __init__(self, seed: int, now: float = 0.0, error_rate: float = 0.0):
        if not 0 <= error_rate <= 1:
            raise ValueError(f"error_rate must be within [0, 1], got {error_rate}")
        self._data: dict[str, tuple[str, float]] = {}  # key -> (value, expires_at)
        self._random = py_random(seed, "booking-naive-rtt")
        self._faults = py_random(seed, "booking-naive-faults")  # own stream: RTTs unchanged
        self.error_rate = error_rate  # share of commands that fail (Redis slow or down)
        self.now = now  # the caller moves it; expiry is checked on read
        self.commands = 0
        self.errors = 0

    async def _round_trip(self) -> None:
        self.commands += 1
        for _ in range(self._random.randint(1, MAX_RTT_YIELDS)):
            await asyncio.sleep(0)
        if self.error_rate and self._faults.random() < self.error_rate:
            self.errors += 1
            raise RedisUnavailable("redis: i/o timeout")

    async def get(self, key: str) -> str | None:
        await self._round_trip()
        value = self._data.get(key)
        return value[0] if value and value[1] > self.now else None

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await self._round_trip()
        self._data[key] = (value, self.now + ttl_s)


@dataclass
class NaiveSeatLocks:
    """The seed's ``SeatLockManager`` plus the booking step that trusts it.

    ``check_first=False`` is the seed exactly (blind SET: wrong even without concurrency);
    ``check_first=True`` adds the read-before-write that looks right and races.
    ``fail_open=True`` reads a failed check as "free", as the seed's ``IsSeatLocked`` does;
    ``fail_open=False`` refuses the request when the check fails (the user retries).
    """

    redis: FakeRedis
    check_first: bool = True
    ttl_s: float = HOLD_TTL_S
    fail_open: bool = True
    bookings: list[tuple[str, str, str]] = field(default_factory=list)  # (show, seat, user)
    half_locked: int = 0  # requests that failed after locking some seats, leaving them locked
    refused_on_error: int = 0  # requests refused because Redis did not answer (fail closed)

    async def _owner(self, key: str) -> str | None:
        try:
            return await self.redis.get(key)
        except RedisUnavailable:
            if self.fail_open:
                return None  # the seed: any error reads as "not locked"
            raise

    async def lock_seats(self, show_id: str, seat_ids: Sequence[str], user_id: str) -> None:
        locked = 0
        for seat_id in seat_ids:
            key = f"seat:locked:{show_id}:{seat_id}"
            if self.check_first:
                owner = await self._owner(key)
                if owner is not None and owner != user_id:
                    self.half_locked += locked > 0  # earlier seats stay locked: no rollback
                    raise SeatsUnavailable(f"seat {seat_id} is locked", field="seat_ids")
            await self.redis.set(key, user_id, self.ttl_s)
            locked += 1

    async def book(self, show_id: str, seat_ids: Sequence[str], user_id: str) -> bool:
        """Lock, then record a booking for every seat (payment assumed to succeed)."""
        try:
            await self.lock_seats(show_id, seat_ids, user_id)
        except SeatsUnavailable:
            return False
        except RedisUnavailable:  # a failed check (fail closed) or a failed SET
            self.refused_on_error += 1
            return False
        self.confirm_after_payment(show_id, seat_ids, user_id)
        return True

    def confirm_after_payment(self, show_id: str, seat_ids: Sequence[str], user_id: str) -> None:
        """The seed's step 5: mark the booking confirmed without re-checking the lock."""
        self.bookings += [(show_id, s, user_id) for s in seat_ids]

    def double_booked_seats(self) -> int:
        """Seats sold to more than one booking."""
        sold = Counter((show, seat) for show, seat, _ in self.bookings)
        return sum(n > 1 for n in sold.values())
