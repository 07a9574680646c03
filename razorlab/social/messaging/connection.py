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
buffer. A message committed just before the switch was neither in that page nor offered, so the
writer reads the inbox once more after it; a message both read there and offered live is
written once, because :meth:`Connection.write` drops a ``msg`` whose ``seq`` this device
already has (each chat reaches a device in ``seq`` order). No lock is shared with senders, so
sends keep sharing group commits while devices connect. One writer task per connection sends every outbound frame, so
frames never interleave and a stalled socket stalls only its own writer. The writer takes
everything queued at once and writes it as one batch under one deadline: a busy device costs
one timer per batch, not one per frame, and the frames still leave in queue order. A device
that said ``batch`` when it authenticated gets a batch as ``{"op": "batch", "frames": [...]}``
envelopes of at most :data:`ENVELOPE_BYTES` (one WebSocket frame, one socket write, instead of
one per frame: on loopback a socket write costs more than encoding the frame); any other
device gets the frames one by one, as before.

A phone that stops reading (but keeps its TCP connection open) must not pin the server's
memory. Every write has a deadline (:data:`SEND_TIMEOUT_S`): a write that cannot finish in
time means the device is a slow consumer and is kicked. A kick empties the buffer at once and
gives the close handshake :data:`CLOSE_TIMEOUT_S`; a peer that does not answer (it is not
reading, so it cannot) has its socket aborted, which also frees the kernel's send buffer.
Nothing is lost by either: the durable inbox still holds every unacknowledged message.

Receipts for this device's user are not queued here as frames: :meth:`Connection.wake_receipts`
queues one marker, and the writer then sends the user's stored receipt feed from
:attr:`Connection.receipt_cursor` on, in order — the same frames a reconnecting device gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Protocol

from razorlab.social.messaging.models import DEFAULT_DEVICE

__all__ = [
    "Connection",
    "SEND_BUFFER",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_HEARTBEAT_TIMEOUT",
    "CLOSE_REPLACED",
    "CLOSE_AUTH_TIMEOUT",
    "CLOSE_TOO_MANY_DEVICES",
    "CLOSE_UNLINKED",
    "SEND_TIMEOUT_S",
    "CLOSE_TIMEOUT_S",
    "RECEIPTS_DUE",
    "ENVELOPE_BYTES",
    "close_within",
]

SEND_BUFFER = 256  # frames queued for one device before it counts as a slow consumer
CLOSE_SLOW_CONSUMER = 4008  # WebSocket close code: reconnect and resume from your last ack
CLOSE_HEARTBEAT_TIMEOUT = 4000  # no heartbeat within the timeout
CLOSE_REPLACED = 4009  # the same device connected again; the newer connection wins
CLOSE_AUTH_TIMEOUT = 4001  # the socket did not authenticate in time
CLOSE_TOO_MANY_DEVICES = 4010  # a new device of a user who already has the most allowed
CLOSE_UNLINKED = 4011  # the device was unlinked (logged out) by its user
SEND_TIMEOUT_S = 10.0  # real seconds one write (a frame or a batch) may take, else dropped
CLOSE_TIMEOUT_S = 2.0  # real seconds the close handshake may take before the socket is aborted
ENVELOPE_BYTES = 64 * 1024  # a "batch" envelope holds frames up to about this many characters
RECEIPTS_DUE = "_receipts"  # op of the queue marker "the user's receipt feed has news"


async def close_within(closing: Awaitable[bool], timeout_s: float) -> bool:
    """Run a close handshake for at most ``timeout_s``; False if it failed or timed out."""
    task = asyncio.ensure_future(closing)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    return not task.cancelled() and task.exception() is None


