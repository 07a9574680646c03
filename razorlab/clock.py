"""Injectable time, so simulations and tests are deterministic.

Engines never call ``time.time()`` or ``asyncio.sleep()`` directly: they take a
``Clock``. In production-like runs that is ``SystemClock``; in tests and notebooks
it is ``ManualClock``, whose time only moves when the caller says so — a 3-day
auto-refund window or a 10-minute seat hold then takes microseconds to test.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

from razorlab.errors import ValidationError

__all__ = ["Clock", "SystemClock", "ManualClock", "EPOCH_2026"]

#: A fixed, memorable start for simulated time: 2026-01-01T00:00:00Z.
EPOCH_2026 = 1_767_225_600.0


@runtime_checkable
class Clock(Protocol):
    """What engines need from time."""

    def now(self) -> float:
        """Seconds since the Unix epoch (wall-clock time, for timestamps and expiry)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)


class ManualClock:
    """Simulated time that moves only when advanced.

    ``await clock.sleep(5)`` parks the caller until someone advances the clock past
    its deadline. ``advance`` is synchronous (wakes sleepers, then returns);
    ``await run_for(seconds)`` also lets woken tasks run, stepping through every
    deadline in order, which is what a simulation loop wants.
    """

    def __init__(self, start: float = EPOCH_2026):
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self._now, tz=timezone.utc)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper now due."""
        if seconds < 0:
            raise ValidationError(
                f"time cannot go backwards (advance by {seconds})", field="seconds"
            )
        self._now += seconds
        self._wake_due()

    def set(self, timestamp: float) -> None:
        """Jump to ``timestamp`` (never backwards)."""
        self.advance(timestamp - self._now)

    async def run_for(self, seconds: float) -> None:
        """Advance ``seconds``, visiting each sleeper's deadline and yielding so woken tasks run."""
        if seconds < 0:
            raise ValidationError(f"time cannot go backwards (run for {seconds})", field="seconds")
        end = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= end:
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()
            for _ in range(3):  # a woken task may await once or twice before sleeping again
                await asyncio.sleep(0)
        self._now = end
        await asyncio.sleep(0)

    @property
    def pending_sleepers(self) -> int:
        return sum(not f.done() for _, _, f in self._sleepers)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
