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
"""

from __future__ import annotations

from dataclasses import dataclass

from razorlab.clock import EPOCH_2026
from razorlab.infra.backends.redis_conn import async_client, unavailable, unavailable_errors
from razorlab.social.booking.models import HOLD_TTL_S, SeatsUnavailable
from razorlab.social.booking.redis_holds import RedisSeatHolds
from razorlab.social.booking.simulation import popular_show

__all__ = ["RaceOutcome", "STRATEGIES", "race_two_clients"]

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
