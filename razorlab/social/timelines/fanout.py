"""Bounded fan-out: a few workers drain a bounded queue of follower batches.

The seed starts one goroutine per follower; for an account with 100M followers that
is 100M concurrent tasks for one tweet, with no backpressure when the timeline store
slows down. Here a tweet becomes ``ceil(followers / FANOUT_BATCH)`` jobs on a queue
of bounded size, consumed by a fixed number of workers: memory is bounded by the
queue, and a slow store slows publishers instead of piling up tasks.
"""

from __future__ import annotations

import asyncio

from razorlab.errors import ValidationError
from razorlab.social.timelines.strategies import Timelines
from razorlab.social.timelines.tweets import Tweet

__all__ = ["FanoutWorkers"]


class FanoutWorkers:
    """``async with FanoutWorkers(service, workers=4) as fanout: await fanout.post(...)``."""

    def __init__(self, service: Timelines, *, workers: int = 4, queue_size: int = 64):
        if workers < 1 or queue_size < 1:
            raise ValidationError("workers and queue_size must be at least 1", field="workers")
        self.service = service
        self.workers = workers
        self._queue: asyncio.Queue[tuple[Tweet, list[int]]] = asyncio.Queue(queue_size)
        self._tasks: list[asyncio.Task[None]] = []
        self.peak_queued = 0
        self.batches_done = 0
        self.failures: list[BaseException] = []  # deliveries that raised, re-raised on drain

    async def __aenter__(self) -> FanoutWorkers:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.drain()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)  # CancelledErrors

    @property
    def queued(self) -> int:
        """Batches waiting in the queue: held only in this process's memory, lost if it stops.

        The queue bounds memory, not loss; surviving a crash needs a durable queue or an
        outbox written with the tweet, and deliveries that can be repeated safely.
        """
        return self._queue.qsize()

    async def post(self, author: int, text: str) -> Tweet:
        """Store the tweet, then enqueue its fan-out (waits when the queue is full)."""
        tweet = self.service.store.post(author, text)
        for batch in self.service.strategy.fanout_batches(tweet):
            await self._queue.put((tweet, batch))
            self.peak_queued = max(self.peak_queued, self._queue.qsize())
        return tweet

    async def drain(self) -> None:
        """Wait until every queued batch is handled; raise the first delivery that failed."""
        await self._queue.join()
        if self.failures:
            raise self.failures[0]

    async def _work(self) -> None:
        while True:
            tweet, batch = await self._queue.get()
            try:
                self.service.strategy.deliver(tweet, batch)
                self.batches_done += 1
            except Exception as exc:  # keep the worker alive (else join() hangs), report it
                self.failures.append(exc)
            finally:
                self._queue.task_done()
            await asyncio.sleep(0)  # one batch at a time per worker: let others run
