"""A seeded asyncio event loop on virtual time: the scheduler every lab run shares.

Scenario: two retries of one payment reach the service a millisecond apart. Whether the
second sees the first one's write depends on which ready task the event loop runs next.
A real loop runs ready callbacks first-in first-out and its clock is the wall clock, so a
race shows up once in a thousand runs and never replays. This loop makes both choices
from a seed:

* **Order.** Each iteration runs *one* ready callback, picked by a seeded
  ``random.Random`` from everything that is ready (not the oldest). Every interleaving a
  real loop could produce between two awaits is reachable, and the same seed picks the
  same one again.
* **Time.** ``loop.time()`` is a number the loop owns. When nothing is ready, time jumps
  straight to the next timer, so ``await asyncio.sleep(600)`` costs one step, not ten
  minutes, and ``asyncio.wait_for`` / ``call_later`` work unchanged.

Design note. FoundationDB and TigerBeetle's VOPR own the scheduler the same way. We
subclass ``asyncio.BaseEventLoop`` and replace only ``_run_once`` (the method every
CPython 3.10–3.13 ``run_forever`` calls), so Tasks, Futures, ``gather``, ``Lock`` and
``wait_for`` are the standard library's own; there is no selector and no I/O, so a lab
cannot open sockets or threads that escape the seed. Invariants: the loop never reads
the wall clock; virtual time never goes backwards; a run with no ready callback and no
timer is a *deadlock* and raises instead of hanging; a run longer than ``max_steps``
callbacks raises (a task spinning on ``await asyncio.sleep(0)`` never advances time).
Trade-off: FIFO fairness is gone on purpose — ``asyncio.Lock`` stays correct, but a
starving task is a legal schedule here, as it is under load in production.

Tasks are tagged with the *owner* in :data:`OWNER` at creation (a context variable that
child tasks inherit), so the harness can kill every task of a crashed process and only
those.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import random
from asyncio import base_events
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["SimLoop", "Deadlock", "StepBudgetExceeded", "OWNER", "MAX_STEPS"]

#: Scheduling steps one run may take before it is declared a livelock (a small lab run
#: takes a few thousand).
MAX_STEPS = 200_000

#: Who owns the task being created: the harness sets it to a process incarnation.
OWNER: contextvars.ContextVar[object | None] = contextvars.ContextVar("labs_owner", default=None)


class Deadlock(RuntimeError):
    """Nothing is ready and no timer is set, yet the run has not finished."""


class StepBudgetExceeded(RuntimeError):
    """More than ``max_steps`` callbacks ran: something spins without advancing time."""


class SimLoop(base_events.BaseEventLoop):
    """An event loop whose ready-queue order and clock both come from the harness.

    ``seed_rng`` picks which ready callback runs next. ``on_step`` (optional) is called
    after each callback, for the harness's wall-clock watchdog.
    """

    def __init__(self, seed_rng: random.Random, *, max_steps: int = MAX_STEPS) -> None:
        super().__init__()
        self._now = 0.0
        self._rng = seed_rng
        self.steps = 0
        self.max_steps = max_steps
        self.on_step: Callable[[], None] | None = None
        self.owned: dict[int, list[asyncio.Task[Any]]] = {}  # id(owner) -> its tasks, in order
        self.unowned: list[asyncio.Task[Any]] = []  # the harness's own tasks (clients, main)

    # -- the two things a real loop gets from the OS ------------------------------------
    def time(self) -> float:
        return self._now

    def _process_events(self, event_list: object) -> None:  # no selector, no I/O
        return None

    def _write_to_self(self) -> None:  # call_soon_threadsafe: nothing to wake
        return None

    # -- ownership ----------------------------------------------------------------------
    def create_task(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None, **kwargs: Any
    ) -> asyncio.Task[Any]:
        task = super().create_task(coro, name=name, **kwargs)
        owner = OWNER.get()
        if owner is not None:
            self.owned.setdefault(id(owner), []).append(task)
        else:
            self.unowned.append(task)
        return task

    def tasks_of(self, owner: object) -> list[asyncio.Task[Any]]:
        """Every task created on behalf of ``owner`` (and its children), oldest first."""
        return list(self.owned.get(id(owner), ()))

    # -- the scheduler ------------------------------------------------------------------
    def _run_once(self) -> None:
        ready, scheduled = self._ready, self._scheduled
        if not ready:
            while scheduled and scheduled[0]._cancelled:
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
                self._timer_cancelled_count -= 1
            if not scheduled:
                if self._stopping:
                    return
                raise Deadlock("every task is waiting and no timer is set")
            self._now = max(self._now, scheduled[0]._when)
        while scheduled and scheduled[0]._when <= self._now:
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
            if handle._cancelled:
                self._timer_cancelled_count -= 1
            else:
                ready.append(handle)
        if not ready:
            return
        index = self._rng.randrange(len(ready)) if len(ready) > 1 else 0
        handle = ready[index]
        del ready[index]
        if handle._cancelled:
            return
        self.steps += 1
        if self.steps > self.max_steps:
            raise StepBudgetExceeded(f"more than {self.max_steps:,} scheduling steps")
        handle._run()
        if self.on_step is not None:
            self.on_step()
