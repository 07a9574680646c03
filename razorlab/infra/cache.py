"""A three-level read cache for payment lookups: L1 in-process, L2 shared, L3 the loader.

Scenario: merchants poll ``GET /v1/payments/{id}`` far more often than payments change.
L1 is a small LRU in each gateway process (no network hop), L2 a shared store such as
Redis (here an in-memory stand-in behind a tiny protocol), L3 the loader that reads the
database. A miss at one level fills the levels above it.

Design note
-----------
- **Invalidate, don't update.** When a payment changes (capture, refund), the writer
  calls ``invalidate(id)`` after its transaction commits; the next read loads the
  committed row. Writing the new value into the cache instead races with concurrent
  readers holding the old one.
- **No stale fill after invalidate.** A read that started loading *before* an
  invalidation must not put its (now old) value into L1/L2 afterwards. Each key being
  read has a generation number bumped by ``invalidate``; a load only fills the caches if
  the generation is unchanged when it finishes. Generations are kept only while a read of
  the key is in progress, so memory stays bounded by concurrent reads, not by every key
  ever invalidated.
- **Single flight.** Concurrent misses for one key share a single loader call, so a hot
  payment that just expired does not stampede the database.
- **Not-found is not cached**: a payment created a moment later must be visible.
- **What L1 cannot promise.** ``invalidate`` clears *this* process's L1 and the shared
  L2; other processes' L1 entries stay until their TTL, so ``l1_ttl_s`` is the bound on
  cross-process staleness (keep it short; invalidation fan-out via pub/sub is the fix).
- Keys are entity ids (``pay_…``). Never key a cache by a request id: that is how the
  seed's design turns a retry into a second charge; idempotency is a separate, durable
  store (see ``razorlab.payments`` idempotency).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from razorlab.clock import Clock
from razorlab.errors import ValidationError

__all__ = [
    "L1_MAX_ITEMS",
    "L1_TTL_S",
    "L2_TTL_S",
    "L2Store",
    "InMemoryL2",
    "LRUCache",
    "LevelStats",
    "MultiLevelCache",
]

L1_MAX_ITEMS = 10_000  # entries per process
L1_TTL_S = 5.0  # seconds: bounds how stale another process's L1 can be
L2_TTL_S = 300.0  # seconds an entry lives in the shared cache

Loader = Callable[[Hashable], Awaitable[Any]]
_MISSING = object()


@runtime_checkable
class L2Store(Protocol):
    """What the shared cache level must offer (Redis GET / SET EX / DEL)."""

    async def get(self, key: Hashable) -> Any | None:
        """The value, or ``None`` if absent or expired."""

    async def set(self, key: Hashable, value: Any, ttl_s: float) -> None: ...

    async def delete(self, key: Hashable) -> None: ...


class LRUCache:
    """Bounded in-process map: least recently used entry evicted first, entries expire."""

    def __init__(self, clock: Clock, *, max_items: int = L1_MAX_ITEMS, ttl_s: float = L1_TTL_S):
        if max_items < 1:
            raise ValidationError(f"max_items must be >= 1, got {max_items}", field="max_items")
        if ttl_s <= 0:
            raise ValidationError(f"ttl_s must be > 0, got {ttl_s}", field="ttl_s")
        self.clock = clock
        self.max_items = max_items
        self.ttl_s = ttl_s
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self.evictions = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return default
        expires_at, value = entry
        if self.clock.now() >= expires_at:
            del self._data[key]
            return default
        self._data.move_to_end(key)
        return value

    def set(self, key: Hashable, value: Any) -> None:
        self._data[key] = (self.clock.now() + self.ttl_s, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_items:
            self._data.popitem(last=False)
            self.evictions += 1

    def delete(self, key: Hashable) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING


class InMemoryL2:
    """The default L2: a dict with per-entry expiry (what Redis ``SET key v EX ttl`` does)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._data: dict[Hashable, tuple[float, Any]] = {}

    async def get(self, key: Hashable) -> Any | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if self.clock.now() >= entry[0]:
            del self._data[key]
            return None
        return entry[1]

    async def set(self, key: Hashable, value: Any, ttl_s: float) -> None:
        self._data[key] = (self.clock.now() + ttl_s, value)

    async def delete(self, key: Hashable) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class LevelStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass
