"""Go's GC pacer controller: trigger, runway, mark workers, assist ratio, cons/mark estimate.

Scenario: ``gc.simulate_gc`` steps a heap through time; this module is the part of the
runtime that decides *when* a cycle starts and *how hard* allocating goroutines must help
marking. Each function restates one routine of ``src/runtime/mgcpacer.go`` (read in
Go 1.19.8's tree, and in a 1.21+ tree for the two places that changed) in our own words:

* ``mark_workers`` (``gcControllerState.startCycle``): background marking aims at 25 % of
  GOMAXPROCS (``gcBackgroundUtilization``). That is rounded to whole *dedicated* workers;
  when rounding is off by more than 30 % (GOMAXPROCS <= 3 or 6) one dedicated worker is
  dropped and the rest becomes a per-P *fractional* goal. Ps with nothing to run take
  *idle* workers (``setMaxIdleMarkWorkers``: GOMAXPROCS - dedicated).
* ``FractionalSlices`` (``findRunnableGCWorker``, ``pollFractionalWorkerExit`` in
  ``mgc.go``): a fractional worker is a goroutine, so on a P running an allocating
  goroutine it gets the P only at a scheduling point. The mutator keeps its P until sysmon
  preempts it (10 ms after sysmon first saw it running, ``forcePreemptNS``; sysmon wakes
  every 10 ms when it has nothing to retake, and a preemption does not count as a
  retake); ``schedule`` then runs the fractional worker if the P's fractional time since
  the mark started is under the goal, and the worker runs until it is over 1.2 x the
  goal. So the mutator starts each cycle with a whole P and then alternates with bursts
  of marking: while it runs, only the other Ps mark, and its allocations can outrun the
  background credit (``gcController.bgScanCredit``, which ``gcFlushBgCredit`` fills and
  ``gcAssistAlloc`` steals from before assisting). That is where Go's assists come
  from when the workers keep up on average.
* ``trigger_point`` (``trigger``): the cycle starts ``runway`` bytes before the goal,
  clamped between 45/64 and 61/64 of the way from the marked heap to the goal
  (``minTriggerRatioNum``, ``maxTriggerRatioNum``, ``triggerRatioDen``); for large heaps
  the upper bound is instead ``goal - 4 MiB`` (``defaultHeapMinimum``).
* ``runway_bytes`` (``commit``): runway = consMark x (1 - 0.25) / 0.25 x expected scan
  work, i.e. the bytes the mutators allocate while the GC does its work at 25 % of the CPU.
* ``assist_work_per_byte`` (``revise``): from the trigger on, every allocated byte owes
  ``remaining scan work / heap left before the goal`` bytes of scanning; past the
  expected work the goal is extrapolated (at most ``1 + GOGC/100`` times), past the goal
  it is stretched by 1.1 (``maxOvershoot``). The ratio is proportional all the way from
  the trigger: assists do not wait for the goal.
* ``ConsMark`` (``endCycle``): the cons/mark sample of a cycle is the bytes allocated
  since the trigger times (assist + background + idle utilisation) over the scan work
  times (1 - assist - background utilisation). Go 1.19-1.20 smooth it with a PI
  controller (``piController``: kp 0.9, ti 4, tt 1000, output clamped to +-1000);
  1.21+ take the largest of this sample and the last four.
* ``limit_headroom`` (``memoryLimitHeapGoal``): Go 1.19-1.20 keep 1 MiB below the
  memory limit's goal (``memoryLimitHeapGoalHeadroom``); 1.21+ keep 3 % of it, at least
  1 MiB (``memoryLimitHeapGoalHeadroomPercent``, ``memoryLimitMinHeapGoalHeadroom``).

Simplified (said so): the sweep-distance trigger floor (``sweepMinHeapDistance``) and the
64 KiB minimum runway are left out (both are far below the heaps modelled); dedicated and
idle workers are shares of P-time, and so is the fractional worker on a P without a
mutator; sysmon's rounds are exactly 10 ms apart from the start of the run; an assist's
64 KiB minimum (``gcOverAssistWork``) and the per-goroutine debt are left out (the
mutators share one debt and pay it as they allocate). ``revise``'s worst-case work is the
scannable heap at the trigger, where Go reads ``heapScan`` as it grows during marking
(on ``gc_pointer_heap`` the live value moves no figure by more than one point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from razorlab.errors import ValidationError
from razorlab.goruntime.processor import FORCE_PREEMPT_S, SYSMON_MAX_DELAY_S

__all__ = [
    "BACKGROUND_UTILIZATION",
    "TRIGGER_RATIO_DEN",
    "MIN_TRIGGER_NUM",
    "MAX_TRIGGER_NUM",
    "HEAP_MINIMUM_BYTES",
    "MarkWorkers",
    "FractionalSlices",
    "ConsMark",
    "go_minor",
    "limit_headroom",
    "mark_workers",
    "trigger_point",
    "runway_bytes",
    "assist_work_per_byte",
    "cons_mark_sample",
]

MIB = 2**20
BACKGROUND_UTILIZATION = 0.25  # gcBackgroundUtilization (= gcGoalUtilization)
MAX_UTIL_ERROR = 0.3  # startCycle: rounding error that switches on fractional workers
FRACTIONAL_EXIT = 1.2  # pollFractionalWorkerExit: a fractional worker stops over 1.2 x goal
TRIGGER_RATIO_DEN, MIN_TRIGGER_NUM, MAX_TRIGGER_NUM = 64, 45, 61
HEAP_MINIMUM_BYTES = 4 * MIB  # defaultHeapMinimum
MAX_OVERSHOOT = 1.1  # revise: maxOvershoot
MIN_SCAN_WORK_REMAINING = 1000.0  # revise: floor on the remaining scan work
GOGC_OFF_PERCENT = 100_000  # revise: GOGC=off acts as a huge GOGC
PI_KP, PI_TI, PI_TT, PI_LIMIT = 0.9, 4.0, 1000.0, 1000.0  # consMarkController (1.19-1.20)
CONS_MARK_HISTORY = 4  # lastConsMark (1.21+)
LIMIT_HEADROOM_MIN_BYTES = 1 * MIB  # memoryLimitHeapGoalHeadroom / ...MinHeapGoalHeadroom
LIMIT_HEADROOM_PERCENT = 3  # memoryLimitHeapGoalHeadroomPercent (1.21+)
OLDEST_MINOR = 19


def go_minor(version: str) -> int:
    """``"1.19"`` -> 19; versions before 1.19 (no memory limit, older pacer) are refused."""
    try:
        major, minor = (int(x) for x in str(version).split(".")[:2])
    except ValueError:
        raise ValidationError(
            f"go_version must look like '1.19', got {version!r}", field="go_version"
        ) from None
    if major != 1 or minor < OLDEST_MINOR:
        raise ValidationError(
            f"the pacer is modelled for Go 1.19 and later, got {version!r}", field="go_version"
        )
    return minor


def limit_headroom(budget_bytes: float, go_version: str = "1.19") -> float:
    """Bytes kept free below ``limit - non-heap`` (``budget_bytes``) for pacing errors."""
    if go_minor(go_version) < 21:
        return LIMIT_HEADROOM_MIN_BYTES
    return max(budget_bytes * LIMIT_HEADROOM_PERCENT / 100, LIMIT_HEADROOM_MIN_BYTES)


@dataclass(frozen=True)
class MarkWorkers:
    """Background marking for one cycle: whole dedicated Ps plus a fractional share per P."""

    dedicated: int
    fractional: float  # share of each non-dedicated P's time

    def shares(self, procs: int, mutators: int) -> tuple[float, float, float]:
        """P-seconds per second for (mutators, background workers, idle workers).

        Mutators run on the Ps left by dedicated workers and lose the fractional share
        there; Ps without a mutator run idle workers in the time the fractional worker
        leaves.
        """
        free = procs - self.dedicated
        busy = min(mutators, free)
        background = self.dedicated + self.fractional * free
        return busy * (1 - self.fractional), background, (free - busy) * (1 - self.fractional)


def mark_workers(procs: int) -> MarkWorkers:
    """Dedicated and fractional workers for ``procs`` Ps (``startCycle``)."""
    goal = procs * BACKGROUND_UTILIZATION
    dedicated = int(goal + 0.5)
    if abs(dedicated / goal - 1) <= MAX_UTIL_ERROR:
        return MarkWorkers(dedicated, 0.0)
    if dedicated > goal:
        dedicated -= 1
    return MarkWorkers(dedicated, (goal - dedicated) / procs)


def _preempted_at(start_s: float) -> float:
    """When sysmon preempts a G that started at ``start_s`` (rounds every 10 ms from 0)."""
    seen = (math.floor(start_s / SYSMON_MAX_DELAY_S) + 1) * SYSMON_MAX_DELAY_S
    return seen + FORCE_PREEMPT_S


@dataclass
class FractionalSlices:
    """A P running a mutator while marking: who has it when (see the module docstring)."""

    goal: float  # fractionalUtilizationGoal: share of each P
    start_s: float  # markStartTime
    worker_s: float = 0.0  # gcFractionalMarkTime of this P
    on_worker: bool = False
    until_s: float = math.nan  # when sysmon preempts the mutator's current run

    def __post_init__(self) -> None:
        self.until_s = _preempted_at(self.start_s)  # the mutator that started GC runs on

    def take(self, now: float, dt: float) -> float:
        """Seconds of ``[now, now + dt]`` the fractional worker has this P."""
        end, taken, exit_share = now + dt, 0.0, FRACTIONAL_EXIT * self.goal
        while self.goal > 0 and now < end:
            if self.on_worker:  # runs until its share since the mark started > 1.2 x goal
                burst = (exit_share * (now - self.start_s) - self.worker_s) / (1 - exit_share)
                run = min(max(burst, 0.0), end - now)
                self.worker_s += run
                taken += run
                now += run
                if run < burst:
                    break
                self.on_worker, self.until_s = False, _preempted_at(now)
            elif self.until_s >= end:
                break
            else:  # preempted: schedule() asks findRunnableGCWorker first
                now = self.until_s
                self.on_worker = self.worker_s <= self.goal * (now - self.start_s)
                if not self.on_worker:
                    self.until_s = _preempted_at(now)
        return taken


def trigger_point(marked: float, goal: float, runway: float) -> float:
    """Heap size at which the next cycle starts (``trigger``)."""
    if marked >= goal:
        return goal
    step = (goal - marked) / TRIGGER_RATIO_DEN
    low = marked + step * MIN_TRIGGER_NUM
    high = marked + step * MAX_TRIGGER_NUM
    if goal > HEAP_MINIMUM_BYTES:
        high = max(high, goal - HEAP_MINIMUM_BYTES)
    high = max(high, low)
    return min(max(goal - runway, low), high)


def runway_bytes(cons_mark: float, scan_work_expected: float) -> float:
    """Bytes to allocate while marking at 25 % of the CPU (``commit``)."""
    share = BACKGROUND_UTILIZATION
    return max(cons_mark * (1 - share) / share * scan_work_expected, 0.0)


def assist_work_per_byte(
    *,
    heap_live: float,
    goal: float,
    triggered: float,
    work_done: float,
    work_expected: float,
    max_work: float,
    gogc: float | None,
) -> float:
    """Scan bytes owed per allocated byte during marking (``revise``); inf past the goal."""
    percent = GOGC_OFF_PERCENT if gogc is None else gogc
    if work_done > work_expected > 0:  # the heap grew: stretch the goal with the work
        stretched = (goal - triggered) / work_expected * max_work + triggered
        goal = min(stretched, (1 + percent / 100) * goal)
        work_expected = max_work
    if heap_live > goal:
        goal *= MAX_OVERSHOOT
        work_expected = max_work
    remaining = max(work_expected - work_done, MIN_SCAN_WORK_REMAINING)
    left = goal - heap_live
    return remaining / left if left > 0 else float("inf")


def cons_mark_sample(
    *, allocated: float, scan_work: float, assist_share: float, idle_share: float
) -> float | None:
    """One cycle's cons/mark (``endCycle``); None when nothing was allocated or scanned."""
    if allocated <= 0 or scan_work <= 0:
        return None
    used = BACKGROUND_UTILIZATION + assist_share
    return allocated * (used + idle_share) / (scan_work * (1 - used))


@dataclass
class ConsMark:
    """The smoothed cons/mark estimate the runway is computed from."""

    go_version: str = "1.19"
    value: float = 0.0
    _integral: float = 0.0
    _history: list[float] = field(default_factory=list)

    def update(self, sample: float) -> float:
        if go_minor(self.go_version) >= 21:
            self.value = max([sample, *self._history])
            self._history = [*self._history, sample][-CONS_MARK_HISTORY:]
            return self.value
        error = sample - self.value  # piController.next with period 1 (one cycle)
        raw = PI_KP * error + self._integral
        out = min(max(raw, -PI_LIMIT), PI_LIMIT)
        self._integral += PI_KP / PI_TI * error + (out - raw) / PI_TT
        self.value = out
        return out
