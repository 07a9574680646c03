"""Messaging (WhatsApp scenario): the aiohttp WebSocket server and its small JSON protocol.

Clients speak JSON text frames ``{"op": ..., "ref": ...}`` on ``/ws``. A request with a
``ref`` gets a reply echoing it, so a client can match answers to questions; a request without
one is fire-and-forget (typically ``ack``) and is answered only if it fails.

========================  ==================================================================
client → server           reply / effect
========================  ==================================================================
``auth`` token            ``welcome`` (then receipts after ``receipts_after``, then this
[device]                  device's offline inbox, in order); required first, within
[receipts_after]          :data:`AUTH_TIMEOUT_S`; ``device`` defaults to ``"primary"``;
[batch]                   ``batch: true`` opts in to ``batch`` envelopes (below)
``send`` chat client_id   ``sent`` with the chat's ``seq`` (a retry gets the same ``seq``,
text                      ``duplicate: true``); recipients' devices and the sender's other
                          devices get ``msg``
``ack`` chat seq          everything up to ``seq`` delivered: dequeued, sender gets ``receipt``
``read`` chat seq         everything up to ``seq`` read; sender gets ``receipt`` (both refused
                          with ``NOT_DELIVERED`` beyond what this device was given)
``history`` chat          a page of older messages (``before``, ``limit``; ``next_before``)
``presence`` user         ``online`` and ``last_seen``
``ping``                  ``pong`` (any frame counts as a heartbeat)
``direct`` user,          ``chat``: open a 1:1 chat, create a group, add a member
``group`` name members,
``add_member`` chat user
``unlink`` device         ``unlinked``: log one of your devices out (closed with
                          :data:`CLOSE_UNLINKED` if connected; never your only device)
========================  ==================================================================

Server → client frames are ``welcome``, the replies above, ``msg``, ``receipt`` and
``error``. A device that authenticated with ``batch: true`` may also get ``{"op": "batch",
"frames": [...]}``: frames that were queued together, in order, in one WebSocket frame (see
``connection``); it handles each as if it had come alone. Without it every frame comes alone,
so a client that predates batching keeps working. Frame counts (``frames_sent``) count the
frames inside an envelope, not the envelope.

Anything wrong — not JSON, nested too deep, larger than :data:`MAX_FRAME_BYTES`, not an
object, unknown op, missing field or wrong type, not authenticated, not a member — gets
``{"op": "error", "error": {"code", "description", "field"}}`` (``BAD_REQUEST_ERROR`` for
malformed input) and the connection stays usable; a bug in a handler is answered with
``INTERNAL_ERROR``, never a crashed server. Only a frame beyond :data:`HARD_FRAME_BYTES` ends
the connection (close code 1009, "message too big"): it is refused before it is buffered.

Bounded resources: a socket must authenticate within :data:`AUTH_TIMEOUT_S` and at most
``max_connections`` sockets are open at once (see ``admission``); every write and close has a
deadline (see ``connection``), so a stalled reader is dropped and its memory freed, and
stopping the server cannot hang on one.

Several devices per user, as WhatsApp's multi-device: a connection is keyed by *(user,
device)*. A user has at most :data:`~razorlab.social.messaging.models.MAX_DEVICES` devices
(WhatsApp: the phone and up to four linked devices); a new device beyond that gets a
``TOO_MANY_DEVICES`` error and the close code :data:`CLOSE_TOO_MANY_DEVICES`. Every message
to a user reaches each of her devices once, in order, from that device's own durable cursor;
a message she sends from one device reaches her others too (sent-message sync); a receipt
says delivered (read) as soon as any of her devices acknowledged (read) it. A device that
connects again with the same id replaces only its own older connection (close code 4009).
Simplified: WhatsApp encrypts each copy per device (client fan-out, Signal sessions per
device) and sends a new companion an encrypted history sync; here the server stores one copy
and the ``history`` request serves the past, and a linked device is never logged out.

Design note: a send commits to the store first (message, receipts, recipients' inboxes) and
only then offers the frame to live devices, with no await in between, so live devices get a
chat's messages in commit (``seq``) order; the catch-up→live switch needs no lock (see
``connection``). A device's sends are pipelined so they share group commits (see
``pipeline``); every other frame is answered after the sends before it. Only a recipient with no connected
device needs a push notification; the server counts those in ``stats["wake_pushes"]`` (a
real deployment would send a content-free wake-up through APNs/FCM, and the app would then
fetch its inbox). A connected device, even one still catching up, gets no push. A real
deployment partitions chats across servers and routes between them; one process and one
SQLite file keep every invariant visible here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable

from aiohttp import WSMsgType, web

from razorlab.clock import Clock, SystemClock
from razorlab.errors import RazorlabError, ValidationError
from razorlab.social.messaging.admission import (
    AUTH_TIMEOUT_S,
    CLOSE_TRY_AGAIN_LATER,
    MAX_CONNECTIONS,
    Admission,
    default_max_connections,
)
from razorlab.social.messaging.connection import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_REPLACED,
    CLOSE_TIMEOUT_S,
    CLOSE_TOO_MANY_DEVICES,
    CLOSE_UNLINKED,
    RECEIPTS_DUE,
    SEND_BUFFER,
    SEND_TIMEOUT_S,
    Connection,
)
from razorlab.social.messaging.models import (
    DEFAULT_DEVICE,
    MAX_DEVICES,
    MAX_SEQ,
    AuthError,
    LastDeviceError,
    NotDeliveredError,
    TooManyDevicesError,
    UnknownDeviceError,
    validate_device_id,
    validate_seq,
)
from razorlab.social.messaging.pipeline import SendPipeline
from razorlab.social.messaging.presence import HEARTBEAT_TIMEOUT_S, Presence
from razorlab.social.messaging.store import HISTORY_PAGE, ChatStore, Receipt

__all__ = [
    "ChatServer",
    "MAX_FRAME_BYTES",
    "HARD_FRAME_BYTES",
    "CATCH_UP_PAGE",
    "SWEEP_EVERY_S",
    # admission's limits, also importable from here:
    "AUTH_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "CLOSE_TRY_AGAIN_LATER",
    "default_max_connections",
]

MAX_FRAME_BYTES = 64 * 1024  # larger frames are answered with a BAD_REQUEST error frame
HARD_FRAME_BYTES = 1024 * 1024  # larger ones close the connection (1009) before buffering
CATCH_UP_PAGE = 100  # inbox rows read per step while a device catches up
SWEEP_EVERY_S = 5.0  # how often the heartbeat sweeper looks for silent devices
UNLINK_EVERY_S = 3_600.0  # how often it looks for devices idle for DEVICE_IDLE_S
_log = logging.getLogger(__name__)


class _InternalError(RazorlabError):
    code = "INTERNAL_ERROR"
    http_status = 500


def _no_constant(name: str) -> float:
    raise ValidationError(f"{name} is not a JSON number", field="frame")


def _failure(exc: Exception) -> dict:
    """The error frame answering a request that raised ``exc`` (a bug: ``INTERNAL_ERROR``)."""
    if not isinstance(exc, RazorlabError):
        _log.error("chat handler failed", exc_info=exc)
        exc = _InternalError("internal error")
    return {"op": "error", "error": exc.to_dict()}


def _field(frame: dict, name: str, kind: type | tuple[type, ...], default: object = ...) -> object:
    value = frame.get(name, default)
    if value is ...:
        raise ValidationError(f"'{name}' is required for op {frame.get('op')!r}", field=name)
    if value is not default and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ValidationError(f"'{name}' has the wrong type: {value!r}", field=name)
    return value


def _parse(msg: object) -> dict:
    if getattr(msg, "type", None) != WSMsgType.TEXT:
        raise ValidationError("frames must be JSON text, not binary", field="frame")
    if len(msg.data) > MAX_FRAME_BYTES:
        raise ValidationError(
            f"frame has {len(msg.data):,} characters; at most {MAX_FRAME_BYTES:,} allowed",
            field="frame",
        )
    try:
        frame = json.loads(msg.data, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ValidationError(f"frame is not valid JSON ({err.msg})", field="frame") from None
    except RecursionError:
        raise ValidationError("frame is nested too deeply", field="frame") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("op"), str):
        raise ValidationError("a frame is a JSON object with a string 'op'", field="op")
    return frame


class ChatServer:
    """The chat service over one :class:`ChatStore`; :meth:`app` is its aiohttp application."""

    def __init__(
        self,
        store: ChatStore,
        clock: Clock | None = None,
        *,
        send_buffer: int = SEND_BUFFER,
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
        auth_timeout_s: float = AUTH_TIMEOUT_S,
        max_connections: int | None = None,
        send_timeout_s: float = SEND_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ):
        self.store = store
        self.clock = clock or SystemClock()
        self.send_buffer = send_buffer
        self.send_timeout_s = send_timeout_s
        self.close_timeout_s = close_timeout_s
        self.presence = Presence(self.clock, heartbeat_timeout_s)
        self.devices: dict[str, dict[str, Connection]] = {}  # user -> device -> connection
        self.stats: Counter[str] = Counter()
        self.admission = Admission(
            self.clock,
            self.stats,
            auth_timeout_s=auth_timeout_s,
            max_connections=max_connections,
            send_timeout_s=send_timeout_s,
            close_timeout_s=close_timeout_s,
        )
        self._sweeper: asyncio.Task[None] | None = None
        # idle devices are unlinked in their own task (the heartbeat sweep never waits on the
        # database), at most every UNLINK_EVERY_S
        self._unlinking: asyncio.Task[object] | None = None
        self._next_unlink = self.clock.now()
        self._ops = {
            "send": self._send,
            "ack": self._ack,
            "read": self._read,
            "history": self._history,
            "presence": self._presence,
            "ping": self._ping,
            "direct": self._direct,
            "group": self._group,
            "add_member": self._add_member,
            "unlink": self._unlink,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/health", self._health)
        app.on_startup.append(self._start_sweeper)
        app.on_shutdown.append(self._shutdown)
        return app

    # ---- lifecycle ---------------------------------------------------------------------

    async def _start_sweeper(self, _app: web.Application) -> None:
        self._sweeper = asyncio.ensure_future(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await self.clock.sleep(SWEEP_EVERY_S)
            silent_since = self.clock.now() - self.presence.timeout_s
            for conn in self._all_connections():  # per device: one silent phone of a user
                if conn.heard_at < silent_since:  # whose laptop is busy is still dropped
                    self.stats["heartbeat_timeouts"] += 1
                    conn.kick(CLOSE_HEARTBEAT_TIMEOUT, "no heartbeat: reconnect")
            idle = self._unlinking is None or self._unlinking.done()
            if idle and self.clock.now() >= self._next_unlink:
                self._next_unlink = self.clock.now() + UNLINK_EVERY_S
                self._unlinking = asyncio.ensure_future(self.unlink_idle_devices())

    async def unlink_idle_devices(self) -> list[tuple[str, str]]:
        """Unlink every device not seen for :data:`DEVICE_IDLE_S` (never a user's last one)."""
        connected = {(conn.user, conn.device) for conn in self._all_connections()}
        idle = await self.store.idle_devices(connected=connected)
        for user, device in idle:
            with contextlib.suppress(LastDeviceError, UnknownDeviceError):  # raced a reconnect
                await self.store.unlink_device(user, device)
                self.stats["devices_unlinked"] += 1
        return idle

    async def _shutdown(self, _app: web.Application) -> None:
        for task in (self._sweeper, self._unlinking):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.admission.close_all(1001, "server shutting down")

    @property
    def connections(self) -> dict[str, Connection]:
        """One connection per online user: her most recently connected device."""
        return {user: list(devices.values())[-1] for user, devices in self.devices.items()}

    def _all_connections(self) -> list[Connection]:
        return [conn for devices in self.devices.values() for conn in devices.values()]

    def _live(self, user: str) -> list[Connection]:
        """The user's devices that are past catching up (a catching-up one reads the inbox)."""
        return [conn for conn in self.devices.get(user, {}).values() if conn.live]

    def frames_received(self) -> Counter[str]:
        """Frames received from authenticated devices so far, by op."""
        return Counter({k[3:]: v for k, v in self.stats.items() if k.startswith("in:")})

    def frames_sent(self) -> Counter[str]:
        """Frames written to devices so far, by op (closed connections and open ones)."""
        total = Counter({k[4:]: v for k, v in self.stats.items() if k.startswith("out:")})
        for conn in self._all_connections():
            total.update(conn.sent)
        return total

    async def _health(self, _request: web.Request) -> web.Response:
        devices = len(self._all_connections())
        return web.json_response({"status": "ok", "online": len(self.devices), "devices": devices})

    # ---- one WebSocket -----------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=HARD_FRAME_BYTES)
        if (abort := await self.admission.admit(request, ws)) is None:
            return ws  # refused: the server is full
        conn: Connection | None = None
        writer: asyncio.Task[None] | None = None
        sends = SendPipeline()
        authed = asyncio.Event()
        deadline = asyncio.ensure_future(self.admission.auth_deadline(ws, abort, authed))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
                if conn is not None:
                    await self._dispatch(conn, msg, sends)
                    continue
                ref = None
                try:
                    frame = _parse(msg)
                    ref = frame.get("ref")
                    conn = await self._authenticate(ws, frame, abort)
                    authed.set()
                    deadline.cancel()
                    reply = {"op": "welcome", "user": conn.user}
                    reply["pending"] = await self.store.pending_count(conn.user, conn.device)
                    writer = asyncio.ensure_future(self._write_forever(conn))
                except Exception as exc:  # noqa: BLE001 - every failure is answered
                    reply = _failure(exc)
                if ref is not None:
                    reply["ref"] = ref
                if conn is not None:
                    conn.offer(reply)
                else:
                    await self.admission.send_now(ws, reply, abort)
                if reply.get("error", {}).get("code") == TooManyDevicesError.code:
                    reason = f"too many devices: at most {MAX_DEVICES} per user"
                    await self.admission.close(ws, CLOSE_TOO_MANY_DEVICES, reason, abort)
                    break
        except ConnectionError:
            pass  # the socket was aborted: the cleanup below is all that is left
        finally:
            self.admission.release(ws)
            deadline.cancel()
            await sends.drain()  # committed sends still reach their recipients
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
            if conn is not None:
                await self._disconnect(conn)
        return ws

    async def _dispatch(self, conn: Connection, msg: object, sends: SendPipeline) -> None:
        """Answer one frame of an authenticated device: sends pipelined, the rest in order."""
        try:
            frame = _parse(msg)
        except ValidationError as err:
            conn.offer(_failure(err))
            return
        op = frame["op"]
        if op in self._ops:  # unknown names must not grow the stats
            self.stats[f"in:{op}"] += 1
        self.presence.beat(conn.user)
        conn.heard_at = self.clock.now()
        answer = self._answer(conn, frame)
        if op == "send":
            await sends.start(answer)
        else:
            await sends.drain()  # what came before this frame is done first
            await answer

    async def _answer(self, conn: Connection, frame: dict) -> None:
        try:
            reply = await self._ops.get(frame["op"], self._unknown)(conn, frame)
        except Exception as exc:  # noqa: BLE001 - a bug must cost one reply, not the server
            reply = _failure(exc)
        if (ref := frame.get("ref")) is not None:
            reply["ref"] = ref
        elif reply["op"] != "error":
            return  # no ref, no reply: fire-and-forget acks cost no outbound frame
        conn.offer(reply)

    async def _authenticate(
        self, ws: web.WebSocketResponse, frame: dict, abort: Callable[[], None]
    ) -> Connection:
        if frame["op"] != "auth":
            raise AuthError("authenticate first: {'op': 'auth', 'token': ...}")
        after = _field(frame, "receipts_after", int, 0)
        if not 0 <= after <= MAX_SEQ:  # type: ignore[operator]
            raise ValidationError(
                f"receipts_after must be an integer in 0..2**62, got {after!r}",
                field="receipts_after",
            )
        device = validate_device_id(_field(frame, "device", str, DEFAULT_DEVICE))
        if not isinstance(batch := frame.get("batch", False), bool):
            raise ValidationError(f"batch must be true or false, got {batch!r}", field="batch")
        user = await self.store.authenticate(frame.get("token"))
        await self.store.link_device(user, device)  # TooManyDevicesError for a 6th device
        devices = self.devices.setdefault(user, {})
        if (old := devices.pop(device, None)) is not None:  # only this device's own socket
            old.kick(CLOSE_REPLACED, "replaced by a newer connection of this device")
        conn = Connection(
            user,
            ws,
            self.send_buffer,
            abort=abort,
            send_timeout_s=self.send_timeout_s,
            close_timeout_s=self.close_timeout_s,
            receipt_cursor=after,  # type: ignore[arg-type]
            device=device,
            heard_at=self.clock.now(),
            batch=batch,
        )
        devices[device] = conn
        self.presence.beat(user)
        return conn

    async def _disconnect(self, conn: Connection) -> None:
        for op, count in conn.sent.items():
            self.stats[f"out:{op}"] += count
        if conn.close_reason is not None:
            self.stats[f"kicked:{conn.close_code}"] += 1
        await conn.closed()
        devices = self.devices.get(conn.user, {})
        if devices.get(conn.device) is conn:
            del devices[conn.device]
        if not devices and self.devices.pop(conn.user, None) is not None:  # her last device
            last_seen = self.presence.leave(conn.user)
            if last_seen is not None:
                await self.store.set_last_seen(conn.user, last_seen)
        # last: the user's last_seen above is what readers wait for
        await self.store.device_seen(conn.user, conn.device)  # no-op for an unlinked one

    async def _write_forever(self, conn: Connection) -> None:
        """The connection's only writer: inbox pages while catching up, then the live buffer."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._write_receipts(conn)  # ticks that changed while this device was away
            while not conn.live:  # catching up page by page; replies go out in between
                await self._flush(conn)
                conn.live = not await self._write_page(conn, flush=True)
            # live: sends are offered from now on, but what committed just before the switch
            # was not; send it first (write() drops what both paths deliver)
            while await self._write_page(conn, flush=False) == CATCH_UP_PAGE:
                pass
            while True:  # one batch: the frame awaited and whatever queued behind it
                await self._emit(conn, [await conn.queue.get(), *conn.take_queued()])

    async def _write_page(self, conn: Connection, *, flush: bool) -> int:
        """Write the device's next inbox page (with queued frames between its messages if
        ``flush``); returns how many messages the page held."""
        page = await self.store.pending(conn.user, conn.cursor, CATCH_UP_PAGE, device=conn.device)
        for position, message in page:
            await conn.write({"op": "msg", **message.to_dict()})
            conn.cursor = position
            if flush:
                await self._flush(conn)
        return len(page)

    async def _emit(self, conn: Connection, frames: list[dict[str, object]]) -> None:
        """Write ``frames`` in order, batched; a receipts marker sends the receipt feed there."""
        batch: list[dict[str, object]] = []
        for frame in frames:
            if frame.get("op") == RECEIPTS_DUE:
                await conn.write(*batch)
                batch = []
                await self._write_receipts(conn)
            else:
                batch.append(frame)
        await conn.write(*batch)

    async def _flush(self, conn: Connection) -> None:
        await self._emit(conn, conn.take_queued())

    async def _write_receipts(self, conn: Connection) -> None:
        """Send the user's receipt feed after the device's cursor, in ``receipt_id`` order.

        Always from the store and always in order, so "the last receipt_id I saw" is a
        complete cursor: a device that reconnects with it misses nothing and gets nothing twice.
        """
        conn.take_receipts_due()
        while True:
            page = await self.store.receipts_for(conn.user, conn.receipt_cursor, CATCH_UP_PAGE)
            await conn.write(*({"op": "receipt", **receipt.to_dict()} for receipt in page))
            if page:
                conn.receipt_cursor = page[-1].receipt_id
            if len(page) < CATCH_UP_PAGE:
                return

    # ---- operations --------------------------------------------------------------------

    async def _unknown(self, _conn: Connection, frame: dict) -> dict:
        raise ValidationError(
            f"unknown op {frame['op']!r}; known: auth, {', '.join(self._ops)}", field="op"
        )

    async def _send(self, conn: Connection, frame: dict) -> dict:
        chat = _field(frame, "chat", str)
        result = await self.store.send(
            conn.user,
            chat,
            _field(frame, "client_id", str),
            _field(frame, "text", str),
            device=conn.device,
        )
        # no await from the commit to here: sends fan out in commit (seq) order
        self.stats["messages"] += not result.duplicate
        outbound = {"op": "msg", **result.message.to_dict()}
        for user in result.recipients:
            if user not in self.devices:  # no device connected: a push would wake the app
                self.stats["wake_pushes"] += 1
            for target in self._live(user):
                target.offer(outbound)
        if result.synced:  # the sender's other devices show what she sent
            for target in self._live(conn.user):
                if target is not conn:
                    target.offer(outbound)
        message = result.message
        return {
            "op": "sent",
            "chat": message.chat_id,
            "seq": message.seq,
            "client_id": message.client_id,
            "sent_at": message.sent_at,
            "duplicate": result.duplicate,
        }

    def _notify(self, receipts: list[Receipt]) -> None:
        """Receipts are already in their senders' feeds; wake the senders' writers."""
        for sender in {receipt.sender for receipt in receipts}:
            for target in self.devices.get(sender, {}).values():
                target.wake_receipts()

    async def _delivered(self, conn: Connection, frame: dict) -> tuple[str, int]:
        """``(chat, seq)`` of an ack or read, refused if this device never got ``seq``."""
        chat = _field(frame, "chat", str)
        seq = validate_seq(_field(frame, "seq", int))
        if seq <= conn.delivered.get(chat, 0):  # type: ignore[arg-type]
            return chat, seq  # type: ignore[return-value]
        delivered = await self.store.delivered_upto(conn.user, chat, conn.device)  # type: ignore[arg-type]
        if seq > delivered:
            await self.store._require_member(conn.user, chat)  # the precise error first
            raise NotDeliveredError(
                f"message {seq} of {chat!r} was never delivered to this device; acknowledge "
                "or read only what you received",
                field="seq",
            )
        return chat, seq  # type: ignore[return-value]

    async def _ack(self, conn: Connection, frame: dict) -> dict:
        chat, seq = await self._delivered(conn, frame)
        self._notify(await self.store.ack(conn.user, chat, seq, conn.device))
        return {"op": "acked", "chat": chat, "seq": seq}

    async def _read(self, conn: Connection, frame: dict) -> dict:
        chat, seq = await self._delivered(conn, frame)
        self._notify(await self.store.read(conn.user, chat, seq, conn.device))
        return {"op": "read_ok", "chat": chat, "seq": seq}

    async def _history(self, conn: Connection, frame: dict) -> dict:
        chat = _field(frame, "chat", str)
        before = _field(frame, "before", int, None)
        page = await self.store.history(
            conn.user, chat, before, _field(frame, "limit", int, HISTORY_PAGE)
        )
        messages = [m.to_dict() for m in page.messages]
        return {
            "op": "history",
            "chat": chat,
            "messages": messages,
            "next_before": page.next_before,
        }

    async def _presence(self, _conn: Connection, frame: dict) -> dict:
        user = _field(frame, "user", str)
        stored = await self.store.last_seen(user)  # UnknownUserError for a stranger
        last_seen = self.presence.last_seen(user)
        return {
            "op": "presence",
            "user": user,
            "online": self.presence.is_online(user),
            "last_seen": last_seen if last_seen is not None else stored,
        }

    async def _ping(self, _conn: Connection, _frame: dict) -> dict:
        return {"op": "pong"}

    async def _direct(self, conn: Connection, frame: dict) -> dict:
        chat = await self.store.direct(conn.user, _field(frame, "user", str))
        return {"op": "chat", **chat.to_dict()}

    async def _group(self, conn: Connection, frame: dict) -> dict:
        members = _field(frame, "members", list)
        chat_id = _field(frame, "chat", str, None)
        chat = await self.store.create_group(
            conn.user, _field(frame, "name", str), members, chat_id
        )
        return {"op": "chat", **chat.to_dict()}

    async def _add_member(self, conn: Connection, frame: dict) -> dict:
        chat = await self.store.add_member(
            conn.user, _field(frame, "chat", str), _field(frame, "user", str)
        )
        return {"op": "chat", **chat.to_dict()}

    async def _unlink(self, conn: Connection, frame: dict) -> dict:
        """Log one of the user's devices out (this one included); it is closed if connected."""
        device = validate_device_id(_field(frame, "device", str))
        await self.store.unlink_device(conn.user, device)
        if (target := self.devices.get(conn.user, {}).get(device)) is not None:
            target.kick(CLOSE_UNLINKED, "this device was unlinked")
        return {"op": "unlinked", "device": device}
