"""Messaging (WhatsApp scenario): presence — "online" and "last seen", driven by heartbeats.

A phone that loses signal does not say goodbye: its TCP connection can look open for minutes.
So "online" cannot mean "has a socket"; it means "we heard from it recently". Every frame a
device sends counts as a heartbeat (an idle client sends ``ping`` every
:data:`HEARTBEAT_INTERVAL_S`); a user silent for :data:`HEARTBEAT_TIMEOUT_S` is offline, their
connection is closed by the server's sweeper, and "last seen" is the last heartbeat — not the
moment the sweeper noticed.

Design note: presence is soft state kept in memory on the server that holds the connection;
losing it in a restart costs nothing but a few seconds of "offline" while devices reconnect.
Only ``last_seen`` is written to the store, when a user goes offline. Time comes from the
injected clock, so tests and notebooks step through a timeout instantly.
"""

from __future__ import annotations

from razorlab.clock import Clock

__all__ = ["Presence", "HEARTBEAT_INTERVAL_S", "HEARTBEAT_TIMEOUT_S"]

HEARTBEAT_INTERVAL_S = 10.0  # an idle client pings this often
HEARTBEAT_TIMEOUT_S = 30.0  # three missed heartbeats and the user is offline


class Presence:
    """Last heartbeat per online user, and last seen for those who left."""

    def __init__(self, clock: Clock, timeout_s: float = HEARTBEAT_TIMEOUT_S):
        self._clock = clock
        self.timeout_s = timeout_s
        self._beats: dict[str, float] = {}
        self._last_seen: dict[str, float] = {}

    def beat(self, user: str) -> None:
        """``user`` was heard from now."""
        self._beats[user] = self._clock.now()

    def leave(self, user: str) -> float | None:
        """``user`` went offline; returns their last-seen time (their last heartbeat)."""
        last = self._beats.pop(user, None)
        if last is not None:
            self._last_seen[user] = last
        return self._last_seen.get(user)

    def is_online(self, user: str) -> bool:
        last = self._beats.get(user)
        return last is not None and self._clock.now() - last <= self.timeout_s

    def expired(self) -> list[str]:
        """Users whose last heartbeat is older than the timeout (still counted online here)."""
        now = self._clock.now()
        return sorted(u for u, last in self._beats.items() if now - last > self.timeout_s)

    def last_seen(self, user: str) -> float | None:
        """Last heartbeat of an online user, or when an offline one was last heard from."""
        return self._beats.get(user, self._last_seen.get(user))