class _Socket(Protocol):
    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Connection:
    """An authenticated device of ``user``: outbound frames go through :meth:`offer` and one
    writer. ``heard_at`` is when the device last sent a frame (its heartbeat)."""

    def __init__(
        self,
        user: str,
        ws: _Socket,
        buffer: int = SEND_BUFFER,
        *,
        abort: Callable[[], None] | None = None,
        send_timeout_s: float = SEND_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        receipt_cursor: int = 0,
        device: str = DEFAULT_DEVICE,
        heard_at: float = 0.0,
        batch: bool = False,
    ):
        if buffer < 1:
            raise ValueError(f"buffer must be >= 1 frame, got {buffer}")
        self.user, self.device, self.heard_at = user, device, heard_at
        self.ws = ws
        self.batch = batch  # the device takes several frames in one "batch" envelope
        self.envelopes = 0  # "batch" envelopes written (their frames are counted in sent)
        self.send_timeout_s = send_timeout_s
        self.close_timeout_s = close_timeout_s
        self.receipt_cursor = receipt_cursor  # last receipt_id of the feed sent to this device
        self.delivered: dict[str, int] = {}  # chat -> highest seq written to this device
        self._abort = abort
        self._receipts_due = False
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
        while not self.queue.empty():  # the inbox has every message: free the memory now
            self.queue.get_nowait()
        self._closing = asyncio.ensure_future(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> bool:
        closed = await close_within(
            self.ws.close(code=code, message=reason.encode()), self.close_timeout_s
        )
        if not closed:
            self.abort()  # a peer that does not read cannot answer the close handshake
        return closed

    def abort(self) -> None:
        """Drop the socket without a handshake (frees the kernel's buffers at once)."""
        if self._abort is not None:
            with contextlib.suppress(Exception):
                self._abort()

    def wake_receipts(self) -> None:
        """New receipts are stored for this user: have the writer send the feed (once)."""
        if not self._receipts_due and self.offer({"op": RECEIPTS_DUE}):
            self._receipts_due = True

    def take_receipts_due(self) -> None:
        """The writer is about to read the feed; later receipts wake it again."""
        self._receipts_due = False

    async def write(self, *frames: dict[str, object]) -> None:
        """Send ``frames`` now, in order (only the writer task calls this), under one deadline:
        a batch that cannot be written within ``send_timeout_s`` kicks the device."""
        payloads: list[str] = []
        frame_ops: list[str] = []
        for frame in frames:
            if frame.get("op") == "msg":  # counted before the bytes leave: the ack may race back
                chat, seq = str(frame["chat"]), int(frame["seq"])  # type: ignore[call-overload]
                if seq <= self.delivered.get(chat, 0):
                    continue  # already written (read from the inbox and offered live): once only
                self.delivered[chat] = seq
            frame_ops.append(str(frame.get("op")))
            payloads.append(json.dumps(frame, separators=(",", ":")))
        if not payloads:
            return
        try:  # one timer for the batch (wait_for would make a task per frame)
            async with asyncio.timeout(self.send_timeout_s):
                for data in self._envelopes(payloads) if self.batch else payloads:
                    await self.ws.send_str(data)
            self.sent.update(frame_ops)
        except TimeoutError:
            self.kick(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume from your last ack")
            raise ConnectionError(
                f"{self.user}: {len(payloads)} frame(s) took over {self.send_timeout_s:g} s"
            ) from None

    def _envelopes(self, payloads: list[str]) -> list[str]:
        """``payloads`` (encoded frames) packed into ``batch`` envelopes of bounded size; a
        lone frame goes as itself."""
        if len(payloads) == 1:
            return payloads
        envelopes, part, size = [], [], 0
        for data in payloads:
            if part and size + len(data) > ENVELOPE_BYTES:
                envelopes.append(part)
                part, size = [], 0
            part.append(data)
            size += len(data) + 1
        envelopes.append(part)
        self.envelopes += len(envelopes)
        return ['{"op":"batch","frames":[' + ",".join(part) + "]}" for part in envelopes]

    def take_queued(self) -> list[dict[str, object]]:
        """Everything queued right now, oldest first (the writer sends it as one batch)."""
        frames = []
        while not self.queue.empty():
            frames.append(self.queue.get_nowait())
        return frames

    async def closed(self) -> None:
        """Wait for a kick's close handshake to finish (no-op if never kicked)."""
        if self._closing is not None:
            await asyncio.gather(self._closing, return_exceptions=True)
