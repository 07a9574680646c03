"""Messaging (WhatsApp scenario): the aiohttp WebSocket server and its small JSON protocol.

Clients speak JSON text frames ``{"op": ..., "ref": ...}`` on ``/ws``. A request with a
``ref`` gets a reply echoing it, so a client can match answers to questions; a request without
one is fire-and-forget (typically ``ack``) and is answered only if it fails.

========================  ==================================================================
client → server           reply / effect
========================  ==================================================================
``auth`` token            ``welcome`` (then the offline inbox, in order); required first
``send`` chat client_id   ``sent`` with the chat's ``seq`` (a retry gets the same ``seq``,
text                      ``duplicate: true``); recipients get ``msg``
``ack`` chat seq          everything up to ``seq`` delivered: dequeued, sender gets ``receipt``
``read`` chat seq         everything up to ``seq`` read; sender gets ``receipt``
``history`` chat          a page of older messages (``before``, ``limit``; ``next_before``)
``presence`` user         ``online`` and ``last_seen``
``ping``                  ``pong`` (any frame counts as a heartbeat)
``direct`` user,          ``chat``: open a 1:1 chat, create a group, add a member
``group`` name members,
``add_member`` chat user
========================  ==================================================================

Anything wrong — not JSON, not an object, unknown op, missing field, not authenticated, not a
member — gets ``{"op": "error", "error": {"code", "description", "field"}}`` and the
connection stays usable; a bug in a handler is answered with ``INTERNAL_ERROR``, never a
crashed server.

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
from collections import Counter

from aiohttp import WSMsgType, web

from razorlab.clock import Clock, SystemClock
from razorlab.errors import RazorlabError, ValidationError
from razorlab.social.messaging.connection import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_REPLACED,
    SEND_BUFFER,
    Connection,
)
from razorlab.social.messaging.models import AuthError
from razorlab.social.messaging.presence import HEARTBEAT_TIMEOUT_S, Presence
from razorlab.social.messaging.store import HISTORY_PAGE, ChatStore, Receipt

__all__ = ["ChatServer", "MAX_FRAME_BYTES", "CATCH_UP_PAGE", "SWEEP_EVERY_S"]

MAX_FRAME_BYTES = 64 * 1024  # larger frames are refused by aiohttp before we parse them
CATCH_UP_PAGE = 100  # inbox rows read per step while a device catches up
SWEEP_EVERY_S = 5.0  # how often the heartbeat sweeper looks for silent devices
_log = logging.getLogger(__name__)


class _InternalError(RazorlabError):
    code = "INTERNAL_ERROR"
    http_status = 500


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
    try:
        frame = json.loads(msg.data)
    except json.JSONDecodeError as err:
        raise ValidationError(f"frame is not valid JSON ({err.msg})", field="frame") from None
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
    ):
        self.store = store
        self.clock = clock or SystemClock()
        self.send_buffer = send_buffer
        self.presence = Presence(self.clock, heartbeat_timeout_s)
        self.connections: dict[str, Connection] = {}
        self.stats: Counter[str] = Counter()
        self._fanout = asyncio.Lock()
        self._sockets: set[web.WebSocketResponse] = set()
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
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutting down")

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
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._sockets.add(ws)
        conn: Connection | None = None
        writer: asyncio.Task[None] | None = None
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
                ref, reply = None, None
                try:
                    frame = _parse(msg)
                    ref = frame.get("ref")
                    if conn is None:
                        conn = await self._authenticate(ws, frame)
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
                    await ws.send_str(json.dumps(reply))
        finally:
            self._sockets.discard(ws)
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
            if conn is not None:
                await self._disconnect(conn)
        return ws

    async def _authenticate(self, ws: web.WebSocketResponse, frame: dict) -> Connection:
        if frame["op"] != "auth":
            raise AuthError("authenticate first: {'op': 'auth', 'token': ...}")
        user = await self.store.authenticate(frame.get("token"))
        if (old := self.connections.get(user)) is not None:
            old.kick(CLOSE_REPLACED, "replaced by a newer connection")
        conn = Connection(user, ws, self.send_buffer)
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
            while not conn.live:
                await conn.flush_queued()
                async with self._fanout:
                    page = await self.store.pending(conn.user, conn.cursor, CATCH_UP_PAGE)
                    conn.live = not page
                for position, message in page:
                    await conn.write({"op": "msg", **message.to_dict()})
                    conn.cursor = position
                    await conn.flush_queued()  # replies and receipts do not wait for the page
            while True:
                await conn.write(await conn.queue.get())

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
        for receipt in receipts:
            if (target := self.connections.get(receipt.sender)) is not None:
                target.offer({"op": "receipt", **receipt.to_dict()})

    async def _ack(self, conn: Connection, frame: dict) -> dict:
        chat, seq = _field(frame, "chat", str), _field(frame, "seq", int)
        self._notify(await self.store.ack(conn.user, chat, seq))
        return {"op": "acked", "chat": chat, "seq": seq}

    async def _read(self, conn: Connection, frame: dict) -> dict:
        chat, seq = _field(frame, "chat", str), _field(frame, "seq", int)
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
