"""Pipelined sends: one connection's messages share group commits instead of waiting in line.

Scenario: a phone comes back online with 64 queued messages and sends them in one burst. If
the server answered each frame before reading the next, every message would pay its own
commit (an fsync) and a chatty device would be limited to one message per commit, however
idle the database. Group commit (:class:`~razorlab.sqlite.GroupCommitter`) can only batch
what is *in flight* at once, so the server must read ahead.

Design note: the server reads a connection's frames in order and starts each ``send`` as its
own task instead of awaiting it; up to :data:`MAX_IN_FLIGHT` per connection (then the reader
waits, and TCP's window pushes back on the device; see :data:`MAX_IN_FLIGHT` for why it is a
quarter of the send buffer). Sends stay in frame order without a lock:
tasks start in creation order, and a send runs without suspending until it has queued its
transaction with the committer, whose batches commit in queue order — so a chat's ``seq``
follows the order its frames arrived, and replies come back in that order too. Every other
frame (``ack``, ``read``, ``history`` …) first waits for the connection's sends in flight
(:meth:`SendPipeline.drain`), so anything that depends on earlier frames sees them done — the
ordering a client gets from a server that answers one frame at a time, without its cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from razorlab.social.messaging.connection import SEND_BUFFER

__all__ = ["SendPipeline", "MAX_IN_FLIGHT"]

#: Sends one connection may have in flight before its reader waits. A batch's replies are
#: offered to the device's send buffer all at once, so this stays well below the buffer: a
#: device that pipelines is not mistaken for a slow consumer while other frames queue too.
MAX_IN_FLIGHT = SEND_BUFFER // 4


class SendPipeline:
    """The sends one connection has in flight, bounded; :meth:`drain` waits for them."""

    def __init__(self, limit: int = MAX_IN_FLIGHT):
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    async def start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in its own task once a slot is free (tasks start in call order)."""
        await self._slots.acquire()
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def drain(self) -> None:
        """Wait until every send started so far has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        """The connection is gone: stop waiting for replies (queued commits still happen)."""
        for task in self._tasks:
            task.cancel()
        await self.drain()
