"""A wall-clock cap for one lab run: learner code that blocks for real cannot hang a notebook.

Scenario: a learner writes ``time.sleep(1)`` to "wait for the bank", or a ``while`` loop
that never awaits. Simulated time cannot see either — the event loop never gets control
back — so the per-operation budget in simulated time is useless. Only real time can.

Design note. In the main thread on Unix we arm ``SIGALRM`` with ``signal.setitimer``; its
handler raises :class:`WallClockExceeded`, which interrupts a pure-Python loop *and* a
``time.sleep`` (PEP 475 retries a sleep only when the handler returns). Elsewhere (a
worker thread, Windows) a timer thread injects the same exception into the running
thread with ``PyThreadState_SetAsyncExc``; that interrupts Python loops, and a
``time.sleep`` as soon as it returns. The exception may be swallowed by the asyncio Task
it lands in, so the watchdog also sets :attr:`Watchdog.fired`, and the loop checks it
after every step (``SimLoop.on_step``). Trade-off: a cap long enough for a slow shared
machine (seconds) is far longer than a healthy run (milliseconds), so blocking is caught
late but never mistaken for slowness. The cap is armed once per run, not per step, so it
costs two system calls per run.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import threading
from types import FrameType, TracebackType

__all__ = ["Watchdog", "WallClockExceeded", "WALL_CAP_S"]

#: Real seconds one run of a small lab workload may take (healthy runs take milliseconds).
WALL_CAP_S = 10.0


class WallClockExceeded(BaseException):
    """The run used more real time than its cap: something blocked instead of awaiting.

    A ``BaseException`` so a learner's ``except Exception`` cannot swallow it.
    """


class Watchdog:
    """``with Watchdog(cap_s) as dog: ...`` raises :class:`WallClockExceeded` after ``cap_s``."""

    def __init__(
        self, cap_s: float = WALL_CAP_S, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.cap_s = cap_s
        self.loop = loop
        self.fired = False
        self.blamed: str | None = None  # the name of the task that was running when it fired
        self._timer: threading.Timer | None = None
        self._old_handler: object = None
        self._use_signal = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )

    def check(self) -> None:
        """Raise if the cap fired (called after each scheduling step)."""
        if self.fired:
            raise WallClockExceeded(f"the run blocked for more than {self.cap_s:g} s of real time")

    def _blame(self) -> None:
        self.fired = True
        if self.loop is not None:
            task = asyncio.current_task(self.loop)
            self.blamed = task.get_name() if task is not None else None

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        self._blame()
        raise WallClockExceeded(f"the run blocked for more than {self.cap_s:g} s of real time")

    def _inject(self, thread_id: int) -> None:
        self._blame()
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread_id), ctypes.py_object(WallClockExceeded)
        )

    def __enter__(self) -> Watchdog:
        if self._use_signal:
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.cap_s)
        else:
            self._timer = threading.Timer(self.cap_s, self._inject, (threading.get_ident(),))
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)  # type: ignore[arg-type]
        elif self._timer is not None:
            self._timer.cancel()
