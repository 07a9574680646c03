"""The pieces of the scheduler model: runtime constants, run configuration, and the P.

Each constant cites where it lives in the Go runtime (``src/runtime/proc.go`` unless
noted). ``SchedulerConfig`` holds what a run may vary (GOMAXPROCS, seed, and the
OS latencies calibrated against ``data/go/measurements.json``); a P carries its
local run queue, ``runnext``, schedule tick, timers and the bookkeeping ``sysmon``
keeps about it (``sysmontick`` in the runtime).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from razorlab.errors import StateError, ValidationError
from razorlab.goruntime.costs import OpCosts
from razorlab.rand import DEFAULT_SEED, check_seed

__all__ = [
    "SchedulerConfig",
    "SchedulerInvariantError",
    "ThreadExhaustionError",
    "Processor",
    "compact",
]

LOCAL_RUNQ_SIZE = 256  # proc.go/runtime2.go: runq [256]guintptr
GLOBAL_CHECK_EVERY = 61  # findRunnable: schedtick%61 == 0
STEAL_TRIES = 4  # stealWork: const stealTries = 4
FORCE_PREEMPT_S = 10e-3  # forcePreemptNS = 10 ms
NETPOLL_STALE_S = 10e-3  # sysmon polls the network if nobody did for 10 ms
SYSMON_MIN_DELAY_S = 20e-6  # sysmon: delay = 20 us when busy
SYSMON_MAX_DELAY_S = 10e-3  # ... doubling after 50 idle rounds, capped at 10 ms
SYSMON_IDLE_ROUNDS = 50
MAX_THREADS = 10_000  # schedinit: sched.maxmcount = 10000 (debug.SetMaxThreads changes it)
RUNTIME_THREADS = 1  # sysmon runs on its own M, without a P
GFREE_MAX_LOCAL = 64  # gfput: a P's free-G list spills to sched.gFree at 64 Gs...
GFREE_REFILL = 32  # ... down to 31; gfget refills an empty list with up to 32

# A P is idle, starting up / spinning (its M looks for work), running Go code, or
# held by an M inside a syscall (until sysmon hands it off).
IDLE, WAKING, RUNNING, SYSCALL = 0, 1, 2, 3
# A G is not yet spawned, runnable (queued), on a CPU, parked (network or timer),
# in a syscall, or finished.
G_NEW, G_RUNNABLE, G_ON_CPU, G_PARKED, G_IN_SYSCALL, G_DEAD = range(6)
# Event kinds in the simulation's heap (the index of their handler).
(
    EV_END,
    EV_SYSMON,
    EV_NET_READY,
    EV_SYSCALL_DONE,
    EV_TIMER,
    EV_P_START,
    EV_SAMPLE,
    EV_STEAL_RETRY,
) = range(8)


class SchedulerInvariantError(StateError):
    """The model broke a rule of the real scheduler (a bug in the model, never expected)."""

    code = "SCHEDULER_INVARIANT"


class ThreadExhaustionError(StateError):
    """More Ms than ``max_threads``: Go's ``checkmcount`` throws "thread exhaustion" (fatal)."""

    code = "THREAD_EXHAUSTION"


@dataclass(frozen=True)
class SchedulerConfig:
    """Knobs of one run; defaults are the runtime's, latencies calibrated on Linux."""

    gomaxprocs: int = 4
    seed: int = DEFAULT_SEED
    switch_s: float = 200e-9  # a goroutine switch (gogo + schedule) ~0.1-0.3 us
    wakeup_s: float = 20e-6  # waking a parked M on its futex
    timer_slack_s: float = 100e-6  # timers and usleep fire late by the OS timer slack
    # runqgrab: a thief sleeps usleep(3) before taking a running P's runnext; on Linux
    # it returns after ~60 us (the 50 us default timer slack; measured median 59.9 us)
    steal_backoff_s: float = 60e-6
    sample_every_s: float = 1e-3  # run-queue length sampling period
    max_threads: int = MAX_THREADS  # debug.SetMaxThreads
    costs: OpCosts = field(default_factory=OpCosts)  # go, channels, WaitGroup

    def __post_init__(self) -> None:
        procs = self.gomaxprocs
        if isinstance(procs, bool) or not isinstance(procs, int) or procs < 1:
            raise ValidationError(
                f"GOMAXPROCS must be an int >= 1 (the runtime rejects 0), got {procs!r}",
                field="gomaxprocs",
            )
        check_seed(self.seed)
        threads = self.max_threads
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValidationError(
                f"max_threads must be an int >= 1, got {threads!r}", field="max_threads"
            )
        for name in ("switch_s", "wakeup_s", "timer_slack_s", "steal_backoff_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValidationError(f"{name} must be a finite number >= 0", field=name)
        if not self.sample_every_s > 0:
            raise ValidationError("sample_every_s must be > 0", field="sample_every_s")


class Processor:
    """A P: the licence to run Go code, and the queues that come with it."""

    __slots__ = (
        "id",
        "runq",
        "runnext",
        "g",
        "status",
        "schedtick",
        "run_start",
        "token",
        "seen_tick",
        "seen_when",
        "busy_s",
        "timers",
        "syscalltick",
        "seen_syscalltick",
        "seen_syscall_when",
        "syscall_g",
        "gfree",
        "steal_expect",
    )

    def __init__(self, pid: int):
        self.id = pid
        self.runq: deque[int] = deque()
        self.runnext = -1
        self.g = -1
        self.status = IDLE
        self.schedtick = 0
        self.run_start = 0.0
        self.token = 0
        self.seen_tick = -1
        self.seen_when = 0.0
        self.busy_s = 0.0
        self.timers: list[tuple[float, int]] = []
        self.syscalltick = 0
        self.seen_syscalltick = -1
        self.seen_syscall_when = 0.0
        self.syscall_g = -1
        self.gfree = 0  # Gs on this P's free list (p.gFree)
        self.steal_expect = -1  # while its M sleeps in runqgrab: the G it saw in runnext


def compact(values: np.ndarray) -> array:
    """A numpy vector as an ``array`` buffer: 8 bytes a slot (1 for int8), where a list
    holds a pointer plus, for floats and large ints, a 24-32 byte object per slot."""
    code = "b" if values.dtype == np.int8 else "d" if values.dtype.kind == "f" else "q"
    out = array(code)
    out.frombytes(values.astype({"b": np.int8, "d": np.float64, "q": np.int64}[code]).tobytes())
    return out
