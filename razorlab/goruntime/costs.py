"""What the runtime's own operations cost: ``go``, goroutine exit, channels, WaitGroup.

The scheduler model (``channels.py``) charges these to the P that performs each
operation. The defaults are ``calibration.op_costs()`` on the committed Go 1.19.8
measurements (``data/go/go_costs``: single-operation loops, not the patterns the
model then predicts), rounded; a test keeps the two in step.

``ColdStart`` is what the CPU's caches add: a G that starts (or resumes) after many other
Gs were spawned or run since it was last touched finds its ``g`` and the top of its stack
out of the caches, and pays for the misses. ``go_costs`` measures it as a curve (rounds
of ``size`` go statements whose children only call ``Done``: the run and exit of a child
cost 165 ns after 200 others and 371 ns after 10,000 on the project's VM, whose L3 cache
is 8 MiB), and ``exit_s`` is then the warm cost. Simplification: the ``go`` statement
itself is charged its cold cost (``go_s``, measured a 10,000-G batch back) in every case:
at GOMAXPROCS 1 a spawner reuses Gs freed a backlog of tens of thousands back, and at
GOMAXPROCS 2 they come from the other core's cache (Go's spawning thread spends 318-340 ns
per ``go`` there, measured by ``task_patterns``), so no program modelled here reuses warm Gs.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, fields, replace

from razorlab.errors import ValidationError
from razorlab.goruntime.workload import (
    CLOSE,
    GO,
    RANGE,
    RECV,
    SEND,
    WG_ADD,
    WG_DONE,
    WG_WAIT,
)

__all__ = ["ColdStart", "OpCosts"]


@dataclass(frozen=True)
class ColdStart:
    """Extra CPU for a G that starts after ``distances[i]`` other Gs were touched since it
    last was: ``extra_s[i]``; log-linear in between, none below the first distance, flat
    past the last. Empty tuples: caches are not modelled."""

    distances: tuple[float, ...] = (200, 500, 1_000, 2_000, 5_000, 10_000)
    extra_s: tuple[float, ...] = (0.0, 25.4e-9, 50.4e-9, 77.1e-9, 156.8e-9, 206.1e-9)

    def __post_init__(self) -> None:
        d, e = tuple(self.distances), tuple(self.extra_s)
        if len(d) != len(e):
            raise ValidationError("distances and extra_s must have the same length")
        if not all(0 < a < float("inf") for a in d) or d != tuple(sorted(set(d))):
            raise ValidationError("distances must be finite, positive and increasing")
        if not all(0 <= x < float("inf") for x in e):
            raise ValidationError("extra_s must be finite numbers >= 0", field="extra_s")

    def extra(self, distance: float) -> float:
        """The extra CPU seconds after ``distance`` Gs were touched."""
        d = self.distances
        if not d or distance <= d[0]:
            return 0.0
        i = bisect.bisect_left(d, distance)
        if i == len(d):
            return self.extra_s[-1]
        w = math.log(distance / d[i - 1]) / math.log(d[i] / d[i - 1])
        return self.extra_s[i - 1] + w * (self.extra_s[i] - self.extra_s[i - 1])


@dataclass(frozen=True)
class OpCosts:
    """CPU seconds each operation costs the P that performs it."""

    go_s: float = 298e-9  # a go statement reusing a free G
    go_fresh_s: float = 3.49e-6  # ... allocating a new G and its 2 KiB stack (malg)
    exit_s: float = 71.4e-9  # goexit0 + gfput, the G warm in the caches
    chan_s: float = 22.4e-9  # one channel operation on the fast path (lock, copy, unlock)
    ready_s: float = 143.7e-9  # waking a parked G (sudog dequeue, goready) and its gopark
    steal_s: float = 37.9e-9  # each G a thief takes from a P, to the G running there
    wg_s: float = 11e-9  # one WaitGroup Add/Done/Wait (an atomic add)
    cold_start: ColdStart = ColdStart()  # a G starting with its memory out of the caches

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "cold_start":
                if not isinstance(value, ColdStart):
                    raise ValidationError("cold_start must be a ColdStart", field=f.name)
                continue
            if not (isinstance(value, int | float) and 0 <= value < float("inf")):
                raise ValidationError(f"{f.name} must be a finite number >= 0", field=f.name)

    def all_cold(self) -> OpCosts:
        """These costs with every started G charged as cold as the curve goes (its largest
        extra folded into ``exit_s``): the model before ``ColdStart``, for comparison."""
        extra = self.cold_start.extra_s[-1] if self.cold_start.extra_s else 0.0
        return replace(self, exit_s=self.exit_s + extra, cold_start=ColdStart((), ()))

    def by_kind(self) -> dict[int, float]:
        """Cost of each operation kind (exit and fresh Gs are handled separately)."""
        chan, wg = self.chan_s, self.wg_s
        return {GO: self.go_s, SEND: chan, RECV: chan, RANGE: chan, CLOSE: chan} | {
            WG_ADD: wg,
            WG_DONE: wg,
            WG_WAIT: wg,
        }
