"""Coalescing: whatever arrives while one batch is being processed goes out in the next.

Scenario: a hundred coroutines each want one small write. Doing them one by one pays a
round trip and a commit each; batching them pays once per batch. The trick is not to wait
for a batch to fill: the first caller starts processing at once, callers that arrive
meanwhile queue up, and the queue goes out together as soon as the previous batch is done.
Under light load a batch holds one item and adds no delay; under heavy load batches grow
by themselves. Databases call this *group commit*; TigerBeetle batches transfers this way.

Design note: processing runs in its own task, so a cancelled caller cannot strand the
others' batch (its item still runs; nobody reads its answer). ``process`` returns one
``(ok, result or exception)`` per item, so one item's failure is its caller's alone; if
``process`` itself raises, every caller of that batch gets the exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["Coalescer", "Outcome"]

_I = TypeVar("_I")
_R = TypeVar("_R")
#: One item's outcome: ``(True, result)`` or ``(False, exception)``.
Outcome = tuple[bool, Any]


class Coalescer(Generic[_I, _R]):
    """``await coalescer.submit(item)`` → its result, processed in a batch with its peers.

    ``lock``, if given, is held while batches are processed (e.g. a database connection's
    write lock); ``max_batch`` caps a batch (the rest waits for the next one).
    """

    def __init__(
        self,
        process: Callable[[list[_I]], Awaitable[list[Outcome]]],
        *,
        max_batch: int | None = None,
        lock: asyncio.Lock | None = None,
    ):
        self._process, self.max_batch, self.lock = process, max_batch, lock
        self._queue: list[tuple[_I, asyncio.Future[_R]]] = []
        self._flusher: asyncio.Future[None] | None = None
        self.batches = 0  # batches processed (<= items: several share one)
        self.completed = 0  # items whose caller got a result, not an exception

    async def submit(self, item: _I) -> _R:
        future: asyncio.Future[_R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        result = await future
        self.completed += 1
        return result

    async def drain(self) -> None:
        """Wait until everything submitted has been processed (e.g. before closing)."""
        if self._flusher is not None:
            await self._flusher

    async def _flush(self) -> None:
        try:
            async with self.lock or contextlib.nullcontext():
                while self._queue:
                    cut = self.max_batch or len(self._queue)
                    batch, self._queue = self._queue[:cut], self._queue[cut:]
                    try:
                        outcomes = await self._process([item for item, _ in batch])
                    except Exception as exc:  # the batch as a whole failed: so did each item
                        outcomes = [(False, exc)] * len(batch)
                    for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                        if future.done():  # its caller was cancelled
                            continue
                        if ok:
                            future.set_result(value)
                        else:
                            future.set_exception(value)
                    self.batches += 1
        finally:
            self._flusher = None
