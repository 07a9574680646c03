"""Messaging (WhatsApp scenario): run the chat service, and the names learners use.

Scenario: the seed's "design WhatsApp" — 2B users, 100B messages a day, groups of up to 256,
sent/delivered/read ticks, WebSocket delivery and offline queues. The engine is split by idea:

* ``models`` — chats, messages, statuses, typed errors (no I/O);
* ``directory`` / ``store`` — the durable SQLite store: users, groups,
  messages with per-chat ``seq``, receipts that only move forward, offline inboxes;
* ``presence`` — online / last seen from heartbeats;
* ``admission`` — the authentication deadline and the connection cap;
* ``connection`` / ``server`` — the aiohttp WebSocket server, bounded send
  buffers, the slow-consumer policy and several devices per user;
* ``client`` — the Python client notebooks and tests use;
* ``capacity`` / ``plots`` — the estimates and their figures.

This module starts and stops a server: ``running = await start_chat_server("chat.db")`` binds
``127.0.0.1`` on a free port, ``running.url`` is the WebSocket address, ``await running.stop()``
closes every connection, the listener and the database (in that order, so nothing is lost: a
message is committed before its sender is told "sent").
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from razorlab.clock import Clock
from razorlab.social.messaging.client import ChatClient
from razorlab.social.messaging.connection import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_REPLACED,
    CLOSE_SLOW_CONSUMER,
    CLOSE_TOO_MANY_DEVICES,
    CLOSE_UNLINKED,
    SEND_BUFFER,
    Connection,
)
from razorlab.social.messaging.models import (
    DEVICE_IDLE_S,
    MAX_DEVICES,
    MAX_GROUP_MEMBERS,
    AuthError,
    Chat,
    GroupFullError,
    LastDeviceError,
    Message,
    NotAdminError,
    NotAMemberError,
    NotDeliveredError,
    Status,
    TooManyDevicesError,
    UnknownChatError,
    UnknownDeviceError,
    UnknownUserError,
    message_status,
)
from razorlab.social.messaging.presence import HEARTBEAT_TIMEOUT_S, Presence
from razorlab.social.messaging.server import ChatServer
from razorlab.social.messaging.store import ChatStore, HistoryPage, Receipt, SendResult

__all__ = [
    "start_chat_server",
    "RunningChatServer",
    "ChatServer",
    "ChatStore",
    "ChatClient",
    "Connection",
    "Presence",
    "Chat",
    "Message",
    "Receipt",
    "SendResult",
    "HistoryPage",
    "Status",
    "message_status",
    "AuthError",
    "GroupFullError",
    "NotAMemberError",
    "NotAdminError",
    "NotDeliveredError",
    "TooManyDevicesError",
    "UnknownChatError",
    "UnknownDeviceError",
    "UnknownUserError",
    "LastDeviceError",
    "MAX_GROUP_MEMBERS",
    "MAX_DEVICES",
    "DEVICE_IDLE_S",
    "SEND_BUFFER",
    "HEARTBEAT_TIMEOUT_S",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_HEARTBEAT_TIMEOUT",
    "CLOSE_REPLACED",
    "CLOSE_AUTH_TIMEOUT",
    "CLOSE_TOO_MANY_DEVICES",
    "CLOSE_UNLINKED",
]


@dataclass
class RunningChatServer:
    """A chat server listening on ``url``; stop it with ``await running.stop()``."""

    server: ChatServer
    runner: web.AppRunner
    host: str
    port: int

    @property
    def store(self) -> ChatStore:
        return self.server.store

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    async def stop(self) -> None:
        """Close every connection, the listener, then the database."""
        await self.runner.cleanup()
        await self.server.store.close()

    async def __aenter__(self) -> RunningChatServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_chat_server(
    db_path: str = ":memory:",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    users: dict[str, str] | None = None,
    **options: object,
) -> RunningChatServer:
    """Open (or reopen) the store at ``db_path`` and serve it; ``port=0`` picks a free port.

    ``users`` maps user ids to tokens to register if they do not exist yet (handy for demos);
    ``options`` go to :class:`ChatServer` (``send_buffer``, ``heartbeat_timeout_s``,
    ``auth_timeout_s``, ``max_connections``, ``send_timeout_s``, ``close_timeout_s``).
    """
    store = await ChatStore.open(db_path, clock)
    try:
        for user, token in (users or {}).items():
            if not await store.user_exists(user):
                await store.register(user, token)
        server = ChatServer(store, clock, **options)  # type: ignore[arg-type]
        runner = web.AppRunner(server.app(), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await store.close()
        raise
    bound = runner.addresses[0][1]
    return RunningChatServer(server, runner, host, bound)
