"""What the runtime's own operations cost: ``go``, goroutine exit, channels, WaitGroup.

The scheduler model (``channels.py``) charges these to the P that performs each
operation. The defaults are ``calibration.op_costs()`` on the committed Go 1.19.8
measurements (``data/go/go_costs``: single-operation loops, not the patterns the
model then predicts), rounded; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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

__all__ = ["OpCosts"]


@dataclass(frozen=True)
class OpCosts:
    """CPU seconds each operation costs the P that performs it."""

    go_s: float = 360e-9  # a go statement reusing a free G
    go_fresh_s: float = 3.9e-6  # ... allocating a new G and its 2 KiB stack (malg)
    exit_s: float = 330e-9  # goexit0 + gfput
    chan_s: float = 24.5e-9  # one channel operation on the fast path (lock, copy, unlock)
    ready_s: float = 143e-9  # waking a parked G (sudog dequeue, goready) and its gopark
    wake_s: float = 200e-9  # wakep starting an M for an idle P (go_costs at GOMAXPROCS 2)
    wg_s: float = 10.4e-9  # one WaitGroup Add/Done/Wait (an atomic add)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and 0 <= value < float("inf")):
                raise ValidationError(f"{f.name} must be a finite number >= 0", field=f.name)

    def by_kind(self) -> dict[int, float]:
        """Cost of each operation kind (exit and fresh Gs are handled separately)."""
        chan, wg = self.chan_s, self.wg_s
        return {GO: self.go_s, SEND: chan, RECV: chan, RANGE: chan, CLOSE: chan} | {
            WG_ADD: wg,
            WG_DONE: wg,
            WG_WAIT: wg,
        }
