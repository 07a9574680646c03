"""Messaging (WhatsApp scenario): one device's connection — a bounded send buffer and its policy.

The seed's WebSocket manager drops a message when a client's buffer is full (and deletes the
client from a shared map while holding only a *read* lock). Here a full buffer is an explicit,
loss-free event: the device is a **slow consumer**, its connection is closed with code
:data:`CLOSE_SLOW_CONSUMER`, and it reconnects and resumes from its last acknowledgement. That
is safe because the buffer is never the only copy: every message was committed to the
recipient's durable inbox before it was offered here, and leaves the inbox only when the
device acknowledges it.

Design note: a connection has two modes. While *catching up* (just connected, possibly days of
backlog) its writer pages through the inbox, so a backlog never has to fit in the buffer; live
messages are not offered meanwhile — they are already in the inbox, behind the cursor. Once a
page comes back empty the connection turns *live* and new messages are pushed through the
buffer. The switch happens under the server's fan-out lock, so no message is missed or sent
twice between the two modes. One writer task per connection sends every outbound frame, so
frames never interleave and a stalled socket stalls only its own writer.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Protocol

__all__ = [
    "Connection",
    "SEND_BUFFER",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_HEARTBEAT_TIMEOUT",
    "CLOSE_REPLACED",
]

SEND_BUFFER = 256  # frames queued for one device before it counts as a slow consumer
CLOSE_SLOW_CONSUMER = 4008  # WebSocket close code: reconnect and resume from your last ack
CLOSE_HEARTBEAT_TIMEOUT = 4000  # no heartbeat within the timeout
CLOSE_REPLACED = 4009  # the same user connected again; the newer connection wins


class _Socket(Protocol):
    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Connection:
    """An authenticated device: outbound frames go through :meth:`offer` and one writer."""

    def __init__(self, user: str, ws: _Socket, buffer: int = SEND_BUFFER):
        if buffer < 1:
            raise ValueError(f"buffer must be >= 1 frame, got {buffer}")
        self.user = user
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(maxsize=buffer)
        self.live = False  # False while catching up from the inbox
        self.cursor = 0  # inbox position of the last message sent while catching up
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.sent: Counter[str] = Counter()  # frames written, by op
        self._closing: asyncio.Task[bool] | None = None

    def offer(self, frame: dict[str, object]) -> bool:
        """Queue ``frame`` without waiting; a full buffer disconnects (never drops silently)."""
        if self.close_code is not None:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.kick(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume from your last ack")
            return False
        return True

    def kick(self, code: int, reason: str) -> None:
        """Close the connection with ``code``; unacknowledged messages stay in the inbox."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        self._closing = asyncio.ensure_future(self.ws.close(code=code, message=reason.encode()))

    async def write(self, frame: dict[str, object]) -> None:
        """Send one frame now (only the writer task calls this)."""
        await self.ws.send_str(json.dumps(frame, separators=(",", ":")))
        self.sent[str(frame.get("op"))] += 1

    async def flush_queued(self) -> None:
        """Send whatever is already queued, without waiting for more."""
        while not self.queue.empty():
            await self.write(self.queue.get_nowait())

    async def closed(self) -> None:
        """Wait for a kick's close handshake to finish (no-op if never kicked)."""
        if self._closing is not None:
            await asyncio.gather(self._closing, return_exceptions=True)
