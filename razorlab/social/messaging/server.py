"""Messaging (WhatsApp scenario): the aiohttp WebSocket server and its small JSON protocol.

Clients speak JSON text frames ``{"op": ..., "ref": ...}`` on ``/ws``. A request with a
``ref`` gets a reply echoing it, so a client can match answers to questions; a request without
one is fire-and-forget (typically ``ack``) and is answered only if it fails.

========================  ==================================================================
client → server           reply / effect
========================  ==================================================================
``auth`` token            ``welcome`` (then receipts after ``receipts_after``, then the
[receipts_after]          offline inbox, in order); required first, within
                          :data:`AUTH_TIMEOUT_S`
``send`` chat client_id   ``sent`` with the chat's ``seq`` (a retry gets the same ``seq``,
text                      ``duplicate: true``); recipients get ``msg``
``ack`` chat seq          everything up to ``seq`` delivered: dequeued, sender gets ``receipt``
``read`` chat seq         everything up to ``seq`` read; sender gets ``receipt`` (both refused
                          with ``NOT_DELIVERED`` beyond what this device was given)
``history`` chat          a page of older messages (``before``, ``limit``; ``next_before``)
``presence`` user         ``online`` and ``last_seen``
``ping``                  ``pong`` (any frame counts as a heartbeat)
``direct`` user,          ``chat``: open a 1:1 chat, create a group, add a member
``group`` name members,
``add_member`` chat user
========================  ==================================================================

Anything wrong — not JSON, nested too deep, larger than :data:`MAX_FRAME_BYTES`, not an
object, unknown op, missing field or wrong type, not authenticated, not a member — gets
``{"op": "error", "error": {"code", "description", "field"}}`` (``BAD_REQUEST_ERROR`` for
malformed input) and the connection stays usable; a bug in a handler is answered with
``INTERNAL_ERROR``, never a crashed server. Only a frame beyond :data:`HARD_FRAME_BYTES` ends
the connection (close code 1009, "message too big"): it is refused before it is buffered.

Bounded resources: a socket must authenticate within :data:`AUTH_TIMEOUT_S` (else it is closed
with :data:`CLOSE_AUTH_TIMEOUT`); at most ``max_connections`` sockets are open at once (a
socket beyond the cap is closed with 1013, "try again later"; the default stays below the
process's file limit, so accepting never runs out of descriptors); every write and close has a
deadline (see ``connection``), so a stalled reader is dropped and its memory freed, and
stopping the server cannot hang on one.

Design note: a send commits to the store first (message, receipts, recipients' inboxes) and
only then offers the frame to live connections, under one fan-out lock that the
catch-up→live switch also takes (see ``connection``). Only a recipient with no connected
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
import resource
from collections import Counter
from collections.abc import Callable

from aiohttp import WSMsgType, web

from razorlab.clock import Clock, SystemClock
from razorlab.errors import RazorlabError, ValidationError
from razorlab.social.messaging.connection import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_REPLACED,
    CLOSE_TIMEOUT_S,
    RECEIPTS_DUE,
    SEND_BUFFER,
    SEND_TIMEOUT_S,
    Connection,
    close_within,
)
from razorlab.social.messaging.models import (
    MAX_SEQ,
    AuthError,
    NotDeliveredError,
    validate_seq,
)
from razorlab.social.messaging.presence import HEARTBEAT_TIMEOUT_S, Presence
from razorlab.social.messaging.store import HISTORY_PAGE, ChatStore, Receipt

__all__ = [
    "ChatServer",
    "MAX_FRAME_BYTES",
    "HARD_FRAME_BYTES",
    "CATCH_UP_PAGE",
    "SWEEP_EVERY_S",
    "AUTH_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "CLOSE_TRY_AGAIN_LATER",
    "default_max_connections",
]

MAX_FRAME_BYTES = 64 * 1024  # larger frames are answered with a BAD_REQUEST error frame
HARD_FRAME_BYTES = 1024 * 1024  # larger ones close the connection (1009) before buffering
AUTH_TIMEOUT_S = 10.0  # a socket that has not authenticated by then is closed
MAX_CONNECTIONS = 10_000  # open sockets per server unless the file limit is lower
FD_HEADROOM = 64  # descriptors kept free for the database, logs and the listener
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: "Try Again Later" (the server is full)
CATCH_UP_PAGE = 100  # inbox rows read per step while a device catches up
SWEEP_EVERY_S = 5.0  # how often the heartbeat sweeper looks for silent devices
_log = logging.getLogger(__name__)


class _InternalError(RazorlabError):
    code = "INTERNAL_ERROR"
    http_status = 500


def default_max_connections() -> int:
    """:data:`MAX_CONNECTIONS`, or fewer if the process may open fewer files than that."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - FD_HEADROOM))


