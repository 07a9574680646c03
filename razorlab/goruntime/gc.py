"""Go's GC pacer: when the collector starts, how big the heap gets, what it costs in CPU.

Scenario: a service allocates at some rate while keeping a live heap; the operator
has two knobs, ``GOGC`` and ``GOMEMLIMIT``. This model answers the questions of the
Go GC guide (go.dev/doc/gc-guide) for any workload: how many GC cycles, what peak
heap, what share of the CPU goes to the GC.

Facts used (``src/runtime/mgcpacer.go``, Go 1.19+; the controller itself, with the
routine each step restates, is ``razorlab.goruntime.pacer``):

* heap goal = live heap + (live heap + GC roots) x GOGC/100, where the roots are
  goroutine stacks and globals (included since Go 1.18);
* the goal is never below the heap minimum, 4 MiB x GOGC/100 (``defaultHeapMinimum``);
* ``GOMEMLIMIT`` caps the goal at limit - non-heap memory - headroom (1 MiB in
  Go 1.19-1.20; from 1.21, 3 % of limit - non-heap, at least 1 MiB; ``go_version``
  picks), but never below the live heap: it is a *soft* limit; mapped memory over the
  limit (``memoryLimitHeapGoal``'s overage) counts as more non-heap memory;
* marking runs on background workers worth 25 % of GOMAXPROCS (dedicated and
  fractional, ``startCycle``) plus idle workers on Ps that have no goroutine to run; on
  a P running a CPU-bound mutator the fractional worker gets the P only when sysmon
  preempts the mutator, in bursts (``pacer.FractionalSlices``);
* mark assists are proportional from the trigger on: each allocated byte owes
  (remaining scan work / heap left before the goal) bytes of scanning, paid from the
  background workers' credit first (``revise``, ``gcAssistAlloc`` in ``mgcmark.go``);
* the trigger sits ``runway`` bytes before the goal, runway = smoothed cons/mark x 3 x
  last cycle's scan work, clamped to 45/64..61/64 of the way from the marked heap to the
  goal (upper bound ``goal - 4 MiB`` for large heaps); objects allocated during marking
  are allocated black and survive the cycle (floating garbage), so the next goal grows;
* the GC CPU limiter (Go 1.19+, ``gcCPULimiterState``, ``mgclimit.go``): a bucket of
  one CPU-second per P fills with GC time and drains with mutator time; while it is
  full, assists are switched off, capping the GC near 50 % of the CPU. Without it a
  limit below the live heap turns into a death spiral: back-to-back cycles and a
  mutator that barely runs. Go's accounting (``updateLocked``), which the model
  follows: GC time is the assists plus, while a cycle is marking, a flat 25 % of
  GOMAXPROCS for the background workers (whatever they actually ran); idle time (Ps
  with nothing to run and idle mark workers, Go issue 52890) is taken out of the
  window. So with one mutator on two Ps (the other P marking when idle) a back-to-back
  collector fills the bucket once the assists take more than about an eighth of a P;
* ``runtime.GC()`` starts a full cycle whatever the pacer says (``gcTriggerCycle``,
  ``src/runtime/mgc.go``; if a cycle is already marking, it waits for it and then runs
  its own), and the next goal is computed from what that forced cycle marked: a
  program that forces GCs runs cycles the pacer would not, and its ``NumGC`` and
  ``GCCPUFraction`` count them.

``gc_cpu_fraction`` follows ``GCCPUFraction``: assists, dedicated and fractional workers
and the fixed per-cycle cost, but not idle workers (the runtime calls idle marking
"free"); ``idle_cpu_fraction`` reports those separately.

Design note: a fixed-step simulation over numpy workload arrays; one step per
``dt_s``. The machine enters as two speeds, bytes a mutator allocates per CPU-second
(the workload's rate at full speed) and bytes marked per CPU-second; everything the
pacer decides comes from the runtime's constants. Sweeping is proportional to
allocation (``gcPaceSweeper``: the allocator sweeps enough pages per byte to finish by
the next trigger), so its cost is part of the mutators' measured speed, except when the
heap at mark termination is already past the next trigger (a limit below the live
heap): then the next ``gcStart`` makes the allocating goroutine sweep every span first
(its ``sweepone`` loop), with the background sweeper on idle Ps, and nothing is
allocated meanwhile; that sweep is mutator time, as in Go's ``GCCPUFraction`` and its
limiter. Each cycle has two stop-the-world pauses whose count, not length, is
modelled, and the non-heap memory is a constant. Heap pages are in use, free or
released (``scavenger.HeapPages``): a sweep frees pages, the background scavenger
(``scavenger.Scavenger``, woken at each cycle's start and after its sweep) releases them
towards its goals, and under a memory limit the allocator releases what takes mapped
memory over it; that mapped memory feeds ``memoryLimitHeapGoal``'s overage term, read
at every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.goruntime.pacer import (
    HEAP_MINIMUM_BYTES,
    ConsMark,
    FractionalSlices,
    assist_work_per_byte,
    cons_mark_sample,
    go_minor,
    limit_headroom,
    mark_workers,
    runway_bytes,
    trigger_point,
)
from razorlab.goruntime.scavenger import HeapPages, Scavenger, scavenge_goals
from razorlab.rand import DEFAULT_SEED, check_seed

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
    "shrink",
    "simulate_gc",
]

MIB = 2**20
BACKGROUND_MARK_SHARE = 0.25  # gcBackgroundUtilization (pacer.BACKGROUND_UTILIZATION)
LIMITER_BUCKET_S = 1.0  # the GC CPU limiter's bucket: CPU-seconds per P
SCAVENGE_BYTES_PER_CPU_S = 9.4e9  # see GCConfig.scavenge_bytes_per_cpu_s
SWEEP_BYTES_PER_CPU_S = 1.46e10  # see GCConfig.sweep_bytes_per_cpu_s


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
    headroom_bytes: float | None = None,
    go_version: str = "1.19",
) -> float:
    """The heap size at which the next cycle should finish, in bytes.

    ``headroom_bytes`` below the memory limit's goal defaults to ``go_version``'s rule.
    """
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
        budget = memory_limit_bytes - non_heap_bytes
        if headroom_bytes is None:
            headroom_bytes = limit_headroom(budget, go_version)
        limit_goal = budget - headroom_bytes
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
    # Allocating goroutines. None: enough on every P, and they reach the scheduler often
    # (I/O, channels), so a fractional worker gets its share of each P at once. An int:
    # that many CPU-bound goroutines that never block, so the fractional worker on their
    # P waits for sysmon to preempt them (``pacer.FractionalSlices``).
    mutators: int | None = None
    go_version: str = "1.19"  # the memory-limit headroom and cons/mark smoothing
    # A mutator's speed while marking is on, as a share of its full speed on the same P
    # time: write barriers, allocate-black and cores shared with the mark workers. 1.0
    # ignores them; ``calibration.pacer_config`` measures it from gctrace.
    marking_mutator_speed: float = 1.0
    # The share of an idle P's time its idle worker marks (1.0: all of it). Go's marks
    # less: it stops when any goroutine is runnable and sleeps when no gray work is on the
    # global list; ``calibration.pacer_config`` measures it from gctrace (0.95-1.0).
    idle_worker_share: float = 1.0
    # How fast the background scavenger returns free pages to the OS (madvise in 64 KiB
    # quanta), bytes per CPU-second of its own (``scavenger.Scavenger``). Default: Go
    # 1.19.8's, alone in an idle process on the 2-vCPU machine of ``data/go``
    # (``calibration.SCAVENGE_SPEEDS``; Go 1.23.5: 8.3e9).
    scavenge_bytes_per_cpu_s: float = SCAVENGE_BYTES_PER_CPU_S
    # How fast a sweeper frees the heap's spans, bytes of heap in use per CPU-second.
    # Default: Go 1.19.8's, a timed ``runtime.GC()`` of ``gc_pointer_heap``'s 72 MiB of
    # 64-byte nodes on the 2-vCPU machine of ``data/go`` (``calibration.pacer_config``).
    sweep_bytes_per_cpu_s: float = SWEEP_BYTES_PER_CPU_S
    seed: int = DEFAULT_SEED  # the only random draw: where sysmon's rounds fall (scavenger)

    def __post_init__(self) -> None:
        parse_gogc(self.gogc)
        go_minor(self.go_version)
        busy = self.mutators
        if busy is not None and (isinstance(busy, bool) or not isinstance(busy, int) or busy < 1):
            raise ValidationError(
                f"mutators must be an int >= 1 or None, got {busy!r}", field="mutators"
            )
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
        if not 0 < self.marking_mutator_speed <= 1:
            raise ValidationError(
                "marking_mutator_speed must be in (0, 1]", field="marking_mutator_speed"
            )
        if not 0 < self.idle_worker_share <= 1:
            raise ValidationError("idle_worker_share must be in (0, 1]", field="idle_worker_share")
        if not 0 <= self.scan_share <= 1 or self.scan_bytes_per_cpu_s <= 0:
            raise ValidationError("scan_share in [0, 1], scan speed > 0", field="scan_share")
        check_seed(self.seed)
        if not self.scavenge_bytes_per_cpu_s > 0:
            raise ValidationError(
                "the scavenging speed must be > 0", field="scavenge_bytes_per_cpu_s"
            )
        if not self.sweep_bytes_per_cpu_s > 0:
            raise ValidationError("the sweeping speed must be > 0", field="sweep_bytes_per_cpu_s")

    def goal(self, marked_bytes: float, overage_bytes: float = 0.0) -> float:
        """The heap goal; ``overage_bytes``: mapped memory over GOMEMLIMIT, which
        ``memoryLimitHeapGoal`` takes off the limit's goal like non-heap memory."""
        return heap_goal(
            marked_bytes,
            gogc=self.gogc,
            roots_bytes=self.roots_bytes,
            memory_limit_bytes=self.memory_limit_bytes,
            non_heap_bytes=self.non_heap_bytes + overage_bytes,
            go_version=self.go_version,
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


def shrink(
    before_mib: float,
    live_mib: float,
    alloc_mib_per_s: float,
    duration_s: float = 2.0,
    dt_s: float = 1e-3,
) -> AllocWorkload:
    """The live heap drops from ``before`` to ``live`` at once, just after a GC marked
    ``before`` (a cache dropped): the heap goal stays high until the next cycle."""
    steps = max(2, round(duration_s / dt_s))
    live = np.full(steps, live_mib * MIB)
    live[0] = before_mib * MIB
    return AllocWorkload("shrink", dt_s, np.full(steps, alloc_mib_per_s * MIB), live)


@dataclass(frozen=True)
class GCRun:
    """Time series (one row per step) and headline numbers of a simulated run."""

    config: GCConfig
    series: pd.DataFrame  # t_s, heap/goal/live/trigger bytes, marking, limiter_on, CPU shares
    cycles: int
    pauses: int
    peak_heap_bytes: float
    gc_cpu_fraction: float
    allocated_bytes: float
    forced_cycles: int = 0  # cycles started by runtime.GC(), not by the pacer
    idle_cpu_fraction: float = 0.0  # idle mark workers (not in gc_cpu_fraction)
    elapsed_s: float = 0.0
    mean_mark_s: float = 0.0  # wall time of a mark phase, averaged over finished cycles
    trigger_goal_ratio: float = math.nan  # heap at trigger / goal, median over cycles
    scavenger_cpu_fraction: float = 0.0  # the background scavenger's share of the CPU
    sweep_cpu_fraction: float = 0.0  # gcStart's sweeping (not in gc_cpu_fraction)

    def summary(self) -> dict[str, float]:
        return {
            "gc_cycles": self.cycles,
            "stw_pauses": self.pauses,
            "peak_heap_mib": round(float(self.peak_heap_bytes) / MIB, 1),
            "gc_cpu_percent": round(100 * float(self.gc_cpu_fraction), 1),
            "allocated_mib": round(float(self.allocated_bytes) / MIB, 1),
        }


@dataclass
class _Cycle:
    """The cycle being marked: work left, time spent, the assist ratio's inputs."""

    triggered: float  # heap when the cycle started
    work: float  # scan work this cycle needs (live heap x scan share + roots)
    expected: float  # the pacer's estimate: last cycle's scan work
    max_work: float  # every scannable byte of the heap at the trigger
    overhead_left: float  # CPU-seconds of fixed per-cycle cost
    scan_left: float = 0.0
    credit: float = 0.0  # background scan work not yet claimed by assists
    time_s: float = 0.0
    assist_s: float = 0.0
    idle_s: float = 0.0
    floating: float = 0.0  # allocated black during marking
    slices: FractionalSlices | None = None  # a mutator's P and its fractional worker

    def __post_init__(self) -> None:
        self.scan_left = self.work

    def done(self, min_s: float) -> bool:
        return self.scan_left <= 1.0 and self.overhead_left <= 1e-12 and self.time_s >= min_s


def _mark_step(
    cyc: _Cycle,
    cfg: GCConfig,
    *,
    now: float,
    dt: float,
    heap: float,
    goal: float,
    rate: float,
    assists_on: bool,
) -> tuple[float, float, float, float, float]:
    """One step of marking: (bytes allocated, GC, idle-worker and assist CPU-seconds,
    P-seconds not idle: the background workers' and the mutators', assists included).

    ``rate`` is bytes per mutator CPU-second. Workers take their Ps until the work runs
    out: dedicated ones and those on idle Ps as shares of the step, the fractional worker
    on a mutator's P in bursts (``FractionalSlices``). The mutators get the rest of their
    Ps and split it between allocating and assisting so the debt (assist ratio x bytes)
    is paid, background credit first (``gcAssistAlloc``).
    """
    procs = cfg.gomaxprocs
    busy = min(procs if cfg.mutators is None else cfg.mutators, procs)
    workers = mark_workers(procs)
    free = procs - workers.dedicated
    on_mutators = min(busy, free)  # Ps shared by a mutator and the fractional worker
    idle_ps = free - on_mutators
    if cyc.slices is None:
        cyc.slices = FractionalSlices(workers.fractional, now)
    if cfg.mutators is None:  # goroutines that yield often: the worker gets its share
        on_mutators_s = workers.fractional * dt
    else:  # CPU-bound goroutines: the worker waits for sysmon's preemption
        on_mutators_s = cyc.slices.take(now, dt)
    bg_share = workers.dedicated + workers.fractional * idle_ps
    idle_share = (1 - workers.fractional) * idle_ps * cfg.idle_worker_share
    speed = cfg.scan_bytes_per_cpu_s
    need = cyc.overhead_left + cyc.scan_left / speed
    bg = min(bg_share * dt + on_mutators * on_mutators_s, need)
    idle = min(idle_share * dt, need - bg)
    mutator = min(busy * dt, procs * dt - bg - idle)
    on_overhead = min(bg + idle, cyc.overhead_left)
    cyc.overhead_left -= on_overhead
    scanned = min((bg + idle - on_overhead) * speed, cyc.scan_left)
    cyc.scan_left -= scanned
    alloc_s = mutator
    if assists_on and cyc.scan_left > 0:
        ratio = assist_work_per_byte(
            heap_live=heap,
            goal=goal,
            triggered=cyc.triggered,
            work_done=cyc.work - cyc.scan_left,
            work_expected=cyc.expected,
            max_work=cyc.max_work,
            gogc=parse_gogc(cfg.gogc),
        )
        credit = cyc.credit + scanned
        if math.isinf(ratio):  # at the stretched goal: the mutators only assist
            alloc_s = 0.0
        else:  # allocate x, assist (mutator - x): credit + assisted work = ratio x bytes
            alloc_s = min(mutator, (credit + mutator * speed) / (ratio * rate + speed))
        assist = min(mutator - alloc_s, cyc.scan_left / speed)
        alloc_s = mutator - assist
        cyc.scan_left -= assist * speed
        paid = credit + assist * speed - ratio * alloc_s * rate if math.isfinite(ratio) else 0.0
        cyc.credit = max(0.0, paid)
    assist = mutator - alloc_s
    cyc.time_s += dt
    cyc.assist_s += assist
    cyc.idle_s += idle
    return alloc_s * rate, bg + assist, idle, assist, bg + mutator


def simulate_gc(
    workload: AllocWorkload,
    config: GCConfig | None = None,
    *,
    until_allocated_bytes: float | None = None,
) -> GCRun:
    """Run the pacer over ``workload`` and report cycles, peak heap and GC CPU.

    The workload's rate is what the mutators allocate at full speed; with
    ``until_allocated_bytes`` the run stops once that much was allocated (a program that
    allocates a fixed amount), else it lasts the workload's duration.
    """
    cfg = config or GCConfig()
    dt, procs = workload.dt_s, cfg.gomaxprocs
    busy = min(procs if cfg.mutators is None else cfg.mutators, procs)
    cpu_per_step = procs * dt
    rates, lives = workload.alloc_bytes_per_s, workload.live_bytes
    steps = len(rates)
    out = np.zeros((steps, 13))
    marked = heap = float(lives[0])
    pages, limit = HeapPages(in_use=heap), cfg.memory_limit_bytes
    scav = Scavenger(cfg.scavenge_bytes_per_cpu_s, procs, seed=cfg.seed)
    overage = 0.0  # mapped memory over GOMEMLIMIT (memoryLimitHeapGoal's term)
    last_work = marked * cfg.scan_share + cfg.roots_bytes
    cons = ConsMark(cfg.go_version)
    goal = cfg.goal(marked)
    trigger = trigger_point(marked, goal, 0.0)
    cyc: _Cycle | None = None
    sweep_left = sweep_total = 0.0  # CPU-seconds of sweeping before the next cycle
    bucket, cycles, gc_cpu_total, idle_total, allocated, limited = 0.0, 0, 0.0, 0.0, 0.0, False
    peak = heap  # the heap just before each sweep is the high point: the series misses it
    capacity = LIMITER_BUCKET_S * procs
    every = cfg.forced_gc_every_s
    force_steps = max(1, round(every / dt)) if every is not None else 0
    forced, forced_cycles = False, 0  # a runtime.GC() call waiting for its cycle
    mark_times: list[float] = []
    ratios: list[float] = []
    k = -1
    for k in range(steps):
        gc_cpu, idle, assist, sweeping, limited_now = 0.0, 0.0, 0.0, 0.0, limited
        if force_steps and (k + 1) % force_steps == 0:
            forced = True
        rate = rates[k] / busy  # bytes per mutator CPU-second
        if cyc is not None:
            alloc, gc_cpu, idle, assist, running = _mark_step(
                cyc,
                cfg,
                now=k * dt,
                dt=dt,
                heap=heap,
                goal=goal,
                rate=rate * cfg.marking_mutator_speed,
                assists_on=not (cfg.cpu_limiter and limited),
            )
        elif sweep_left > 0:  # gcStart's sweep: every P sweeps, nothing is allocated
            sweeping = min(sweep_left, cpu_per_step)
            sweep_left -= sweeping
            free = 1 - sweeping / cpu_per_step  # the rest of the step: the mutators run
            alloc, running = rates[k] * dt * free, sweeping + busy * dt * free
            sweep_total += sweeping
        else:
            alloc, running = rates[k] * dt, busy * dt
        heap += alloc
        pages.allocate(alloc)
        scav.step(k * dt, dt, pages, cfg.non_heap_bytes)
        if limit is not None:  # Go reads mapped memory whenever it computes the goal
            if not limited:
                scav.eager(pages, cfg.non_heap_bytes, limit)
            over = max(0.0, pages.retained + cfg.non_heap_bytes - limit)
            if over or overage:
                overage, goal = over, cfg.goal(marked, over)
                if cyc is None:
                    trigger = trigger_point(marked, goal, runway_bytes(cons.value, last_work))
        peak = max(peak, heap)
        allocated += alloc
        gc_cpu_total += gc_cpu
        idle_total += idle
        # Go's limiter window: assists + 25 % of the Ps while marking, idle time left out
        limiter_gc = assist + (BACKGROUND_MARK_SHARE * cpu_per_step if cyc is not None else 0.0)
        bucket = min(capacity, max(0.0, bucket + 2 * limiter_gc - running))
        limited = cfg.cpu_limiter and bucket >= capacity * (1 - 1e-9)
        if cyc is not None:
            cyc.floating += alloc
            if cyc.done(cfg.mark_fixed_s):
                sample = cons_mark_sample(
                    allocated=cyc.floating,
                    scan_work=cyc.work,
                    assist_share=cyc.assist_s / (cyc.time_s * procs),
                    idle_share=cyc.idle_s / (cyc.time_s * procs),
                )
                if sample is not None:
                    cons.update(sample)
                mark_times.append(cyc.time_s)
                in_use, last_goal = heap, goal
                marked = heap = float(lives[k]) + cyc.floating  # allocated black survives
                last_work, cyc = cyc.work, None
                goal = cfg.goal(marked, overage)
                trigger = trigger_point(marked, goal, runway_bytes(cons.value, last_work))
                if heap >= trigger:  # no distance to sweep in: all of it at the next start
                    sweep_left = in_use / cfg.sweep_bytes_per_cpu_s
                goals = scavenge_goals(
                    heap_goal=goal,
                    last_heap_goal=last_goal,
                    last_heap_in_use=in_use,
                    retained=pages.retained,
                    mapped=pages.retained + cfg.non_heap_bytes,
                    memory_limit_bytes=limit,
                    go_version=cfg.go_version,
                )
                pages.sweep(in_use - heap)
                scav.set_goals(*goals)
                scav.ready(k * dt)  # the sweep is done: sysmon will wake it
        if cyc is None and not sweep_left and (heap >= trigger or forced):  # a cycle starts
            forced_cycles += forced and heap < trigger
            forced = False
            ratios.append(heap / goal)
            cyc = _Cycle(
                triggered=heap,
                work=float(lives[k]) * cfg.scan_share + cfg.roots_bytes,
                expected=last_work,
                max_work=heap * cfg.scan_share + cfg.roots_bytes,
                overhead_left=cfg.cycle_cpu_s,
            )
            cycles += 1
            scav.wake(k * dt)  # finishsweep_m
        out[k] = (
            heap,
            goal,
            lives[k],
            gc_cpu / cpu_per_step,
            cyc is not None,
            limited_now,
            trigger,
            idle / cpu_per_step,
            assist / cpu_per_step,
            pages.retained,
            pages.released,
            cycles,
            sweeping / cpu_per_step,
        )
        if until_allocated_bytes is not None and allocated >= until_allocated_bytes:
            break
    steps = k + 1
    cols = ["heap_b", "goal_b", "live_b", "gc_cpu_share", "marking", "limiter_on"]
    cols = [*cols, "trigger_b", "idle_cpu_share", "assist_cpu_share", "retained_b", "released_b"]
    cols = [*cols, "numgc", "sweep_cpu_share"]
    series = pd.DataFrame(out[:steps], columns=cols)
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
        idle_cpu_fraction=idle_total / (cpu_per_step * steps),
        elapsed_s=steps * dt,
        mean_mark_s=float(np.mean(mark_times)) if mark_times else 0.0,
        trigger_goal_ratio=float(np.median(ratios)) if ratios else math.nan,
        scavenger_cpu_fraction=scav.cpu_s / (cpu_per_step * steps),
        sweep_cpu_fraction=sweep_total / (cpu_per_step * steps),
    )
