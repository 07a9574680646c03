"""Self-checks for ``solutions/round3_go_runtime/01_scheduler_exercises.ipynb``.

Expected values come from the scheduler model (``razorlab.goruntime``), the engine
the chapter teaches, never from a hard-coded number: change a runtime constant in
the model and the checks follow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from razorlab.goruntime import SchedulerConfig, io_bound, simulate, sleep_probe, spawn_burst
from razorlab.goruntime.processor import FORCE_PREEMPT_S, SYSMON_MAX_DELAY_S
from razorlab.goruntime.scheduler import steal_count
from razorlab.grading.selfcheck import call_answer, near, question

SET = "go_scheduler"

Q1_SPAWNED = 258  # one more than a full local queue plus runnext
Q2_SLEEP_MS = 5.0
Q3_N, Q3_PROCS, Q3_CPU_S, Q3_OVER_S = 1500, 2, 100e-6, 0.2  # ~98% busy Ps
Q5_VICTIM_LEN = 7


def global_after_burst(spawned: int) -> int:
    """Goroutines in the global queue after ``spawned`` ``go`` statements on GOMAXPROCS=1."""
    run = simulate(spawn_burst(spawned, spawn_every_s=0.0), SchedulerConfig(gomaxprocs=1))
    return int(run.runq_samples()["global"].iloc[0])


def wake_delay_ms(sleep_ms: float) -> float:
    """Median lateness of a ``sleep_ms`` sleep next to one CPU hog on GOMAXPROCS=1."""
    run = simulate(sleep_probe(1, samples=12, sleep_s=sleep_ms / 1e3), SchedulerConfig(1))
    return float(np.median(run.waits_of(0)[1:]) * 1e3)


def sysmon_share(n: int = Q3_N, procs: int = Q3_PROCS) -> float:
    """Share of network wake-ups delivered by sysmon in the q3 workload."""
    wl = io_bound(n, cpu_s=Q3_CPU_S, spawn_over_s=Q3_OVER_S)
    run = simulate(wl, SchedulerConfig(gomaxprocs=procs))
    polled = run.netpoll_by_sysmon + run.netpoll_by_p + run.woken_idle
    return run.netpoll_by_sysmon / polled


@question(
    SET, "q1", covers="bursts that fill the local queue zero, one and several times; drawn sizes"
)
def _q1(fn: Callable[[int], int]) -> str | None:
    got, problem = call_answer(fn, Q1_SPAWNED)
    if problem:
        return problem
    expected = global_after_burst(Q1_SPAWNED)
    if got == expected:
        return None
    if got in (1, 128, 130):
        return (
            "close: runqputslow moves half the *full* local queue *plus* the goroutine kicked out."
        )
    return f"{got!r} is not it: count runnext (1 slot) and the local ring (256) first."


@question(SET, "q2", covers="sleeps of 2 ms, 8 ms and two drawn lengths next to the hog")
def _q2(fn: Callable[[float], float]) -> str | None:
    got, problem = call_answer(fn, Q2_SLEEP_MS)
    if problem:
        return problem
    return near(got, wake_delay_ms(Q2_SLEEP_MS), rel=0.1, what="the wake-up delay (ms)")


@question(SET, "q3", covers="the share computed with the model on the given workload")
def _q3(share: object) -> str | None:
    problem = near(share, sysmon_share(), rel=0.03, what="the sysmon share")
    if problem and isinstance(share, int | float) and share > 1:
        return "give a share between 0 and 1, not a percentage."
    return problem


@question(SET, "q4", covers="the bound in ms, from sysmon's 10 ms tick and forcePreemptNS")
def _q4(max_slice_ms: object) -> str | None:
    expected = (FORCE_PREEMPT_S + SYSMON_MAX_DELAY_S) * 1e3
    return near(max_slice_ms, expected, rel=0.05, what="the longest time slice (ms)")


@question(
    SET, "q5", covers="victims with 0, 1, 2, 3, 255, 256 and drawn numbers of goroutines queued"
)
def _q5(fn: Callable[[int], int]) -> str | None:
    got, problem = call_answer(fn, Q5_VICTIM_LEN)
    if problem:
        return problem
    expected = steal_count(Q5_VICTIM_LEN)
    if got == expected:
        return None
    if got == Q5_VICTIM_LEN // 2:
        return "for an odd queue the thief rounds up: it takes n - n/2, not n/2."
    return f"{got!r} goroutines is not half of {Q5_VICTIM_LEN}."
