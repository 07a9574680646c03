"""The shared L2 cache on Redis, with fenced writes so a slow reader cannot bring back the past.

Scenario: gateway A misses ``pay_1`` in L2 and starts loading it from the database (status
``authorized``); meanwhile gateway B captures the payment, commits, and invalidates ``pay_1``.
A's load, which read the row *before* the capture, finishes and writes ``authorized`` into L2:
every process now serves the old status until the TTL expires. :class:`MultiLevelCache` fences
this off within one process with generation numbers; across processes the fence must live in
the shared store itself. :class:`RedisL2` implements the :class:`~razorlab.infra.cache.L2Store`
protocol (``get`` / ``set`` / ``delete``) with that fence.

Design note
-----------
- **A version per key, bumped by every invalidation.** ``delete`` is one Lua script: ``DEL``
  the value and ``INCR`` the key's version. A ``get`` that misses records the version it saw
  (a *ticket*); the following ``set`` from the same reader is one Lua script that writes only
  if the version is still the ticket. An invalidation between the miss and the fill changes
  the version, so the stale fill is refused (``fenced_writes`` counts them) and the next reader
  loads the committed row. This is the fencing-token idea (Kleppmann, "How to do distributed
  locking") applied to cache fills.
- **Tickets follow the reader.** ``MultiLevelCache`` calls ``get``, the loader and ``set`` in
  one asyncio task, so the ticket is kept per task (and per key) and vanishes with the task.
  A ``set`` with no ticket (no miss before it in this task) is a plain write-through, like
  :class:`~razorlab.infra.cache.InMemoryL2`. Callers managing versions themselves use
  :meth:`RedisL2.fetch` and ``set(..., version=...)``.
- **Versions outlive values.** The version key lives ``fence_ttl_s`` (an hour by default,
  refreshed by every miss and invalidation); only a read slower than that could be fooled.
- **Values are JSON** so any process (or language) can read them; a value JSON cannot encode
  is a :class:`~razorlab.errors.ValidationError` and nothing is stored. Expiry is Redis's own
  ``PX`` (real time), not the injected clock: the store is shared, so its clock is the server's.
- Unreachable Redis raises :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
import math
import weakref
from collections.abc import Hashable
from typing import Any

from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    LuaScript,
    async_client,
    clear_namespace,
    connect,
    redis_key,
    translated,
)

__all__ = ["KEY_PREFIX", "FENCE_TTL_S", "TICKETS_PER_TASK", "RedisL2"]

KEY_PREFIX = "razorlab:l2"  # + ":<namespace>:{<key>}:v" (value) and ":ver" (version)
FENCE_TTL_S = 3600.0  # seconds a key's version outlives its last miss or invalidation
TICKETS_PER_TASK = 1_000  # misses remembered per task (oldest dropped: its fill is unfenced)

# KEYS value, version; ARGV fence_ttl_ms → {hit, value, version}
_GET_LUA = """
local value = redis.call('GET', KEYS[1])
if value then return {1, value, ''} end
local version = redis.call('GET', KEYS[2])
if version then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return {0, '', version or '0'}
"""
# KEYS value, version; ARGV value, ttl_ms, ticket ('' = unfenced) → 1 written, 0 fenced off
_SET_LUA = """
if ARGV[3] ~= '' and (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# KEYS value, version; ARGV fence_ttl_ms → the new version
_DELETE_LUA = """
redis.call('DEL', KEYS[1])
local version = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return version
"""


def _ms(seconds: float, field: str) -> int:
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ValidationError(f"{field} must be a positive number, got {seconds!r}", field=field)
    return max(1, math.ceil(seconds * 1000))


class RedisL2:
    """An :class:`~razorlab.infra.cache.L2Store` on Redis whose fills are fenced by versions."""

    _get = LuaScript(_GET_LUA)
    _set = LuaScript(_SET_LUA)
    _delete = LuaScript(_DELETE_LUA)

    def __init__(
        self,
        url: str | None = None,
        *,
        namespace: str = "default",
        fence_ttl_s: float = FENCE_TTL_S,
        client: Any = None,
    ):
        self.url, self.client, self.prefix = connect(
            url, client, namespace, key_prefix=KEY_PREFIX, make=async_client
        )
        self.fence_ms = _ms(fence_ttl_s, "fence_ttl_s")
        self.fenced_writes = 0  # fills refused because the key was invalidated meanwhile
        self._tickets: weakref.WeakKeyDictionary[asyncio.Task[Any], dict[str, str]] = (
            weakref.WeakKeyDictionary()
        )

    def _keys(self, key: Hashable) -> list[str]:
        base = redis_key(self.prefix, key)
        tagged = f"{self.prefix}{{{base[len(self.prefix) :]}}}"  # one hash slot per key
        return [f"{tagged}:v", f"{tagged}:ver"]

    async def _run(self, script: LuaScript, keys: list[str], args: list[Any]) -> Any:
        with translated(self.url):
            return await script.run_async(self.client, keys, args)

    async def fetch(self, key: Hashable) -> tuple[Any | None, str]:
        """``(value, version)``: the value or ``None``; on a miss, the version to fence with."""
        keys = self._keys(key)
        hit, raw, version = await self._run(self._get, keys, [self.fence_ms])
        if hit:
            return json.loads(raw), ""
        return None, version

    async def get(self, key: Hashable) -> Any | None:
        """The value, or ``None`` (then this task's next ``set`` of ``key`` is fenced)."""
        value, version = await self.fetch(key)
        task = asyncio.current_task()
        if task is None:
            return value
        tickets = self._tickets.setdefault(task, {})
        name = self._keys(key)[0]
        tickets.pop(name, None)
        if value is None:
            tickets[name] = version
            if len(tickets) > TICKETS_PER_TASK:
                del tickets[next(iter(tickets))]
        return value

    async def set(
        self, key: Hashable, value: Any, ttl_s: float, *, version: str | None = None
    ) -> bool:
        """Store ``value`` for ``ttl_s`` seconds unless ``key`` was invalidated since the miss.

        ``version`` defaults to the ticket of this task's last miss on ``key`` (none: write).
        Returns whether the value was written.
        """
        keys = self._keys(key)
        ttl_ms = _ms(ttl_s, "ttl_s")
        try:
            raw = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"L2 values must be JSON: {exc}", field="value") from exc
        if version is None:
            task = asyncio.current_task()
            tickets = self._tickets.get(task) if task is not None else None
            version = tickets.pop(keys[0], "") if tickets else ""
        written = bool(await self._run(self._set, keys, [raw, ttl_ms, version]))
        if not written:
            self.fenced_writes += 1
        return written

    async def delete(self, key: Hashable) -> None:
        """Invalidate: drop the value and bump the version, fencing off fills in flight."""
        await self._run(self._delete, self._keys(key), [self.fence_ms])

    async def clear(self) -> int:
        """Delete this namespace's values and versions (tests, notebooks); how many keys."""
        return await clear_namespace(self.client, self.url, self.prefix)

    async def close(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> RedisL2:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
