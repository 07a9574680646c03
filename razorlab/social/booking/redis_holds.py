"""Seat holds on a real Redis, in front of the SQLite store that keeps the bookings.

Scenario: in the opening minute of a blockbuster's sales, tens of thousands of users ask for
the same hundred seats. Almost every request is refused, and a refusal should not cost a
database transaction. BookMyShow-style systems therefore *hold* seats in Redis (one key per
seat with a TTL: the short-lived lock while the user pays) and write only *bookings* — and the
payment records behind them — to a SQL database, the system of record.

Design note
-----------
- **Two layers, one interface.** :class:`RedisSeatHolds` is the hold layer alone (what the
  race demo, the benchmark and the 50-client test use). :class:`RedisSeatStore` implements the
  whole ``SeatStore`` protocol: a hold is taken in Redis first (a refused request never reaches
  SQL), then recorded in :class:`~razorlab.social.booking.sqlite_store.SqliteSeatStore`, which
  keeps holds, payment attempts and bookings durably, with its UNIQUE index as the last
  defence. The :class:`~razorlab.social.booking.models.Hold` handed out carries the SQL token
  (what payments, the reconciler and the API name); the Redis fencing token behind it is kept in
  a *link* key next to the seats, living as long as the hold.
- **Why not payments in Redis too.** Payment attempts and bookings must survive a crash for
  the reconciler to refund or confirm them; Redis acknowledges writes before they reach disk
  (even with AOF, ``appendfsync everysec`` can lose a second), and a restarted Redis without
  persistence forgets everything. Holds may be lost — the seat frees early or the user holds
  again — so they live where speed matters; money and bookings live in SQL.
- **Cost.** A refused request is one Redis round trip and no SQL; a granted hold is two Redis
  round trips (script, link) and one SQL transaction; a confirm is two Redis round trips (link,
  script) and the SQL transaction.
- **All seats or none, in one script.** ``SET key token NX PX ttl`` per seat is right for one
  seat but leaves a half-locked request when seat 3 of 4 is taken (the seed's bug). The hold
  script checks every seat key first, then sets them all; Redis runs a script without
  interleaving another client's command, so the check and the claims are one step. A key
  whose hold ran out on the caller's clock counts as free and is overwritten, so the script
  sets without ``NX`` after its own check — the same outcome as ``NX`` on a server whose clock
  is the caller's.
- **Time is an argument** (as in :mod:`razorlab.infra.backends.redis_ratelimit`): a seat value
  is ``<token>:<user>:<expires_at>`` on the injected clock, so tests and simulations expire
  holds deterministically; ``PX ttl`` (real milliseconds) lets Redis reclaim abandoned keys.
  Simplification: with a clock slower than real time, ``PX`` can free a seat early in Redis;
  SQL still refuses a second live claim, so this costs a retry, never a double booking.
- **Fencing tokens** (Kleppmann, "How to do distributed locking", 2016) come from ``INCR`` on a
  per-show counter. Confirm names the token; a seat now held under a newer token refuses it
  (``StaleToken``), a seat whose hold ran out refuses it (``HoldExpired``), another user's token
  refuses it (``NotHolder``). The counter starts at the server's ``TIME`` in microseconds the
  first time it is used, so a Redis restarted without persistence still hands out larger
  tokens than before (unless it sustained more than a million holds a second).
- **Confirmed seats never come back.** Confirm rewrites the seat keys as
  ``<token>:<user>:confirmed`` without a TTL; the hold script treats them as taken forever.
  If the SQL confirm then fails, the marks are undone (compare-and-delete on the token).
- **Release only by the holder**: a compare-and-delete script deletes a seat key only if it
  still carries this token and user — a client whose hold expired and was re-held cannot free
  the new holder's seats (a plain ``DEL`` would).
- **Redis Cluster ready**: every key of a show carries the hash tag ``{<show_id>}``, so one
  script touches one slot.
- **Faults.** A Redis error raises
  :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable` (HTTP 503) and changes
  nothing: each step is one script or command, and a hold is recorded in SQL only after Redis
  granted it. Bookings live in SQL, so losing Redis loses no confirmed booking; an in-flight
  hold whose link key was lost cannot be confirmed (``HoldExpired``: the service refunds the
  payment), which fails closed. A lost Redis also forgets confirmed marks: SQL's index still
  refuses those seats (one wasted Redis round trip per attempt until the show is re-held).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    BackendUnavailable,
    LuaScript,
    async_client,
    clear_namespace,
    connect,
    translated,
)
from razorlab.social.booking.memory_store import (
    MemorySeatStore,
    check_confirmable,
    check_not_refunded,
    check_releasable,
)
from razorlab.social.booking.models import (
    AttemptState,
    BookingError,
    Claim,
    Hold,
    HoldExpired,
    NotHolder,
    PaymentAttempt,
    SeatStore,
    SeatsUnavailable,
    Show,
    StaleToken,
    UnknownHold,
    validate_request,
)
from razorlab.social.booking.sqlite_store import SqliteSeatStore

__all__ = [
    "KEY_PREFIX",
    "HOLD_LUA",
    "CONFIRM_LUA",
    "RELEASE_LUA",
    "RedisSeatHolds",
    "RedisSeatStore",
    "STORE_KINDS",
    "open_seat_store",
]

STORE_KINDS = ("memory", "sqlite", "redis")

KEY_PREFIX = "razorlab:booking"  # + ":<namespace>:{<show>}:seat:<seat>" | ":fence" | ":hold:<n>"

# KEYS[1] fence counter, KEYS[2..] seats; ARGV user, now, expires_at, px_ms
# → {token, {}} when held, {0, {positions of taken seats, 1-based}} when refused
HOLD_LUA = """
local now = tonumber(ARGV[2])
local taken = {}
for i = 2, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held then
    local ends = string.match(held, ':([^:]*)$')
    if ends == 'confirmed' or tonumber(ends) > now then taken[#taken + 1] = i - 1 end
  end
end
if #taken > 0 then return {0, taken} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])))
end
local token = redis.call('INCR', KEYS[1])
local value = string.format('%d', token) .. ':' .. ARGV[1] .. ':' .. ARGV[3]
for i = 2, #KEYS do redis.call('SET', KEYS[i], value, 'PX', ARGV[4]) end
return {token, taken}
"""

# KEYS seats; ARGV token, user, now → ok verdict 'confirmed' | 'replay', or the worst refusal
CONFIRM_LUA = """
local mine = tonumber(ARGV[1])
local now = tonumber(ARGV[3])
local rank = {ok = 0, expired = 1, gone = 2, not_holder = 3, stale = 4}
local verdict, confirmed = 'ok', 0
local function worse(v) if rank[v] > rank[verdict] then verdict = v end end
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if not held then worse('gone') else
    local token, user, ends = string.match(held, '^(%d+):(.*):([^:]*)$')
    token = tonumber(token)
    if token > mine then worse('stale')
    elseif token < mine then worse('gone')
    elseif user ~= ARGV[2] then worse('not_holder')
    elseif ends == 'confirmed' then confirmed = confirmed + 1
    elseif tonumber(ends) <= now then worse('expired') end
  end
end
if verdict ~= 'ok' then return verdict end
if confirmed == #KEYS then return 'replay' end
local value = ARGV[1] .. ':' .. ARGV[2] .. ':confirmed'
for i = 1, #KEYS do redis.call('SET', KEYS[i], value) end
return 'confirmed'
"""

# KEYS seats; ARGV token, user, '1' to free confirmed seats too (undo) → seats freed
RELEASE_LUA = """
local mine = ARGV[1] .. ':' .. ARGV[2] .. ':'
local freed = 0
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held and string.sub(held, 1, #mine) == mine
     and (ARGV[3] == '1' or string.sub(held, #mine + 1) ~= 'confirmed') then
    freed = freed + redis.call('DEL', KEYS[i])
  end
end
return freed
"""

_REFUSALS = {
    "stale": (StaleToken, "seats were held again under a newer token"),
    "not_holder": (NotHolder, "seats are held by another user"),
    "gone": (HoldExpired, "its seats are no longer held in Redis"),
    "expired": (HoldExpired, "its hold expired; hold the seats again"),
}


def _px_ms(ttl_s: float) -> int:
    if not (isinstance(ttl_s, int | float) and math.isfinite(ttl_s) and ttl_s > 0):
        raise ValidationError(f"ttl_s must be a positive number, got {ttl_s!r}", field="ttl_s")
    return max(1, math.ceil(ttl_s * 1000))


class RedisSeatHolds:
    """The hold layer: all-or-none seat holds, fenced confirms, holder-only release.

    ``namespace`` keeps shows of different tests or notebooks apart on one server.
    """

    _hold = LuaScript(HOLD_LUA)
    _confirm = LuaScript(CONFIRM_LUA)
    _release = LuaScript(RELEASE_LUA)

    def __init__(self, url: str | None = None, *, namespace: str = "default", client: Any = None):
        self.url, self.client, self.prefix = connect(
            url, client, namespace, key_prefix=KEY_PREFIX, make=async_client
        )

    def show_prefix(self, show_id: str) -> str:
        """Every key of one show starts with this (one hash slot in a cluster)."""
        return f"{self.prefix}{{{show_id}}}:"

    def seat_key(self, show_id: str, seat_id: str) -> str:
        return f"{self.show_prefix(show_id)}seat:{seat_id}"

    async def _run(self, script: LuaScript, keys: list[str], args: list[Any]) -> Any:
        with translated(self.url):
            return await script.run_async(self.client, keys, args)

    async def command(self, name: str, *args: Any) -> Any:
        """One plain Redis command, with failures typed as ``BackendUnavailable``."""
        with translated(self.url):
            return await self.client.execute_command(name, *args)

    async def hold(
        self, show: Show, seat_ids: Sequence[str], user_id: str, now: float, ttl_s: float
    ) -> int:
        """Hold every seat or none (``SeatsUnavailable`` names the taken ones); the token."""
        seats = validate_request(show, seat_ids, user_id)
        keys = [f"{self.show_prefix(show.show_id)}fence"]
        keys += [self.seat_key(show.show_id, s) for s in seats]
        args = [user_id, repr(float(now)), repr(float(now + ttl_s)), _px_ms(ttl_s)]
        token, taken = await self._run(self._hold, keys, args)
        if taken:
            names = ", ".join(seats[i - 1] for i in taken)
            raise SeatsUnavailable(f"seats {names} are taken", field="seat_ids")
        return int(token)

    async def confirm(
        self, show_id: str, seat_ids: Sequence[str], token: int, user_id: str, now: float
    ) -> bool:
        """Mark the seats confirmed for good if ``token`` still holds them all; True on a replay.

        Refusals: ``StaleToken`` (a newer hold has a seat), ``NotHolder``, ``HoldExpired``.
        """
        keys = [self.seat_key(show_id, s) for s in seat_ids]
        verdict = await self._run(self._confirm, keys, [token, user_id, repr(float(now))])
        if verdict in _REFUSALS:
            error, why = _REFUSALS[verdict]
            raise error(f"token {token} cannot confirm: {why}", field="token")
        return verdict == "replay"

    async def release(
        self,
        show_id: str,
        seat_ids: Sequence[str],
        token: int,
        user_id: str,
        *,
        confirmed_too: bool = False,
    ) -> int:
        """Compare-and-delete: free the seats ``token`` and ``user_id`` still hold; how many.

        ``confirmed_too`` undoes a confirm whose durable write failed.
        """
        keys = [self.seat_key(show_id, s) for s in seat_ids]
        return int(await self._run(self._release, keys, [token, user_id, int(confirmed_too)]))

    async def holder(self, show_id: str, seat_id: str) -> tuple[int, str, str] | None:
        """``(token, user, expires_at | "confirmed")`` of the seat's key, or None if free."""
        value = await self.command("GET", self.seat_key(show_id, seat_id))
        if value is None:
            return None
        token, rest = value.split(":", 1)
        user, ends = rest.rsplit(":", 1)
        return int(token), user, ends

    async def clear(self) -> int:
        """Delete this namespace's keys (a test or a notebook starting over); how many."""
        return await clear_namespace(self.client, self.url, self.prefix)

    async def close(self) -> None:
        await self.client.aclose()


class RedisSeatStore:
    """``SeatStore``: holds in Redis (``RedisSeatHolds``), the record in SQLite.

    ``await RedisSeatStore.open(url, namespace=..., path=...)``; ``path`` is the SQLite file.
    An ``ephemeral`` store (tests, notebooks) deletes its namespace's Redis keys on close.
    """

    def __init__(self, holds: RedisSeatHolds, record: SqliteSeatStore, ephemeral: bool = False):
        self.holds = holds
        self.record = record
        self.ephemeral = ephemeral

    @classmethod
    async def open(
        cls,
        url: str | None = None,
        *,
        namespace: str = "default",
        path: str = ":memory:",
        ephemeral: bool = False,
    ) -> RedisSeatStore:
        holds = RedisSeatHolds(url, namespace=namespace)
        return cls(holds, await SqliteSeatStore.open(path), ephemeral)

    def _link_key(self, show_id: str, token: int) -> str:
        return f"{self.holds.show_prefix(show_id)}hold:{token}"

    async def add_show(self, show: Show) -> None:
        await self.record.add_show(show)

    async def show(self, show_id: str) -> Show:
        return await self.record.show(show_id)

    async def hold(
        self, show_id: str, seat_ids: Sequence[str], user_id: str, now: float, ttl_s: float
    ) -> Hold:
        show = await self.record.show(show_id)
        fence = await self.holds.hold(show, seat_ids, user_id, now, ttl_s)
        try:
            hold = await self.record.hold(show_id, seat_ids, user_id, now, ttl_s)
        except BaseException:  # e.g. SQL still has a seat Redis forgot: give the lock back
            await self._forget(show_id, seat_ids, fence, user_id)
            raise
        try:
            await self.holds.command(
                "SET", self._link_key(show_id, hold.token), fence, "PX", _px_ms(ttl_s)
            )
        except BackendUnavailable:  # no link, no confirm: undo the durable hold too
            await self.record.release(hold.token, user_id, now)
            raise
        return hold

    async def fence_of(self, hold: Hold) -> int | None:
        """The Redis fencing token behind ``hold``; None once Redis forgot it."""
        fence = await self.holds.command("GET", self._link_key(hold.show_id, hold.token))
        return None if fence is None else int(fence)

    async def _forget(
        self, show_id: str, seat_ids: Sequence[str], fence: int, user_id: str, **kw: bool
    ) -> None:
        """Best-effort undo in Redis: if Redis is down too, the keys' TTL frees the seats."""
        try:
            await self.holds.release(show_id, seat_ids, fence, user_id, **kw)
        except BackendUnavailable:
            pass

    async def release(self, token: int, user_id: str, now: float) -> Hold:
        hold = await self.record.get(token, now)
        check_releasable(hold, user_id)
        fence = await self.fence_of(hold)
        if fence is not None:  # else Redis lost the lock already: only the record holds seats
            await self.holds.release(hold.show_id, hold.seat_ids, fence, user_id)
        return await self.record.release(token, user_id, now)

    async def confirm(self, token: int, user_id: str, payment_id: str, now: float) -> Hold:
        hold = await self.record.get(token, now)
        if check_confirmable(hold, user_id, payment_id, now):  # a replay: SQL has the booking
            return await self.record.confirm(token, user_id, payment_id, now)
        check_not_refunded(await self._attempt_or_none(token), payment_id)
        fence = await self.fence_of(hold)
        if fence is None:  # fail closed: the seats may have been re-held meanwhile
            raise HoldExpired(f"hold {token}: its Redis hold is gone", field="token")
        await self.holds.confirm(hold.show_id, hold.seat_ids, fence, user_id, now)
        try:
            return await self.record.confirm(token, user_id, payment_id, now)
        except BookingError:
            await self._forget(hold.show_id, hold.seat_ids, fence, user_id, confirmed_too=True)
            raise

    async def _attempt_or_none(self, token: int) -> PaymentAttempt | None:
        try:
            return await self.record.attempt(token)
        except UnknownHold:
            return None

    async def get(self, token: int, now: float) -> Hold:
        return await self.record.get(token, now)

    async def sweep(self, now: float) -> int:
        """Expire due holds in the record; their Redis keys are free by their stored time."""
        return await self.record.sweep(now)

    async def claims(self, show_id: str) -> list[Claim]:
        return await self.record.claims(show_id)

    async def begin_payment(self, token: int, now: float) -> PaymentAttempt:
        return await self.record.begin_payment(token, now)

    async def advance_payment(
        self,
        token: int,
        expected: AttemptState,
        new: AttemptState,
        now: float,
        payment_id: str | None = None,
    ) -> bool:
        return await self.record.advance_payment(token, expected, new, now, payment_id)

    async def attempt(self, token: int) -> PaymentAttempt:
        return await self.record.attempt(token)

    async def open_attempts(self) -> list[PaymentAttempt]:
        return await self.record.open_attempts()

    async def close(self) -> None:
        try:
            if self.ephemeral:
                await self.holds.clear()
        finally:
            await self.holds.close()
            await self.record.close()


async def open_seat_store(kind: str, url: str | None = None, **redis: Any) -> SeatStore:
    """A seat store by name (``STORE_KINDS``); ``url`` and ``redis`` options for ``"redis"``."""
    if kind == "memory":
        return MemorySeatStore()
    if kind == "sqlite":
        return await SqliteSeatStore.open()
    if kind == "redis":
        return await RedisSeatStore.open(url, **redis)
    raise ValidationError(f"unknown seat store {kind!r}; pick one of {STORE_KINDS}", field="kind")
