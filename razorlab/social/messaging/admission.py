"""Messaging (WhatsApp scenario): admission — which sockets the chat server holds, and how long.

Two gates keep an open server's resources bounded before any user is known. A socket must
authenticate within :data:`AUTH_TIMEOUT_S` (else it is closed with
:data:`~razorlab.social.messaging.connection.CLOSE_AUTH_TIMEOUT`), so idle sockets cannot pile
up; and at most ``max_connections`` sockets are open at once, a socket beyond the cap being
closed with :data:`CLOSE_TRY_AGAIN_LATER` (1013, RFC 6455's "Try Again Later"). The default cap
stays :data:`FD_HEADROOM` below the process's file limit, so accepting never runs out of
descriptors (the failure this replaces: a server at the file limit busy-looped on ``accept``
and real users could not log in).

Design note: every close here has a deadline (:func:`close_within`); a peer that does not
answer the close handshake has its socket aborted, so neither a refusal nor a shutdown can hang
on a socket that does not read. Admission keeps each open socket with its abort function, which
is also how the server closes them all when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from razorlab.clock import Clock
from razorlab.social.messaging.connection import CLOSE_AUTH_TIMEOUT, close_within

__all__ = [
    "Admission",
    "AUTH_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "FD_HEADROOM",
    "CLOSE_TRY_AGAIN_LATER",
    "default_max_connections",
]

AUTH_TIMEOUT_S = 10.0  # a socket that has not authenticated by then is closed
MAX_CONNECTIONS = 10_000  # open sockets per server unless the file limit is lower
FD_HEADROOM = 64  # descriptors kept free for the database, logs and the listener
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: "Try Again Later" (the server is full)


def default_max_connections() -> int:
    """:data:`MAX_CONNECTIONS`, or fewer if the process may open fewer files than that."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - FD_HEADROOM))


class Admission:
    """The open sockets of one server (each with its abort), the cap and the auth deadline."""

    def __init__(
        self,
        clock: Clock,
        stats: Counter[str],
        *,
        auth_timeout_s: float,
        max_connections: int | None,
        send_timeout_s: float,
        close_timeout_s: float,
    ):
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.clock, self.stats = clock, stats
        self.auth_timeout_s = auth_timeout_s
        self.max_connections = max_connections or default_max_connections()
        self.send_timeout_s = send_timeout_s
        self.close_timeout_s = close_timeout_s
        self.sockets: dict[web.WebSocketResponse, Callable[[], None]] = {}  # ws -> abort

    async def admit(
        self, request: web.Request, ws: web.WebSocketResponse
    ) -> Callable[[], None] | None:
        """Accept ``ws`` and return its abort; None if the server is full (``ws`` is closed)."""
        transport = request.transport

        def abort() -> None:
            if transport is not None:
                transport.abort()

        await ws.prepare(request)
        if len(self.sockets) >= self.max_connections:
            self.stats["refused:max_connections"] += 1
            reason = f"server full ({self.max_connections} connections): try again later"
            await self.close(ws, CLOSE_TRY_AGAIN_LATER, reason, abort)
            return None
        self.sockets[ws] = abort
        return abort

    def release(self, ws: web.WebSocketResponse) -> None:
        """``ws`` has ended: its slot is free."""
        self.sockets.pop(ws, None)

    async def close(
        self, ws: web.WebSocketResponse, code: int, reason: str, abort: Callable[[], None]
    ) -> None:
        """Close with a handshake if the peer answers in time, else abort the socket."""
        if not await close_within(
            ws.close(code=code, message=reason.encode()), self.close_timeout_s
        ):
            with contextlib.suppress(Exception):
                abort()

    async def close_all(self, code: int, reason: str) -> None:
        await asyncio.gather(
            *(self.close(ws, code, reason, abort) for ws, abort in list(self.sockets.items()))
        )

    async def send_now(
        self, ws: web.WebSocketResponse, reply: dict, abort: Callable[[], None]
    ) -> None:
        """A reply to a socket that has no writer task yet (before auth), with a deadline."""
        try:
            await asyncio.wait_for(ws.send_str(json.dumps(reply)), self.send_timeout_s)
        except asyncio.TimeoutError:
            abort()
            raise ConnectionError("a reply to an unauthenticated socket timed out") from None

    async def auth_deadline(
        self, ws: web.WebSocketResponse, abort: Callable[[], None], authed: asyncio.Event
    ) -> None:
        """Close ``ws`` unless ``authed`` is set within :attr:`auth_timeout_s` (run as a task)."""
        await self.clock.sleep(self.auth_timeout_s)
        if not authed.is_set():
            self.stats["auth_timeouts"] += 1
            reason = f"authenticate within {self.auth_timeout_s:g} s"
            await self.close(ws, CLOSE_AUTH_TIMEOUT, reason, abort)
