"""Python analogues of the Go fixes: bounded worker pools, backpressure, pooling, interning.

Scenario: the Go advice "use a worker pool, not a goroutine per job; bound your
channels" holds for asyncio too. An ``asyncio.Task`` costs about a kilobyte of
Python heap (the task, its coroutine frame, its future machinery), so a million
pending tasks is a gigabyte before any work is done. This module runs the same
jobs three ways and measures peak Python memory with ``tracemalloc``:

* ``unbounded``: one task per job, all created up front (``go f()`` in a loop);
* ``worker_pool``: N workers draining a bounded ``asyncio.Queue``; the producer's
  ``await queue.put`` blocks when the queue is full (backpressure, like a buffered
  channel);
* ``semaphore``: one task per job, but at most N alive at once (``sem := make(chan
  struct{}, N)``).

Plus ``sys.intern`` (Go: ``unique.Make`` since Go 1.23), a small object pool that
is explicit and bounded, and ``SyncPool``, a model of when Go's ``sync.Pool`` lets go
of idle objects: at each GC its primary cache becomes a victim cache and the old
victim is dropped (``poolCleanup`` in ``src/sync/pool.go``, Go 1.13+), so an idle
object survives one GC and is freed after the second.

Design note: jobs yield to the event loop (``asyncio.sleep(0)``) as a stand-in for
I/O so the three strategies differ only in how many tasks exist at once. Wall
times are measured live and are machine-dependent; peak memory and the number of
tasks alive are the robust comparison.
"""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pandas as pd

from razorlab.errors import StateError, ValidationError

__all__ = [
    "PoolRun",
    "STRATEGIES",
    "run_strategy",
    "compare_strategies",
    "intern_savings",
    "ObjectPool",
    "SyncPool",
    "sync_pool_survival",
]

T = TypeVar("T")


@dataclass(frozen=True)
class PoolRun:
    strategy: str
    jobs: int
    limit: int
    peak_tasks: int  # most jobs in flight at once
    peak_bytes: int  # tracemalloc peak during the run
    wall_s: float
    result: int  # sum of job results: all strategies must agree


class _Tracker:
    """Counts jobs in flight; each job adds its index so results can be compared."""

    def __init__(self) -> None:
        self.alive = 0
        self.peak = 0
        self.total = 0

    async def job(self, i: int) -> None:
        self.alive += 1
        self.peak = max(self.peak, self.alive)
        await asyncio.sleep(0)  # the "I/O" wait: give the loop to other jobs
        self.total += i
        self.alive -= 1


async def _unbounded(n: int, limit: int, t: _Tracker) -> None:
    await asyncio.gather(*(asyncio.create_task(t.job(i)) for i in range(n)))


async def _worker_pool(n: int, limit: int, t: _Tracker) -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=limit)

    async def worker() -> None:
        while (i := await queue.get()) is not None:
            await t.job(i)

    workers = [asyncio.create_task(worker()) for _ in range(limit)]
    for i in range(n):
        await queue.put(i)  # blocks while the queue is full: backpressure
    for _ in workers:
        await queue.put(None)
    await asyncio.gather(*workers)


