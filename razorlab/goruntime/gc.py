"""Go's GC pacer: when the collector starts, how big the heap gets, what it costs in CPU.

Scenario: a service allocates at some rate while keeping a live heap; the operator
has two knobs, ``GOGC`` and ``GOMEMLIMIT``. This model answers the questions of the
Go GC guide (go.dev/doc/gc-guide) for any workload: how many GC cycles, what peak
heap, what share of the CPU goes to the GC.

Facts used (``src/runtime/mgcpacer.go``, Go 1.19+):

* heap goal = live heap + (live heap + GC roots) x GOGC/100, where the roots are
  goroutine stacks and globals (included since Go 1.18);
* the goal is never below the heap minimum, 4 MiB x GOGC/100 (``defaultHeapMinimum``);
* ``GOMEMLIMIT`` caps the goal at limit - non-heap memory - headroom (1 MiB in
  Go 1.19-1.20, as modelled here; from 1.21, 3 % of limit - non-heap, at least 1 MiB),
  but never below the live heap: it is a *soft* limit;
* the background mark uses 25 % of GOMAXPROCS (``gcBackgroundUtilization``);
  goroutines that allocate past the goal must help (mark assists);
* the GC CPU limiter (Go 1.19): a bucket of one CPU-second per P fills with GC CPU
  time and drains with mutator time; while it is full, assists are cut back,
  capping the GC at 50 % of the CPU. Without it a limit below the live heap
  turns into a death spiral: back-to-back cycles and a mutator that barely runs;
* the pacer starts a cycle early enough that marking ends as the heap reaches the
  goal: the trigger sits between 70 % and 95 % of the way from the marked heap to
  the goal; objects allocated during marking survive the cycle (floating garbage);
* ``runtime.GC()`` starts a full cycle whatever the pacer says (``gcTriggerCycle``,
  ``src/runtime/mgc.go``; if a cycle is already marking, it waits for it and then runs
  its own), and the next goal is computed from what that forced cycle marked: a
  program that forces GCs runs cycles the pacer would not, and its ``NumGC`` and
  ``GCCPUFraction`` count them.

Design note: a fixed-step simulation over numpy workload arrays; one step per
``dt_s``. Sweeping is instantaneous and each cycle has two stop-the-world pauses
(sweep termination, mark termination); their length is not modelled, their count is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError

__all__ = [
    "MIB",
    "HEAP_MINIMUM_BYTES",
    "BACKGROUND_MARK_SHARE",
    "GCConfig",
    "AllocWorkload",
    "GCRun",
    "parse_gogc",
    "heap_goal",
    "steady",
    "spike",
    "simulate_gc",
]

MIB = 2**20
HEAP_MINIMUM_BYTES = 4 * MIB  # mgcpacer.go: defaultHeapMinimum (scaled by GOGC/100)
LIMIT_HEADROOM_BYTES = 1 * MIB  # memoryLimitHeapGoalHeadroom, Go 1.19-1.20
BACKGROUND_MARK_SHARE = 0.25  # gcBackgroundUtilization
CPU_LIMIT_SHARE = 0.5  # the GC CPU limiter's cap
LIMITER_BUCKET_S = 1.0  # bucket capacity: CPU-seconds per P
TRIGGER_MIN, TRIGGER_MAX = 0.7, 0.95  # trigger bounds, as a share of the runway


def parse_gogc(value: object) -> float | None:
    """GOGC as the runtime reads it: a percentage >= 0, or ``"off"`` (returns None)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ValidationError(
                f"GOGC must be a number or 'off', got {value!r}", field="gogc"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"GOGC must be a number or 'off', got {value!r}", field="gogc")
    if value < 0:
        raise ValidationError(
            f"GOGC must be >= 0; use 'off' to disable the GC (got {value!r})", field="gogc"
        )
    return float(value)


def heap_goal(
    live_bytes: float,
    *,
    gogc: object = 100,
    roots_bytes: float = 0,
    memory_limit_bytes: float | None = None,
    non_heap_bytes: float = 0,
    headroom_bytes: float = LIMIT_HEADROOM_BYTES,
) -> float:
    """The heap size at which the next cycle should finish, in bytes."""
    percent = parse_gogc(gogc)
    if live_bytes < 0 or roots_bytes < 0 or non_heap_bytes < 0:
        raise ValidationError("byte counts must be >= 0", field="live_bytes")
    goal = math.inf
    if percent is not None:
        goal = live_bytes + (live_bytes + roots_bytes) * percent / 100
        goal = max(goal, HEAP_MINIMUM_BYTES * percent / 100)
    if memory_limit_bytes is not None:
        if memory_limit_bytes <= 0:
            raise ValidationError("GOMEMLIMIT must be > 0 bytes", field="memory_limit_bytes")
        limit_goal = memory_limit_bytes - non_heap_bytes - headroom_bytes
        goal = min(goal, max(limit_goal, live_bytes))
    return goal