def _no_constant(name: str) -> float:
    raise ValidationError(f"{name} is not a JSON number", field="frame")


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
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.store = store
        self.clock = clock or SystemClock()
        self.send_buffer = send_buffer
        self.auth_timeout_s = auth_timeout_s
        self.max_connections = max_connections or default_max_connections()
        self.send_timeout_s = send_timeout_s
        self.close_timeout_s = close_timeout_s
        self.presence = Presence(self.clock, heartbeat_timeout_s)
        self.connections: dict[str, Connection] = {}
        self.stats: Counter[str] = Counter()
        self._fanout = asyncio.Lock()
        self._sockets: dict[web.WebSocketResponse, Callable[[], None]] = {}  # ws -> abort
        self._sweeper: asyncio.Task[None] | None = None
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
            for user in self.presence.expired():
                if (conn := self.connections.get(user)) is not None:
                    self.stats["heartbeat_timeouts"] += 1
                    conn.kick(CLOSE_HEARTBEAT_TIMEOUT, "no heartbeat: reconnect")

    async def _shutdown(self, _app: web.Application) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await asyncio.gather(
            *(
                self._close(ws, 1001, "server shutting down", abort)
                for ws, abort in list(self._sockets.items())
            )
        )

    async def _close(
        self, ws: web.WebSocketResponse, code: int, reason: str, abort: Callable[[], None]
    ) -> None:
        """Close with a handshake if the peer answers in time, else abort the socket."""
        if not await close_within(
            ws.close(code=code, message=reason.encode()), self.close_timeout_s
        ):
            with contextlib.suppress(Exception):
                abort()

    async def _send_now(
        self, ws: web.WebSocketResponse, reply: dict, abort: Callable[[], None]
    ) -> None:
        """A reply to a socket that has no writer task yet (before auth), with a deadline."""
        try:
            await asyncio.wait_for(ws.send_str(json.dumps(reply)), self.send_timeout_s)
        except asyncio.TimeoutError:
            abort()
            raise ConnectionError("a reply to an unauthenticated socket timed out") from None

    async def _auth_deadline(
        self, ws: web.WebSocketResponse, abort: Callable[[], None], authed: asyncio.Event
    ) -> None:
        await self.clock.sleep(self.auth_timeout_s)
        if not authed.is_set():
            self.stats["auth_timeouts"] += 1
            reason = f"authenticate within {self.auth_timeout_s:g} s"
            await self._close(ws, CLOSE_AUTH_TIMEOUT, reason, abort)

    def frames_received(self) -> Counter[str]:
        """Frames received from authenticated devices so far, by op."""
        return Counter({k[3:]: v for k, v in self.stats.items() if k.startswith("in:")})

    def frames_sent(self) -> Counter[str]:
        """Frames written to devices so far, by op (closed connections and open ones)."""
        total = Counter({k[4:]: v for k, v in self.stats.items() if k.startswith("out:")})
        for conn in self.connections.values():
            total.update(conn.sent)
        return total

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "online": len(self.connections)})

    # ---- one WebSocket -----------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=HARD_FRAME_BYTES)
        transport = request.transport

        def abort() -> None:
            if transport is not None:
                transport.abort()

        if len(self._sockets) >= self.max_connections:
            self.stats["refused:max_connections"] += 1
            await ws.prepare(request)
            reason = f"server full ({self.max_connections} connections): try again later"
            await self._close(ws, CLOSE_TRY_AGAIN_LATER, reason, abort)
            return ws
        await ws.prepare(request)
        self._sockets[ws] = abort
        conn: Connection | None = None
        writer: asyncio.Task[None] | None = None
        authed = asyncio.Event()
        deadline = asyncio.ensure_future(self._auth_deadline(ws, abort, authed))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
                ref, reply = None, None
                try:
                    frame = _parse(msg)
                    ref = frame.get("ref")
                    if conn is None:
                        conn = await self._authenticate(ws, frame, abort)
                        authed.set()
                        deadline.cancel()
                        reply = {"op": "welcome", "user": conn.user}
                        reply["pending"] = await self.store.pending_count(conn.user)
                        writer = asyncio.ensure_future(self._write_forever(conn))
                    else:
                        if frame["op"] in self._ops:  # unknown names must not grow the stats
                            self.stats[f"in:{frame['op']}"] += 1
                        self.presence.beat(conn.user)
                        reply = await self._ops.get(frame["op"], self._unknown)(conn, frame)
                except RazorlabError as err:
                    reply = {"op": "error", "error": err.to_dict()}
                except Exception:  # a bug must cost one reply, not the server
                    _log.exception("chat handler failed")
                    reply = {"op": "error", "error": _InternalError("internal error").to_dict()}
                if ref is not None:
                    reply["ref"] = ref
                elif reply["op"] not in ("error", "welcome"):
                    continue  # no ref, no reply: fire-and-forget acks cost no outbound frame
                if conn is not None:
                    conn.offer(reply)
                else:
                    await self._send_now(ws, reply, abort)
        except ConnectionError:
            pass  # the socket was aborted: the cleanup below is all that is left
        finally:
            self._sockets.pop(ws, None)
            deadline.cancel()
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
            if conn is not None:
                await self._disconnect(conn)
        return ws

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
        user = await self.store.authenticate(frame.get("token"))
        if (old := self.connections.get(user)) is not None:
            old.kick(CLOSE_REPLACED, "replaced by a newer connection")
        conn = Connection(
            user,
            ws,
            self.send_buffer,
            abort=abort,
            send_timeout_s=self.send_timeout_s,
            close_timeout_s=self.close_timeout_s,
            receipt_cursor=after,  # type: ignore[arg-type]
        )
        self.connections[user] = conn
        self.presence.beat(user)
        return conn

    async def _disconnect(self, conn: Connection) -> None:
        for op, count in conn.sent.items():
            self.stats[f"out:{op}"] += count
        if conn.close_reason is not None:
            self.stats[f"kicked:{conn.close_code}"] += 1
        await conn.closed()
        if self.connections.get(conn.user) is conn:
            del self.connections[conn.user]
            last_seen = self.presence.leave(conn.user)
            if last_seen is not None:
                await self.store.set_last_seen(conn.user, last_seen)

    async def _write_forever(self, conn: Connection) -> None:
        """The connection's only writer: inbox pages while catching up, then the live buffer."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._write_receipts(conn)  # ticks that changed while this device was away
            while not conn.live:
                await self._flush(conn)
                async with self._fanout:
                    page = await self.store.pending(conn.user, conn.cursor, CATCH_UP_PAGE)
                    conn.live = not page
                for position, message in page:
                    await conn.write({"op": "msg", **message.to_dict()})
                    conn.cursor = position
                    await self._flush(conn)  # replies and receipts do not wait for the page
            while True:
                await self._emit(conn, await conn.queue.get())

    async def _emit(self, conn: Connection, frame: dict[str, object]) -> None:
        if frame.get("op") == RECEIPTS_DUE:
            await self._write_receipts(conn)
        else:
            await conn.write(frame)

    async def _flush(self, conn: Connection) -> None:
        while not conn.queue.empty():
            await self._emit(conn, conn.queue.get_nowait())

    async def _write_receipts(self, conn: Connection) -> None:
        """Send the user's receipt feed after the device's cursor, in ``receipt_id`` order.

        Always from the store and always in order, so "the last receipt_id I saw" is a
        complete cursor: a device that reconnects with it misses nothing and gets nothing twice.
        """
        conn.take_receipts_due()
        while True:
            page = await self.store.receipts_for(conn.user, conn.receipt_cursor, CATCH_UP_PAGE)
            for receipt in page:
                await conn.write({"op": "receipt", **receipt.to_dict()})
                conn.receipt_cursor = receipt.receipt_id
            if len(page) < CATCH_UP_PAGE:
                return

    # ---- operations --------------------------------------------------------------------

    async def _unknown(self, _conn: Connection, frame: dict) -> dict:
        raise ValidationError(
            f"unknown op {frame['op']!r}; known: auth, {', '.join(self._ops)}", field="op"
        )

    async def _send(self, conn: Connection, frame: dict) -> dict:
        chat = _field(frame, "chat", str)
        async with self._fanout:
            result = await self.store.send(
                conn.user, chat, _field(frame, "client_id", str), _field(frame, "text", str)
            )
            self.stats["messages"] += not result.duplicate
            outbound = {"op": "msg", **result.message.to_dict()}
            for user in result.recipients:
                target = self.connections.get(user)
                if target is not None and target.live:
                    target.offer(outbound)
                elif target is None:  # no device connected: a push would wake the app
                    self.stats["wake_pushes"] += 1
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
            if (target := self.connections.get(sender)) is not None:
                target.wake_receipts()

    async def _delivered(self, conn: Connection, frame: dict) -> tuple[str, int]:
        """``(chat, seq)`` of an ack or read, refused if this device never got ``seq``."""
        chat = _field(frame, "chat", str)
        seq = validate_seq(_field(frame, "seq", int))
        if seq <= conn.delivered.get(chat, 0):  # type: ignore[arg-type]
            return chat, seq  # type: ignore[return-value]
        if seq > await self.store.delivered_upto(conn.user, chat):  # type: ignore[arg-type]
            await self.store._require_member(conn.user, chat)  # the precise error first
            raise NotDeliveredError(
                f"message {seq} of {chat!r} was never delivered to this device; acknowledge "
                "or read only what you received",
                field="seq",
            )
        return chat, seq  # type: ignore[return-value]

    async def _ack(self, conn: Connection, frame: dict) -> dict:
        chat, seq = await self._delivered(conn, frame)
        self._notify(await self.store.ack(conn.user, chat, seq))
        return {"op": "acked", "chat": chat, "seq": seq}

    async def _read(self, conn: Connection, frame: dict) -> dict:
        chat, seq = await self._delivered(conn, frame)
        self._notify(await self.store.read(conn.user, chat, seq))
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