class _Stats:
    l1: LevelStats = field(default_factory=LevelStats)
    l2: LevelStats = field(default_factory=LevelStats)
    l3: LevelStats = field(default_factory=LevelStats)  # loader: hit = found, miss = None
    invalidations: int = 0
    stale_fills_skipped: int = 0


class MultiLevelCache:
    """``await cache.get(id)`` → L1 → L2 → loader; ``await cache.invalidate(id)`` on change."""

    def __init__(
        self,
        loader: Loader,
        clock: Clock,
        *,
        l2: L2Store | None = None,
        l1_max_items: int = L1_MAX_ITEMS,
        l1_ttl_s: float = L1_TTL_S,
        l2_ttl_s: float = L2_TTL_S,
    ):
        if l2_ttl_s <= 0:
            raise ValidationError(f"l2_ttl_s must be > 0, got {l2_ttl_s}", field="l2_ttl_s")
        self.loader = loader
        self.clock = clock
        self.l1 = LRUCache(clock, max_items=l1_max_items, ttl_s=l1_ttl_s)
        self.l2: L2Store = l2 if l2 is not None else InMemoryL2(clock)
        self.l2_ttl_s = l2_ttl_s
        self.stats = _Stats()
        self._generation: dict[Hashable, int] = {}  # only for keys with reads in progress
        self._readers: dict[Hashable, int] = {}
        self._inflight: dict[tuple[Hashable, int], asyncio.Future[Any]] = {}

    async def get(self, key: Hashable) -> Any | None:
        """The value for ``key`` from the nearest level that has it; ``None`` if not found."""
        value = self.l1.get(key, _MISSING)
        if value is not _MISSING:
            self.stats.l1.hits += 1
            return value
        self.stats.l1.misses += 1
        self._readers[key] = self._readers.get(key, 0) + 1
        try:
            return await self._below_l1(key, self._generation.get(key, 0))
        finally:
            self._readers[key] -= 1
            if not self._readers[key]:
                del self._readers[key]
                self._generation.pop(key, None)

    async def _below_l1(self, key: Hashable, generation: int) -> Any | None:
        value = await self.l2.get(key)
        if value is not None:
            self.stats.l2.hits += 1
            if self._generation.get(key, 0) == generation:
                self.l1.set(key, value)
            return value
        self.stats.l2.misses += 1
        return await self._load(key, generation)

    async def invalidate(self, key: Hashable) -> None:
        """Drop ``key`` from L1 and L2 and fence off loads already in flight."""
        if key in self._readers:  # fence reads in progress; no reader, nothing to fence
            self._generation[key] = self._generation.get(key, 0) + 1
        self.stats.invalidations += 1
        self.l1.delete(key)
        await self.l2.delete(key)

    def snapshot(self) -> list[dict[str, float | int | str]]:
        """Hits, misses and hit rate per level: ``pd.DataFrame(cache.snapshot())``."""
        levels = {"L1": self.stats.l1, "L2": self.stats.l2, "L3 (loader)": self.stats.l3}
        return [
            {"level": name, "hits": s.hits, "misses": s.misses, "hit_rate": round(s.hit_rate, 4)}
            for name, s in levels.items()
        ]

    async def _load(self, key: Hashable, generation: int) -> Any | None:
        flight = (key, generation)
        shared = self._inflight.get(flight)
        if shared is not None:
            return await asyncio.shield(shared)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        try:
            value = await self.loader(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        else:
            future.set_result(value)
        finally:
            del self._inflight[flight]
        if value is None:
            self.stats.l3.misses += 1
            return None
        self.stats.l3.hits += 1
        if self._generation.get(key, 0) != generation:
            self.stats.stale_fills_skipped += 1
            return value
        await self.l2.set(key, value, self.l2_ttl_s)
        if self._generation.get(key, 0) != generation:
            # invalidated while the L2 write was in flight: undo it rather than leave it stale
            await self.l2.delete(key)
            self.stats.stale_fills_skipped += 1
        else:
            self.l1.set(key, value)
        return value