async def _semaphore(n: int, limit: int, t: _Tracker) -> None:
    sem = asyncio.Semaphore(limit)
    tasks: set[asyncio.Task] = set()

    async def guarded(i: int) -> None:
        try:
            await t.job(i)
        finally:
            sem.release()

    for i in range(n):
        await sem.acquire()  # at most `limit` jobs exist at once
        task = asyncio.create_task(guarded(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


STRATEGIES: dict[str, Callable[[int, int, _Tracker], Awaitable[None]]] = {
    "unbounded": _unbounded,
    "worker_pool": _worker_pool,
    "semaphore": _semaphore,
}


async def run_strategy(
    strategy: str, jobs: int, *, limit: int = 100, trace_memory: bool = True
) -> PoolRun:
    """Run ``jobs`` jobs with one strategy and measure peak memory and tasks in flight.

    ``tracemalloc`` slows Python several-fold; pass ``trace_memory=False`` to time
    throughput (``peak_bytes`` is then 0).
    """
    if strategy not in STRATEGIES:
        raise ValidationError(f"strategy must be one of {sorted(STRATEGIES)}", field="strategy")
    for name, value in (("jobs", jobs), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be an int >= 1, got {value!r}", field=name)
    tracker = _Tracker()
    ours = trace_memory and not tracemalloc.is_tracing()  # never stop a caller's tracing
    if ours:
        tracemalloc.start()
    if trace_memory:
        tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        await STRATEGIES[strategy](jobs, limit, tracker)
    finally:
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - base if trace_memory else 0
        if ours:
            tracemalloc.stop()
    return PoolRun(strategy, jobs, limit, tracker.peak, peak, wall, tracker.total)


async def compare_strategies(
    jobs: int, *, limit: int = 100, trace_memory: bool = True
) -> list[PoolRun]:
    """All three strategies on the same jobs, in a fixed order."""
    return [await run_strategy(s, jobs, limit=limit, trace_memory=trace_memory) for s in STRATEGIES]


def intern_savings(distinct: int, copies: int) -> dict[str, int]:
    """Bytes held by ``distinct * copies`` equal-by-value strings, with and without interning.

    Strings built at run time (here by ``str.join``) are separate objects even when
    equal; ``sys.intern`` returns one shared object per value.
    """
    if distinct < 1 or copies < 1:
        raise ValidationError("distinct and copies must be >= 1", field="distinct")

    def build(intern: bool) -> int:
        ours = not tracemalloc.is_tracing()  # a caller's session stays on, and is not counted
        if ours:
            tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        values = [
            "".join(("merchant-", str(i % distinct), "-status-captured"))
            for i in range(distinct * copies)
        ]
        if intern:
            values = [sys.intern(v) for v in values]
        held = tracemalloc.get_traced_memory()[0] - base
        if ours:
            tracemalloc.stop()
        del values
        return held

    plain, interned = build(False), build(True)
    return {"plain_bytes": plain, "interned_bytes": interned, "saved_bytes": plain - interned}


class ObjectPool(Generic[T]):
    """A bounded pool of reusable objects (buffers, parsers...) with a reset on release.

    ``acquire`` reuses a released object when one is available and creates one
    otherwise; ``release`` keeps at most ``max_idle`` objects. ``created`` shows how
    many allocations the pool saved.
    """

    def __init__(self, factory: Callable[[], T], reset: Callable[[T], None], max_idle: int = 64):
        if max_idle < 1:
            raise ValidationError("max_idle must be >= 1", field="max_idle")
        self._factory, self._reset, self._max_idle = factory, reset, max_idle
        self._idle: list[T] = []
        self._out: set[int] = set()
        self.created = 0
        self.reused = 0

    def acquire(self) -> T:
        if self._idle:
            obj = self._idle.pop()
            self.reused += 1
        else:
            obj = self._factory()
            self.created += 1
        self._out.add(id(obj))
        return obj

    def release(self, obj: T) -> None:
        if id(obj) not in self._out:
            raise StateError("object released twice or not from this pool", field="obj")
        self._out.discard(id(obj))
        self._reset(obj)
        if len(self._idle) < self._max_idle:
            self._idle.append(obj)


class SyncPool(Generic[T]):
    """When Go's ``sync.Pool`` keeps an idle object and when it lets the GC have it.

    ``put`` stores into the primary cache; ``get`` takes from the primary cache, then
    from the victim cache, and only then calls ``new``. ``gc`` is what ``poolCleanup``
    does at the start of every GC (``src/sync/pool.go``, Go 1.13+): drop the victim
    cache, then move the primary cache into the victim slot. An object put and not
    reused is therefore still there after one GC and gone after two. Per-P caches,
    stealing between Ps and the lock-free queues are left out: they change where
    an object is found, not how long it lives.
    """

    def __init__(self, new: Callable[[], T]) -> None:
        self._new = new
        self.primary: list[T] = []
        self.victim: list[T] = []
        self.created = 0
        self.reused = 0
        self.dropped = 0  # idle objects released to the GC

    def get(self) -> T:
        for cache in (self.primary, self.victim):
            if cache:
                self.reused += 1
                return cache.pop()
        self.created += 1
        return self._new()

    def put(self, obj: T) -> None:
        self.primary.append(obj)

    def gc(self) -> None:
        """One GC cycle: the victim cache is dropped, the primary cache becomes the victim."""
        self.dropped += len(self.victim)
        self.victim, self.primary = self.primary, []


def sync_pool_survival(objects: int = 8, max_gcs: int = 3) -> pd.DataFrame:
    """Put ``objects`` buffers in a ``SyncPool``, run 0..``max_gcs`` GCs, get them back.

    One row per number of GCs in between: how many ``get`` calls were served from the
    pool, how many had to allocate, how many idle objects the GC took.
    """
    if objects < 1 or max_gcs < 0:
        raise ValidationError("objects >= 1 and max_gcs >= 0", field="objects")
    rows = []
    for gcs in range(max_gcs + 1):
        pool: SyncPool[bytearray] = SyncPool(bytearray)
        for _ in range(objects):
            pool.put(bytearray(4096))
        for _ in range(gcs):
            pool.gc()
        for _ in range(objects):
            pool.get()
        rows.append(
            {
                "gcs_while_idle": gcs,
                "reused": pool.reused,
                "allocated": pool.created,
                "dropped_by_gc": pool.dropped,
            }
        )
    return pd.DataFrame(rows).set_index("gcs_while_idle")
