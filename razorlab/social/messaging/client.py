"""Messaging (WhatsApp scenario): a Python chat client, as a phone app would behave.

The client is half of the delivery guarantee. The server delivers *at least once* (anything
not acknowledged comes again after a reconnect); the client shows each ``(chat, seq)`` once
and acknowledges it after showing it, which together make display *exactly once*. It names
every outgoing message with a ``client_id`` before sending, so resending after a lost reply
cannot create a second message.

Usage (inside ``async`` code or a notebook)::

    asha = await ChatClient.connect(running.url, "asha-token")
    chat = await asha.direct("ben")
    await asha.send(chat["chat"], "hi Ben")
    await asha.close()

Design note: one reader task receives every frame (and unpacks the ``batch`` envelopes the
client opts in to: frames the server had queued together arrive in one WebSocket frame);
replies are matched to requests by ``ref``; pushed messages update :attr:`messages` and
:attr:`receipts`. Waiting uses real time (``timeout`` seconds) because it waits for a
network, not for simulated domain time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable

import aiohttp

from razorlab.errors import RazorlabError
from razorlab.social.messaging.models import Status

__all__ = ["ChatClient", "REQUEST_TIMEOUT_S"]

REQUEST_TIMEOUT_S = 10.0  # seconds to wait for a reply before giving up


class ChatClient:
    """One device of one user, connected to a chat server over WebSocket.

    ``device`` names the device (WhatsApp's multi-device: a phone and up to four linked
    devices, each with its own cursor); leave it out for the one default device.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        auto_ack: bool = True,
        device: str | None = None,
    ):
        self.url, self.token, self.auto_ack = url, token, auto_ack
        self.device = device  # None: the server's default device (one device per user)
        self.user: str | None = None
        self.messages: list[dict] = []  # shown to the user, each (chat, seq) once, arrival order
        self.receipts: dict[tuple[str, int], dict[str, str]] = {}  # my messages: user -> status
        self.message_status: dict[tuple[str, int], str] = {}  # my messages: overall status
        self.errors: list[dict] = []  # error frames that answered no request (e.g. a bad ack)
        self.redeliveries = 0  # messages received again (after a reconnect) and not shown twice
        self.close_code: int | None = None
        self.receipt_cursor = 0  # last receipt_id received: the server replays what follows
        self._session, self._own_session = session, session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._seen: set[tuple[str, int]] = set()
        self._replies: dict[int, asyncio.Future[dict]] = {}
        self._refs = itertools.count(1)
        self._client_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._ack_due: dict[str, int] = {}  # chat -> highest seq shown but not yet acked
        self._ack_flush: asyncio.Handle | None = None
        self._ack_tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def connect(cls, url: str, token: str, **kwargs: object) -> ChatClient:
        client = cls(url, token, **kwargs)  # type: ignore[arg-type]
        try:
            await client.open()
        except BaseException:
            await client.close()  # a refused token must not leak a session
            raise
        return client

    async def open(self) -> dict:
        """Connect and authenticate; the server then replays the offline inbox."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url)
        self.close_code = None
        self._reader = asyncio.ensure_future(self._read_forever(self._ws))
        try:
            device = {} if self.device is None else {"device": self.device}
            welcome = await self.request(  # batch: frames queued together come in one
                "auth", token=self.token, receipts_after=self.receipt_cursor, batch=True, **device
            )
        except BaseException:
            await self._drop()
            raise
        self.user = welcome["user"]
        return welcome

    async def reconnect(self, url: str | None = None) -> dict:
        """Drop the connection (if any) and connect again, keeping what was already shown."""
        await self._drop()
        self.url = url or self.url
        return await self.open()

    async def close(self) -> None:
        await self._drop()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _drop(self) -> None:
        if self._ack_flush is not None:  # unsent acks are simply redelivered next time
            self._ack_flush.cancel()
            self._ack_due, self._ack_flush = {}, None
        await asyncio.gather(*self._ack_tasks, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self._ws = self._reader = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    # ---- requests ----------------------------------------------------------------------

    async def request(self, op: str, **fields: object) -> dict:
        """Send one request and wait for its reply; an error reply raises ``RazorlabError``."""
        if self._ws is None or self._ws.closed:
            raise ConnectionError(f"not connected (close code {self.close_code})")
        await self._settle_acks()
        ref = next(self._refs)
        reply = self._replies[ref] = asyncio.get_running_loop().create_future()
        await self._ws.send_str(json.dumps({"op": op, "ref": ref, **fields}))
        try:
            answer = await asyncio.wait_for(reply, REQUEST_TIMEOUT_S)
        finally:
            self._replies.pop(ref, None)
        if answer.get("op") == "error":
            error = answer["error"]
            raise RazorlabError(error["description"], field=error["field"], code=error["code"])
        return answer

    async def post(self, op: str, **fields: object) -> None:
        """Send a request without a ``ref``: no reply unless it fails (then see :attr:`errors`)."""
        if op != "ack":
            await self._settle_acks()
        if self._ws is None or self._ws.closed:
            raise ConnectionError(f"not connected (close code {self.close_code})")
        await self._ws.send_str(json.dumps({"op": op, **fields}))

    def next_client_id(self) -> str:
        """A fresh id for an outgoing message (deterministic: ``<user>-1``, ``<user>-2`` …;
        ``<user>-<device>-1`` … for a named device, so two devices never pick the same id)."""
        prefix = self.user if self.device is None else f"{self.user}-{self.device}"
        return f"{prefix}-{next(self._client_ids)}"

    async def send(self, chat: str, text: str, client_id: str | None = None) -> dict:
        """Send ``text``; pass the same ``client_id`` to retry safely."""
        return await self.request(
            "send", chat=chat, text=text, client_id=client_id or self.next_client_id()
        )

    async def ack(self, chat: str, seq: int) -> dict:
        return await self.request("ack", chat=chat, seq=seq)

    async def read(self, chat: str, seq: int) -> dict:
        """Tell the sender(s) you have read ``chat`` up to ``seq`` (blue ticks)."""
        return await self.request("read", chat=chat, seq=seq)

    async def history(self, chat: str, before: int | None = None, limit: int = 50) -> dict:
        fields: dict[str, object] = {"chat": chat, "limit": limit}
        if before is not None:
            fields["before"] = before
        return await self.request("history", **fields)

    async def presence(self, user: str) -> dict:
        return await self.request("presence", user=user)

    async def ping(self) -> dict:
        return await self.request("ping")

    async def unlink(self, device: str) -> dict:
        """Log one of this user's devices out (WhatsApp: Linked devices → Log out)."""
        return await self.request("unlink", device=device)

    async def direct(self, user: str) -> dict:
        return await self.request("direct", user=user)

    async def group(self, name: str, members: list[str], chat: str | None = None) -> dict:
        fields: dict[str, object] = {"name": name, "members": members}
        if chat is not None:
            fields["chat"] = chat
        return await self.request("group", **fields)

    async def add_member(self, chat: str, user: str) -> dict:
        return await self.request("add_member", chat=chat, user=user)

    # ---- what arrives ------------------------------------------------------------------

    def has(self, chat: str, seq: int) -> bool:
        """Whether message ``seq`` of ``chat`` has been shown."""
        return (chat, seq) in self._seen

    def texts(self, chat: str | None = None) -> list[str]:
        """Texts shown so far (of one chat, or all), in the order shown."""
        return [m["text"] for m in self.messages if chat is None or m["chat"] == chat]

    async def wait_until(
        self, predicate: Callable[[ChatClient], bool], timeout: float = 5.0
    ) -> None:
        """Wait (real seconds) until ``predicate(self)`` holds, e.g. ``lambda c: len(c.messages) == 3``."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Wait until the server closes the connection; returns the close code."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def _settle_acks(self) -> None:
        """Send due acks now, so a request that follows is processed after them."""
        if self._ack_flush is not None:
            self._ack_flush.cancel()
            self._flush_acks()
        await asyncio.gather(*self._ack_tasks, return_exceptions=True)

    def _flush_acks(self) -> None:
        due, self._ack_due, self._ack_flush = self._ack_due, {}, None
        if self._ws is not None and not self._ws.closed:
            for chat, seq in due.items():
                self._ack_tasks.add(
                    task := asyncio.ensure_future(self.post("ack", chat=chat, seq=seq))
                )
                task.add_done_callback(self._ack_tasks.discard)

    async def _read_forever(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                frame = json.loads(msg.data)
                for one in frame["frames"] if frame.get("op") == "batch" else (frame,):
                    await self._handle(ws, one)
        finally:
            self.close_code = ws.close_code
            for reply in self._replies.values():
                if not reply.done():
                    reply.set_exception(ConnectionError(f"connection closed ({ws.close_code})"))
            async with self._changed:
                self._changed.notify_all()

    async def _handle(self, ws: aiohttp.ClientWebSocketResponse, frame: dict) -> None:
        ref = frame.get("ref")
        if ref in self._replies and not self._replies[ref].done():
            self._replies[ref].set_result(frame)
        elif frame.get("op") == "msg":
            key = (frame["chat"], frame["seq"])
            if key in self._seen:
                self.redeliveries += 1
            else:
                self._seen.add(key)
                self.messages.append(frame)
            if self.auto_ack:  # after showing it: a crash before this line means redelivery
                self._ack_due[key[0]] = max(self._ack_due.get(key[0], 0), key[1])
                if self._ack_flush is None:  # one cumulative ack per chat per burst of frames
                    self._ack_flush = asyncio.get_running_loop().call_soon(self._flush_acks)
        elif frame.get("op") == "error":
            self.errors.append(frame["error"])
        elif frame.get("op") == "receipt":
            self.receipt_cursor = max(self.receipt_cursor, int(frame.get("receipt_id", 0)))
            key = (frame["chat"], frame["seq"])
            mine = self.receipts.setdefault(key, {})
            current = Status[mine.get(frame["user"], "sent").upper()]
            mine[frame["user"]] = max(current, Status[frame["status"].upper()]).label
            overall = Status[self.message_status.get(key, "sent").upper()]
            self.message_status[key] = max(overall, Status[frame["message_status"].upper()]).label
        async with self._changed:
            self._changed.notify_all()
