"""Go's heap pages and the scavenger that gives free ones back to the OS.

Scenario: a service's live heap shrinks (a spike ends, a cache is dropped). The GC frees
the objects at once, but the pages stay mapped, counted in the process's RSS, until the
*scavenger* returns them with ``madvise``. How fast does the RSS fall, and what keeps
it up? This module follows ``src/runtime/mgcscavenge.go`` (read in Go 1.19.8's tree and
in 1.23.5's; where they differ it says so) in our own words; ``gc.simulate_gc`` drives it.

* Pages are *in use* (holding objects), *free* (swept, still backed by memory: retained)
  or *released* (returned to the OS). Allocation takes free pages before it maps more.
  ``mappedReady`` = in use + free + the runtime's non-heap memory.
* After each GC (``gcPaceScavenger``) the scavenger gets two goals. The heap goal's:
  retain the heap in use at the last mark termination scaled by how the heap goal moved,
  plus 10 % (``retainExtraPercent``). The memory limit's: 95 % of GOMEMLIMIT
  (``reduceExtraPercent``), in force while mappedReady is above it. Go 1.19 computes it
  as ``limit x (100 - 5)``, 95 times the limit, so in 1.19 the background scavenger never
  works for the memory limit (fixed in 1.20; 1.23 multiplies by 0.95).
* The scavenger is one goroutine (``bgscavenge``). Woken, it releases 64 KiB at a time
  until it has worked at least 1 ms (``minScavWorkTime``) or both goals are met, then
  sleeps ``worked / sleepRatio``; a PI controller (kp 0.3375, ti 3.2 ms, tt 1 s,
  ratio 0.001-1000, starting at 0.001) steers its CPU to 1 % of GOMAXPROCS
  (``scavengePercent``). With nothing released it parks. Sleeping counts as parked for
  ``scavenger.wake``, which two places call: the start of each GC (``finishsweep_m``), and
  sysmon, on its next round after the sweep is done (``scavenger.ready`` sets a flag that
  stays up until a wake finds the scavenger parked or asleep). So a program that collects
  often gets a 1 ms batch of releasing per GC cycle or two, whatever the 1 % pace says
  (a ``runtime/trace`` of ``data/go/scavenger`` on Go 1.23: a wake at every GC start, one
  from sysmon in about half the cycles, 1-2.5 ms of scavenger CPU per cycle).
* Under a memory limit the allocator scavenges too (``allocSpan``, unless the GC CPU
  limiter is on): whatever takes mappedReady over GOMEMLIMIT is released at once, from
  free pages, by the allocating goroutine (``Scavenger.eager``). Without it, free pages
  left after a sweep would count against the limit and ``memoryLimitHeapGoal``'s overage
  term would pull the goal below the live heap.

Design note: one call per simulation step; the scavenger works on an idle P (its CPU is
not taken from the mutators; with every P busy Go would share them). Simplified: pages
are bytes (no fragmentation, the heap in use is the model's heap), allocation reuses free
memory before released memory (Go's page allocator takes the lowest free address, paging
released memory back in while free pages wait elsewhere): the eager release under a limit
stands for that mix, and the heap-growth rule without a limit (which only matters for
a heap that grows while it holds free pages) is left out;
the 1.21+ index that skips recently dense chunks does not matter for the emptied chunks
modelled; the controller's 5 s cool-down after a failure is left out. The sweep is done
when marking ends (Go sweeps lazily, through the next cycle), and sysmon's round after
it falls a uniform 0-10 ms later, drawn from the run's seed, so the model runs once per
seed where Go is measured once per run (``calibration.scavenger_vs_model``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from razorlab.errors import ValidationError
from razorlab.goruntime.pacer import go_minor
from razorlab.goruntime.processor import SYSMON_MAX_DELAY_S
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "SCAVENGE_PERCENT",
    "RETAIN_EXTRA_PERCENT",
    "REDUCE_EXTRA_PERCENT",
    "MIN_WORK_S",
    "HeapPages",
    "Scavenger",
    "scavenge_goals",
]

SCAVENGE_PERCENT = 1  # scavengePercent: CPU share of GOMAXPROCS the pacing aims at
RETAIN_EXTRA_PERCENT = 10  # retainExtraPercent: kept over the heap goal's estimate
REDUCE_EXTRA_PERCENT = 5  # reduceExtraPercent: the limit's goal is 95 % of GOMEMLIMIT
MIN_WORK_S = 1e-3  # minScavWorkTime: a batch works at least this long
START_SLEEP_RATIO = 0.001  # startingScavSleepRatio: worked / slept at first
PHYS_PAGE_BYTES = 4096
# The sleep controller (piController in mgcpacer.go, constants from bgscavenge's init).
KP, TI_S, TT_S, RATIO_MIN, RATIO_MAX = 0.3375, 3.2e-3, 1.0, 0.001, 1000.0


def scavenge_goals(
    *,
    heap_goal: float,
    last_heap_goal: float,
    last_heap_in_use: float,
    retained: float,
    mapped: float,
    memory_limit_bytes: float | None,
    go_version: str = "1.19",
) -> tuple[float, float]:
    """(retained-heap goal, mapped-memory goal) after a GC; ``inf`` means none.

    ``gcPaceScavenger``: the first is met when ``retained`` (in use + free) is at most
    ``last_heap_in_use x heap_goal / last_heap_goal x 1.1``, rounded up to a page; the
    second when ``mapped`` is at most 95 % of the limit (95 x the limit in Go 1.19).
    """
    if min(heap_goal, last_heap_goal, last_heap_in_use, retained, mapped) < 0:
        raise ValidationError("byte counts must be >= 0", field="heap_goal")
    limit = math.inf if memory_limit_bytes is None else memory_limit_bytes
    factor = (
        100 - REDUCE_EXTRA_PERCENT if go_minor(go_version) < 20 else 1 - REDUCE_EXTRA_PERCENT / 100
    )
    limit_goal = limit * factor if mapped > limit * factor else math.inf
    if last_heap_goal == 0 or math.isinf(heap_goal):
        return math.inf, limit_goal
    keep = last_heap_in_use * heap_goal / last_heap_goal * (1 + RETAIN_EXTRA_PERCENT / 100)
    keep = math.ceil(keep / PHYS_PAGE_BYTES) * PHYS_PAGE_BYTES
    return (math.inf if retained - keep < PHYS_PAGE_BYTES else keep), limit_goal


@dataclass
class HeapPages:
    """Heap memory by page state, in bytes (``gcController.heapInUse/heapFree/heapReleased``)."""

    in_use: float
    free: float = 0.0
    released: float = 0.0

    @property
    def retained(self) -> float:
        """What Go counts as the heap's RSS: ``heapRetained`` = in use + free."""
        return self.in_use + self.free

    def allocate(self, n: float) -> None:
        """Objects need ``n`` more bytes of pages: free ones first, then released ones."""
        from_free = min(n, self.free)
        self.free -= from_free
        self.released = max(0.0, self.released - (n - from_free))
        self.in_use += n

    def sweep(self, n: float) -> None:
        """The sweeper found ``n`` bytes of dead objects: their pages become free."""
        n = min(n, self.in_use)
        self.in_use -= n
        self.free += n