@dataclass(frozen=True)
class GCConfig:
    """The knobs (GOGC, GOMEMLIMIT, GOMAXPROCS) and the machine's marking speed."""

    gogc: object = 100
    memory_limit_bytes: int | None = None
    gomaxprocs: int = 4
    roots_bytes: int = 0  # goroutine stacks + globals
    non_heap_bytes: int = 8 * MIB  # runtime metadata, stacks, fragmentation...
    scan_bytes_per_cpu_s: float = 1024 * MIB  # marking speed of one core
    scan_share: float = 1.0  # share of the live heap holding pointers
    mark_fixed_s: float = 4e-3  # minimum wall time of a mark phase (calibrated, Go 1.19)
    cycle_cpu_s: float = 0.5e-3  # CPU a cycle costs beyond scanning (calibrated, Go 1.19)
    cpu_limiter: bool = True
    forced_gc_every_s: float | None = None  # a runtime.GC() call this often (None: never)

    def __post_init__(self) -> None:
        parse_gogc(self.gogc)
        every = self.forced_gc_every_s
        if every is not None and (isinstance(every, bool) or not every > 0):
            raise ValidationError(
                f"forced_gc_every_s must be > 0 seconds or None, got {every!r}",
                field="forced_gc_every_s",
            )
        procs = self.gomaxprocs
        if isinstance(procs, bool) or not isinstance(procs, int) or procs < 1:
            raise ValidationError(
                f"GOMAXPROCS must be an int >= 1, got {procs!r}", field="gomaxprocs"
            )
        if self.memory_limit_bytes is not None and self.memory_limit_bytes <= 0:
            raise ValidationError("GOMEMLIMIT must be > 0 bytes", field="memory_limit_bytes")
        if not 0 <= self.scan_share <= 1 or self.scan_bytes_per_cpu_s <= 0:
            raise ValidationError("scan_share in [0, 1], scan speed > 0", field="scan_share")

    def goal(self, marked_bytes: float) -> float:
        return heap_goal(
            marked_bytes,
            gogc=self.gogc,
            roots_bytes=self.roots_bytes,
            memory_limit_bytes=self.memory_limit_bytes,
            non_heap_bytes=self.non_heap_bytes,
        )


@dataclass(frozen=True, eq=False)
class AllocWorkload:
    """Per step: the allocation rate at full speed and the live heap (bytes)."""

    name: str
    dt_s: float
    alloc_bytes_per_s: np.ndarray
    live_bytes: np.ndarray

    def __post_init__(self) -> None:
        if self.dt_s <= 0 or len(self.alloc_bytes_per_s) != len(self.live_bytes):
            raise ValidationError("dt_s > 0 and arrays of equal length", field="dt_s")
        if len(self.live_bytes) == 0 or np.any(self.live_bytes < 0):
            raise ValidationError("live heap must be >= 0 bytes", field="live_bytes")


def steady(
    live_mib: float, alloc_mib_per_s: float, duration_s: float = 2.0, dt_s: float = 1e-3
) -> AllocWorkload:
    """A constant live heap and a constant allocation rate (the GC guide's first example)."""
    steps = max(1, round(duration_s / dt_s))
    return AllocWorkload(
        "steady",
        dt_s,
        np.full(steps, alloc_mib_per_s * MIB),
        np.full(steps, live_mib * MIB),
    )


def spike(
    base_mib: float,
    peak_mib: float,
    alloc_mib_per_s: float,
    duration_s: float = 4.0,
    dt_s: float = 2e-3,
) -> AllocWorkload:
    """The live heap ramps from ``base`` to ``peak`` and back (a transient spike in load)."""
    steps = max(2, round(duration_s / dt_s))
    x = np.linspace(0.0, 1.0, steps)
    shape = np.clip(1 - np.abs(x - 0.5) * 4, 0, 1)  # a triangle over the middle half
    live = (base_mib + (peak_mib - base_mib) * shape) * MIB
    return AllocWorkload("spike", dt_s, np.full(steps, alloc_mib_per_s * MIB), live)


