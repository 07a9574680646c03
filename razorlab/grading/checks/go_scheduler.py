"""Self-checks for ``solutions/round3_go_runtime/01_scheduler_exercises.ipynb``.

Expected values come from the scheduler model (``razorlab.goruntime``), the engine
the chapter teaches, never from a hard-coded number: change a runtime constant in
the model and the checks follow (q3 and q4, answered with values, are sealed digests of
the model's values: the tests recompute them and say when they go stale).

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs (``qN_expected``) of questions answered with a function, never a function
with an answer's signature; the hidden tests compare with the instructor's solution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from razorlab.goruntime import SchedulerConfig, simulate, sleep_probe, spawn_burst
from razorlab.goruntime.scheduler import steal_count
from razorlab.grading.checks._sealed import near_sealed
from razorlab.grading.selfcheck import call_answer, near, question

SET = "go_scheduler"

Q1_SPAWNED = 258  # one more than a full local queue plus runnext
Q2_SLEEP_MS = 5.0
Q3_N, Q3_PROCS, Q3_CPU_S, Q3_OVER_S = 1500, 2, 100e-6, 0.2  # ~98% busy Ps
Q5_VICTIM_LEN = 7


# ---- expected values for the question's own inputs, from the model ------------------
# (values, not functions with the answers' signatures: ``gs`` is imported by the notebook)
def q1_expected() -> int:
    """Goroutines in the global queue after ``Q1_SPAWNED`` ``go`` statements, GOMAXPROCS=1."""
    run = simulate(spawn_burst(Q1_SPAWNED, spawn_every_s=0.0), SchedulerConfig(gomaxprocs=1))
    return int(run.runq_samples()["global"].iloc[0])


def q2_expected() -> float:
    """Median lateness (ms) of a ``Q2_SLEEP_MS`` sleep next to one CPU hog on GOMAXPROCS=1."""
    run = simulate(sleep_probe(1, samples=12, sleep_s=Q2_SLEEP_MS / 1e3), SchedulerConfig(1))
    return float(np.median(run.waits_of(0)[1:]) * 1e3)


def q5_expected() -> int:
    """Goroutines a thief takes from a victim with ``Q5_VICTIM_LEN`` queued."""
    return steal_count(Q5_VICTIM_LEN)


# q3 and q4 are answered with a value, so their values are sealed (see ``_sealed``): the
# sysmon share of the q3 workload (rel 3%) and the longest slice, sysmon's 10 ms tick plus
# forcePreemptNS (rel 5%).
_Q3_REL, _Q4_REL = 0.03, 0.05
_Q3_SEALED = "a7b64cbba309a3345a380dd39138959d"
_Q4_SEALED = "f5ecc08c810d417abb3e53d954dd4181"


@question(
    SET, "q1", covers="bursts that fill the local queue zero, one and several times; drawn sizes"
)
def _q1(fn: Callable[[int], int]) -> str | None:
    got, problem = call_answer(fn, Q1_SPAWNED)
    if problem:
        return problem
    expected = q1_expected()
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
    return near(got, q2_expected(), rel=0.1, what="the wake-up delay (ms)")


@question(SET, "q3", covers="the share computed with the model on the given workload")
def _q3(share: object) -> str | None:
    problem = near_sealed(share, _Q3_SEALED, f"{SET}/q3", rel=_Q3_REL, what="the sysmon share")
    if problem and isinstance(share, int | float) and share > 1:
        return "give a share between 0 and 1, not a percentage."
    return problem


@question(SET, "q4", covers="the bound in ms, from sysmon's 10 ms tick and forcePreemptNS")
def _q4(max_slice_ms: object) -> str | None:
    return near_sealed(
        max_slice_ms, _Q4_SEALED, f"{SET}/q4", rel=_Q4_REL, what="the longest time slice (ms)"
    )


@question(
    SET, "q5", covers="victims with 0, 1, 2, 3, 255, 256 and drawn numbers of goroutines queued"
)
def _q5(fn: Callable[[int], int]) -> str | None:
    got, problem = call_answer(fn, Q5_VICTIM_LEN)
    if problem:
        return problem
    expected = q5_expected()
    if got == expected:
        return None
    if got == Q5_VICTIM_LEN // 2:
        return "for an odd queue the thief rounds up: it takes n - n/2, not n/2."
    return f"{got!r} goroutines is not half of {Q5_VICTIM_LEN}."
