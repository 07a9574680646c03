"""The seed's double booking, reproduced on a real Redis with two real connections.

:mod:`~razorlab.social.booking.naive_locks` shows the check-then-act race on a simulated
Redis. Here the same two steps go to a real server: two clients (each on its own connection)
want seat A1, and their commands are interleaved in the worst order the network can produce —
both ``GET`` (both see "free"), then both ``SET``. Redis executes each command atomically, but
nothing makes the *pair* atomic, so both users are told the seat is theirs. The fixes:

* ``SET key user NX PX ttl`` — the check and the write are one command: the second client's
  ``SET`` finds the key and is refused;
* the hold script of :mod:`~razorlab.social.booking.redis_holds` — the same for several seats
  at once, all or none, with a fencing token.

The interleaving is written out step by step (not left to the scheduler), so the demo gives the
same answer on every run.

Two more walk-throughs for the chapter: :func:`stale_confirm` (a client whose hold ran out
wakes up and confirms with its old fencing token: ``StaleToken``) and :func:`redis_forgets`
(Redis loses its keys, as a restart without persistence does; the booking in SQL survives and
still refuses the seat). Learners without a Redis see ``STORED_*`` results instead: recorded
from a real run on the Redis ``make services`` starts, and checked against a live run by
``tests/test_booking_redis.py``. :func:`find_redis` decides which to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from razorlab.clock import EPOCH_2026
from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    async_client,
    sync_client,
    unavailable,
    unavailable_errors,
)
from razorlab.infra.services import recorded_redis_url
from razorlab.social.booking.models import HOLD_TTL_S, BookingError, SeatsUnavailable
from razorlab.social.booking.redis_holds import RedisSeatHolds, RedisSeatStore
from razorlab.social.booking.simulation import popular_show

__all__ = [
    "FenceOutcome",
    "LossOutcome",
    "RaceOutcome",
    "STORED_FENCE",
    "STORED_LOSS",
    "STORED_RACE",
    "STRATEGIES",
    "find_redis",
    "race_two_clients",
    "redis_forgets",
    "stale_confirm",
]

STRATEGIES = ("get-then-set", "set-nx", "lua-hold")
SEAT = "A1"


@dataclass(frozen=True)
class RaceOutcome:
    strategy: str
    winners: tuple[str, ...]  # users told "the seat is yours"
    owner: str  # who the key names afterwards

    @property
    def double_booked(self) -> bool:
        return len(self.winners) > 1


async def _get_then_set(amy, bob, key: str, ttl_ms: int) -> tuple[str, ...]:
    amy_sees = await amy.get(key)  # the seed's IsSeatLocked …
    bob_sees = await bob.get(key)  # … and another user's lands before amy's SET
    winners = []
    for client, user, seen in ((amy, "amy", amy_sees), (bob, "bob", bob_sees)):
        if seen is None:
            await client.set(key, user, px=ttl_ms)
            winners.append(user)
    return tuple(winners)


async def _set_nx(amy, bob, key: str, ttl_ms: int) -> tuple[str, ...]:
    winners = []
    for client, user in ((amy, "amy"), (bob, "bob")):
        if await client.set(key, user, nx=True, px=ttl_ms):
            winners.append(user)
    return tuple(winners)


async def _lua_hold(url: str, namespace: str) -> tuple[tuple[str, ...], str]:
    show = popular_show("race")
    amy, bob = (RedisSeatHolds(url, namespace=namespace) for _ in range(2))
    winners = []
    try:
        for holds, user in ((amy, "amy"), (bob, "bob")):
            try:
                await holds.hold(show, [SEAT], user, EPOCH_2026, HOLD_TTL_S)
                winners.append(user)
            except SeatsUnavailable:
                pass
        holder = await amy.holder(show.show_id, SEAT)
        await amy.clear()
    finally:
        await amy.close()
        await bob.close()
    return tuple(winners), holder[1] if holder else ""


async def race_two_clients(url: str, namespace: str = "race-demo") -> list[RaceOutcome]:
    """Amy and Bob race for one seat under each strategy; who was told they won, who owns it."""
    ttl_ms = HOLD_TTL_S * 1000
    amy, bob = async_client(url), async_client(url)
    outcomes = []
    try:
        for strategy, race in (("get-then-set", _get_then_set), ("set-nx", _set_nx)):
            key = f"razorlab:booking:{namespace}:naive:{strategy}:{SEAT}"
            await amy.delete(key)
            winners = await race(amy, bob, key, ttl_ms)
            outcomes.append(RaceOutcome(strategy, winners, await amy.get(key) or ""))
            await amy.delete(key)
    except unavailable_errors() as exc:
        raise unavailable(url, exc) from exc
    finally:
        await amy.aclose()
        await bob.aclose()
    winners, owner = await _lua_hold(url, namespace)
    outcomes.append(RaceOutcome("lua-hold", winners, owner))
    return outcomes


@dataclass(frozen=True)
class FenceOutcome:
    late_confirm: str  # what amy's confirm with her old token gets: an error code
    token_step: int  # bob's token minus amy's (tokens only grow)
    owner: str  # who the seat is confirmed for in the end


@dataclass(frozen=True)
class LossOutcome:
    keys_lost: int  # Redis keys of the show that vanished
    booking: str  # the status SQL still has for amy's booking
    rehold: str  # what bob's hold of the same seat gets afterwards


# Recorded from real runs on the Redis `make services` starts (redis-server 7, loopback);
# tests/test_booking_redis.py checks that a live run still gives exactly these.
STORED_RACE = (
    RaceOutcome("get-then-set", ("amy", "bob"), "bob"),
    RaceOutcome("set-nx", ("amy",), "amy"),
    RaceOutcome("lua-hold", ("amy",), "amy"),
)
STORED_FENCE = FenceOutcome("STALE_TOKEN", 1, "bob")
STORED_LOSS = LossOutcome(3, "confirmed", "SEATS_UNAVAILABLE")


def find_redis(root: Path | None = None) -> str | None:
    """The Redis URL (``RAZORLAB_REDIS_URL``, else ``.services/redis.url``) if it answers PING.

    ``root`` is the repository (default: the one this module sits in). None without a Redis,
    so a notebook can show the ``STORED_*`` results instead.
    """
    url = recorded_redis_url(root or Path(__file__).resolve().parents[3])
    if url is None:
        return None
    try:
        with sync_client(url) as client:
            client.ping()
    except (ValidationError, *unavailable_errors()):
        return None
    return url


async def stale_confirm(url: str, namespace: str = "fence-demo") -> FenceOutcome:
    """Amy's hold of A1 runs out while her phone sleeps, Bob holds A1, then Amy confirms."""
    show = popular_show("fence")
    holds = RedisSeatHolds(url, namespace=namespace)
    later = EPOCH_2026 + HOLD_TTL_S + 1
    try:
        await holds.clear()
        amy = await holds.hold(show, [SEAT], "amy", EPOCH_2026, HOLD_TTL_S)
        bob = await holds.hold(show, [SEAT], "bob", later, HOLD_TTL_S)
        try:
            await holds.confirm(show.show_id, [SEAT], amy, "amy", later)
            late = "CONFIRMED"
        except BookingError as refused:
            late = refused.code
        await holds.confirm(show.show_id, [SEAT], bob, "bob", later)
        holder = await holds.holder(show.show_id, SEAT)
    finally:
        await holds.clear()
        await holds.close()
    return FenceOutcome(late, bob - amy, holder[1] if holder else "")


async def redis_forgets(url: str, namespace: str = "loss-demo") -> LossOutcome:
    """Amy books A1 (hold in Redis, booking in SQLite); Redis loses the show's keys; Bob tries.

    Deleting the namespace's keys stands in for a Redis restarted without persistence (the
    fault test in ``tests/test_booking_redis.py`` restarts a real server).
    """
    show = popular_show("loss")
    store = await RedisSeatStore.open(url, namespace=namespace, ephemeral=True)
    try:
        await store.holds.clear()
        await store.add_show(show)
        held = await store.hold(show.show_id, [SEAT], "amy", EPOCH_2026, HOLD_TTL_S)
        await store.confirm(held.token, "amy", "pay_amy", EPOCH_2026)
        lost = await store.holds.clear()
        try:
            await store.hold(show.show_id, [SEAT], "bob", EPOCH_2026 + 1, HOLD_TTL_S)
            rehold = "HELD"
        except BookingError as refused:
            rehold = refused.code
        booking = (await store.get(held.token, EPOCH_2026 + 1)).status.value
    finally:
        await store.close()
    return LossOutcome(lost, booking, rehold)