@dataclass(frozen=True)
class GCRun:
    """Time series (one row per step) and headline numbers of a simulated run."""

    config: GCConfig
    series: pd.DataFrame  # t_s, heap/goal/live bytes, gc_cpu_share, marking, limiter_on
    cycles: int
    pauses: int
    peak_heap_bytes: float
    gc_cpu_fraction: float
    allocated_bytes: float
    forced_cycles: int = 0  # cycles started by runtime.GC(), not by the pacer

    def summary(self) -> dict[str, float]:
        return {
            "gc_cycles": self.cycles,
            "stw_pauses": self.pauses,
            "peak_heap_mib": round(float(self.peak_heap_bytes) / MIB, 1),
            "gc_cpu_percent": round(100 * float(self.gc_cpu_fraction), 1),
            "allocated_mib": round(float(self.allocated_bytes) / MIB, 1),
        }


def simulate_gc(workload: AllocWorkload, config: GCConfig | None = None) -> GCRun:
    """Run the pacer over ``workload`` and report cycles, peak heap and GC CPU."""
    cfg = config or GCConfig()
    dt, procs = workload.dt_s, cfg.gomaxprocs
    cpu_per_step = procs * dt
    rates, lives = workload.alloc_bytes_per_s, workload.live_bytes
    steps = len(rates)
    out = np.zeros((steps, 6))
    marked = heap = float(lives[0])
    goal = cfg.goal(marked)
    trigger = marked + TRIGGER_MAX * (goal - marked)
    marking, scan_left, mark_t, floating, overhead_left = False, 0.0, 0.0, 0.0, 0.0
    bucket, cycles, gc_cpu_total, allocated, limited = 0.0, 0, 0.0, 0.0, False
    peak = heap  # the heap just before each sweep is the high point: the series misses it
    capacity = LIMITER_BUCKET_S * procs
    every = cfg.forced_gc_every_s
    force_steps = max(1, round(every / dt)) if every is not None else 0
    forced, forced_cycles = False, 0  # a runtime.GC() call waiting for its cycle
    for k in range(steps):
        gc_cpu, limited_now = 0.0, limited
        if force_steps and (k + 1) % force_steps == 0:
            forced = True
        if marking:
            budget = BACKGROUND_MARK_SHARE * cpu_per_step
            if heap >= goal:  # assists: allocating goroutines mark instead of allocating
                budget = CPU_LIMIT_SHARE * cpu_per_step if limited else cpu_per_step
            gc_cpu = min(budget, overhead_left + scan_left / cfg.scan_bytes_per_cpu_s)
            on_overhead = min(gc_cpu, overhead_left)
            overhead_left -= on_overhead
            scan_left = max(0.0, scan_left - (gc_cpu - on_overhead) * cfg.scan_bytes_per_cpu_s)
            mark_t += dt
        alloc = rates[k] * dt * (1 - gc_cpu / cpu_per_step)
        heap += alloc
        peak = max(peak, heap)
        allocated += alloc
        gc_cpu_total += gc_cpu
        bucket = min(capacity, max(0.0, bucket + 2 * gc_cpu - cpu_per_step))
        limited = cfg.cpu_limiter and bucket >= capacity * (1 - 1e-9)
        if marking:
            floating += alloc
            if scan_left <= 1.0 and overhead_left <= 1e-12 and mark_t >= cfg.mark_fixed_s:
                marking = False
                marked = heap = float(lives[k]) + floating  # allocated black survives
                goal = cfg.goal(marked)
                runway = max(goal - marked, 0.0)
                trigger = min(
                    max(goal - floating, marked + TRIGGER_MIN * runway),
                    marked + TRIGGER_MAX * runway,
                )
        if not marking and (heap >= trigger or forced):  # sweep termination: a cycle starts
            forced_cycles += forced and heap < trigger
            marking, mark_t, floating, forced = True, 0.0, 0.0, False
            scan_left = float(lives[k]) * cfg.scan_share + cfg.roots_bytes
            overhead_left = cfg.cycle_cpu_s
            cycles += 1
        out[k] = (heap, goal, lives[k], gc_cpu / cpu_per_step, marking, limited_now)
    cols = ["heap_b", "goal_b", "live_b", "gc_cpu_share", "marking", "limiter_on"]
    series = pd.DataFrame(out, columns=cols)
    series.insert(0, "t_s", np.arange(1, steps + 1) * dt)
    return GCRun(
        cfg,
        series,
        cycles,
        2 * cycles,
        peak,
        gc_cpu_total / (cpu_per_step * steps),
        allocated,
        forced_cycles,
    )
