"""Small Go programs as scheduler-model workloads: goroutine per task, worker pool, ping-pong.

Each builder mirrors one mode of ``data/go/task_patterns/main.go`` operation by
operation, so the model runs the program the real runtime ran:

* ``per_task``: ``wg.Add(n); for ... { go func() { work(); wg.Done() }() }; wg.Wait()``;
* ``worker_pool``: ``workers`` goroutines ``range`` over a channel with ``buffer``
  slots, the main goroutine sends ``n`` tasks, closes it and waits;
* ``ping_pong``: main sends on an unbuffered channel and receives the echo ``n`` times;

and one batch of ``data/go/go_costs`` (its ``go`` statements whose children block),
which calibration uses to find the cost of waking an idle P.

Design note: ``_Program`` collects goroutines as lists of phases (CPU, operation,
argument, jump target relative to the goroutine) and flattens them into a
``Workload``; goroutine 0 is ``main``, started from outside on P0, every other
goroutine is ``SPAWNED`` by a ``GO`` operation. The CPU in a phase is the program's
own work; what the runtime's operations cost is added by the model (``costs.py``).
"""

from __future__ import annotations

import numpy as np

from razorlab.errors import ValidationError
from razorlab.goruntime.workload import (
    CLOSE,
    GO,
    LOOP,
    NONE,
    RANGE,
    RECV,
    SEND,
    SPAWNED,
    WG_ADD,
    WG_DONE,
    WG_WAIT,
    Workload,
)

__all__ = ["per_task", "worker_pool", "ping_pong", "spawn_blocked", "TASK_WORK_S"]

TASK_WORK_S = 80e-9  # the task body of task_patterns (64 multiply-adds), when quiet
Phase = tuple[float, int, int, int, float]  # cpu, op, arg, jump (relative), block_s


def _op(kind: int, arg: int = 0, *, cpu: float = 0.0, jump: int = 0, value: float = 0) -> Phase:
    return (cpu, kind, arg, jump, value)


class _Program:
    def __init__(self) -> None:
        self.goroutines: list[list[Phase]] = []

    def add(self, phases: list[Phase]) -> int:
        self.goroutines.append([*phases, _op(NONE)])
        return len(self.goroutines) - 1

    def workload(self, name: str, channels: tuple[int, ...] = (), waitgroups: int = 0):
        sizes = [len(g) for g in self.goroutines]
        ptr = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        flat = np.array([ph for g in self.goroutines for ph in g], dtype=np.float64)
        base = np.repeat(ptr[:-1], sizes)
        kind = flat[:, 1].astype(np.int8)
        jumps = np.where(np.isin(kind, (RANGE, LOOP)), base + flat[:, 3].astype(np.int64), 0)
        n = len(self.goroutines)
        return Workload(
            name,
            np.zeros(n),
            np.r_[0, np.full(n - 1, SPAWNED)].astype(np.int64),
            ptr,
            flat[:, 0],
            kind,
            flat[:, 4],
            op_arg=flat[:, 2].astype(np.int64),
            op_jump=jumps,
            channels=channels,
            waitgroups=waitgroups,
        )


def _check(n: object, field: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError(f"{field} must be an int >= 1, got {n!r}", field=field)
    return n


def _work(work_s: float) -> float:
    if not work_s >= 0:
        raise ValidationError("work_s must be >= 0", field="work_s")
    return float(work_s)


def per_task(n: int, *, work_s: float = TASK_WORK_S) -> Workload:
    """One goroutine per task: main spawns ``n`` goroutines that work and call ``wg.Done``."""
    n, work_s = _check(n, "n"), _work(work_s)
    prog = _Program()
    spawns = [_op(GO, g) for g in range(1, n + 1)]
    prog.add([_op(WG_ADD, 0, value=n), *spawns, _op(WG_WAIT, 0)])
    for _ in range(n):
        prog.add([_op(WG_DONE, 0, cpu=work_s)])
    return prog.workload("per-task", waitgroups=1)


def worker_pool(
    n: int, *, workers: int = 4, buffer: int = 64, work_s: float = TASK_WORK_S
) -> Workload:
    """``workers`` goroutines ``range`` over a channel of ``buffer`` slots; main sends ``n``."""
    n, workers, work_s = _check(n, "n"), _check(workers, "workers"), _work(work_s)
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 0:
        raise ValidationError(f"buffer must be an int >= 0, got {buffer!r}", field="buffer")
    prog = _Program()
    spawns = [_op(GO, g) for g in range(1, workers + 1)]
    sends = [_op(SEND, 0)] * n
    prog.add([_op(WG_ADD, 0, value=workers), *spawns, *sends, _op(CLOSE, 0), _op(WG_WAIT, 0)])
    for _ in range(workers):  # for range tasks { work() }; wg.Done()
        prog.add([_op(RANGE, 0, jump=2), _op(LOOP, cpu=work_s, jump=0), _op(WG_DONE, 0)])
    return prog.workload("worker-pool", channels=(buffer,), waitgroups=1)


def ping_pong(n: int) -> Workload:
    """Main sends on ``ping`` and receives on ``pong``; an echo goroutine bounces it back."""
    n = _check(n, "n")
    prog = _Program()
    prog.add([_op(GO, 1), *[_op(SEND, 0), _op(RECV, 1)] * n, _op(CLOSE, 0)])
    prog.add([_op(RANGE, 0, jump=3), _op(SEND, 1), _op(LOOP, jump=0), _op(CLOSE, 1)])
    return prog.workload("ping-pong", channels=(0, 0))


def spawn_blocked(n: int) -> Workload:
    """Main starts ``n`` goroutines that block on a WaitGroup, then releases and awaits them."""
    n = _check(n, "n")
    prog = _Program()
    spawns = [_op(GO, g) for g in range(1, n + 1)]
    prog.add([_op(WG_ADD, 0, value=n), _op(WG_ADD, 1, value=1), *spawns, _op(WG_DONE, 1)])
    for _ in range(n):
        prog.add([_op(WG_WAIT, 1), _op(WG_DONE, 0)])
    prog.goroutines[0].insert(-1, _op(WG_WAIT, 0))
    return prog.workload("spawn-blocked", waitgroups=2)