@dataclass
class Scavenger:
    """The background scavenger goroutine: parked, working a batch, or sleeping."""

    bytes_per_cpu_s: float  # its release speed per CPU-second (calibration.SCAVENGE_SPEEDS)
    gomaxprocs: int
    seed: int = DEFAULT_SEED  # where sysmon's rounds fall (``ready``)
    state: str = "parked"
    batch_s: float = 0.0  # CPU worked in this batch
    batch_bytes: float = 0.0
    slept_from_s: float = 0.0
    wake_at_s: float = math.inf
    sleep_ratio: float = START_SLEEP_RATIO
    integral: float = 0.0
    retained_goal: float = math.inf
    mapped_goal: float = math.inf
    sysmon_wake_at_s: float = math.inf  # sysmon's next round after ``ready``
    released_total: float = 0.0
    eager_total: float = 0.0  # released by allocations under a memory limit
    cpu_s: float = 0.0
    _sysmon: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.bytes_per_cpu_s > 0 or self.gomaxprocs < 1:
            raise ValidationError(
                "scavenging speed must be > 0 and GOMAXPROCS >= 1", field="bytes_per_cpu_s"
            )
        self._sysmon = rng(self.seed, "scavenger-sysmon")

    def set_goals(self, retained_goal: float, mapped_goal: float) -> None:
        self.retained_goal, self.mapped_goal = retained_goal, mapped_goal

    def ready(self, now: float) -> None:
        """The sweep is done: sysmon wakes the scavenger on its next round. A busy
        program's sysmon sleeps 10 ms between rounds, out of step with the GC, so the
        round comes a uniform 0-10 ms later (seeded; a fixed grid of rounds would lock
        onto a GC period near 10 ms and wake it in every cycle or in none, and a fixed
        delay would put it always before or always after the next GC's own wake)."""
        delay = float(self._sysmon.uniform(0.0, SYSMON_MAX_DELAY_S))
        self.sysmon_wake_at_s = min(self.sysmon_wake_at_s, now + delay)

    def wake(self, now: float) -> None:
        """``scavenger.wake``: a parked or sleeping scavenger starts a batch."""
        if self.state == "sleeping":
            self._steer(slept=now - self.slept_from_s)
        if self.state != "working":
            self.state, self.batch_s, self.batch_bytes = "working", 0.0, 0.0
            self.sysmon_wake_at_s = math.inf

    def step(self, now: float, dt: float, pages: HeapPages, non_heap: float) -> float:
        """Advance ``dt`` seconds from ``now``; returns the bytes released."""
        if self.state == "sleeping" and now >= self.wake_at_s:
            self._steer(slept=self.wake_at_s - self.slept_from_s)
            self.state, self.batch_s, self.batch_bytes = "working", 0.0, 0.0
        if now >= self.sysmon_wake_at_s:  # a sysmon round with the flag up
            if self.state == "working":  # not parked: the flag waits for the next round
                self.sysmon_wake_at_s += SYSMON_MAX_DELAY_S
            else:
                self.wake(now)
        if self.state != "working":
            return 0.0
        excess = max(
            pages.retained - self.retained_goal,
            pages.retained + non_heap - self.mapped_goal,
        )
        work_s = min(dt, MIN_WORK_S - self.batch_s)
        n = max(0.0, min(pages.free, excess, work_s * self.bytes_per_cpu_s))
        pages.free -= n
        pages.released += n
        spent = n / self.bytes_per_cpu_s
        self.batch_s += spent
        self.batch_bytes += n
        self.cpu_s += spent
        self.released_total += n
        stopped = excess - n <= 0 or pages.free <= 0
        if stopped or self.batch_s >= MIN_WORK_S - 1e-12:
            if self.batch_bytes == 0:
                self.state = "parked"
            else:  # sleep(worked): at least 1 ms counts, over the controller's ratio
                self.state, self.slept_from_s = "sleeping", now + dt
                self.wake_at_s = now + dt + max(self.batch_s, MIN_WORK_S) / self.sleep_ratio
        return n

    def eager(self, pages: HeapPages, non_heap: float, limit: float) -> float:
        """An allocation under GOMEMLIMIT releases what takes mapped memory over it."""
        n = max(0.0, min(pages.free, pages.retained + non_heap - limit))
        pages.free -= n
        pages.released += n
        self.eager_total += n
        self.cpu_s += n / self.bytes_per_cpu_s
        return n

    def _steer(self, slept: float) -> None:
        """After a sleep: the PI controller moves the ratio toward 1 % of GOMAXPROCS."""
        worked = max(self.batch_s, MIN_WORK_S)
        period = slept + worked
        error = SCAVENGE_PERCENT / 100 - worked / (period * self.gomaxprocs)
        raw = KP * error + self.integral
        out = min(max(raw, RATIO_MIN), RATIO_MAX)
        self.integral += KP * period / TI_S * error + period / TT_S * (out - raw)
        self.sleep_ratio = out
