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

Plus ``sys.intern`` (Go: ``unique.Make`` since Go 1.23) and a small object pool
(Go: ``sync.Pool``, which the GC may empty; ours is explicit and bounded).

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

from razorlab.errors import StateError, ValidationError

__all__ = [
    "PoolRun",
    "STRATEGIES",
    "run_strategy",
    "compare_strategies",
    "intern_savings",
    "ObjectPool",
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
