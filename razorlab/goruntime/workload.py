"""Goroutine workloads for the scheduler model, generated with numpy so a million is cheap.

A goroutine is a list of *phases*. Each phase burns some CPU, then either ends the
goroutine or blocks it in one of three ways the Go runtime treats differently:

* ``NET``: waits on the network poller (a socket read): the goroutine parks and
  comes back when some P polls the netpoller (``findRunnable`` or sysmon);
* ``SYSCALL``: a blocking system call: the goroutine keeps its M, and sysmon may
  hand the P to another M while it waits;
* ``SLEEP``: a timer (``time.Sleep``): the timer lives on the P that ran the
  goroutine and fires when that P schedules (or an idle P wakes for it).

A phase may also end in a synchronisation operation (``op_arg`` names its object):
``GO`` starts goroutine ``op_arg`` (spawned with ``SPAWNED``, not from outside),
``SEND``/``RECV``/``RANGE``/``CLOSE`` use channel ``op_arg`` (``RANGE`` is the
receive of ``for v := range ch``: when the channel is closed and drained the
goroutine jumps to phase ``op_jump``), ``WG_ADD``/``WG_DONE``/``WG_WAIT`` use
WaitGroup ``op_arg`` (``WG_ADD`` adds ``block_s``), ``GOSCHED`` yields, and
``LOOP`` jumps to phase ``op_jump``. Their semantics live in ``channels.py``; programs
built from them in ``programs.py``.

Design note: phases are stored flat (``phase_ptr`` like a CSR matrix) so the
generators are vectorised and the simulator reads plain arrays; a workload is
immutable and fully determined by its seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from razorlab.errors import ValidationError
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "Workload",
    "NONE",
    "NET",
    "SYSCALL",
    "SLEEP",
    "cpu_bound",
    "io_bound",
    "mixed",
    "spawn_burst",
    "sleep_probe",
    "GO",
    "SEND",
    "RECV",
    "RANGE",
    "CLOSE",
    "WG_ADD",
    "WG_DONE",
    "WG_WAIT",
    "GOSCHED",
    "LOOP",
    "ANY_P",
    "SPAWNED",
]

NONE, NET, SYSCALL, SLEEP = 0, 1, 2, 3  # how a phase ends
GO, SEND, RECV, RANGE, CLOSE, WG_ADD, WG_DONE, WG_WAIT, GOSCHED, LOOP = range(4, 14)
ANY_P = -1  # spawn_p value: spread spawns round-robin over the Ps
SPAWNED = -2  # spawn_p value: started by another goroutine's GO operation
_CHANNEL_OPS = (SEND, RECV, RANGE, CLOSE)
_WAITGROUP_OPS = (WG_ADD, WG_DONE, WG_WAIT)


@dataclass(frozen=True, eq=False)
class Workload:
    """Goroutines to run: when each is spawned, on which P, and its phases."""

    name: str
    spawn_s: np.ndarray  # float64 [n]: spawn time, seconds from the start
    spawn_p: np.ndarray  # int64 [n]: P whose runnext receives it, or ANY_P
    phase_ptr: np.ndarray  # int64 [n + 1]: goroutine i owns phases ptr[i]:ptr[i+1]
    cpu_s: np.ndarray  # float64 [phases]: CPU seconds the phase burns
    block_kind: np.ndarray  # int8 [phases]: NONE, NET, SYSCALL or SLEEP after the CPU
    block_s: np.ndarray  # float64 [phases]: how long the block lasts (WG_ADD: the delta)
    op_arg: np.ndarray | None = None  # int64 [phases]: the G, channel or WaitGroup used
    op_jump: np.ndarray | None = None  # int64 [phases]: RANGE's exit, LOOP's target
    channels: tuple[int, ...] = ()  # capacity of each channel (0: unbuffered)
    waitgroups: int = 0  # how many WaitGroups (each starts at 0)

    def __post_init__(self) -> None:
        n = len(self.spawn_s)
        if n == 0:
            raise ValidationError("a workload needs at least one goroutine", field="n")
        if len(self.phase_ptr) != n + 1 or np.any(np.diff(self.phase_ptr) < 1):
            raise ValidationError("every goroutine needs at least one phase", field="phase_ptr")
        last = self.block_kind[self.phase_ptr[1:] - 1]
        if np.any(last != NONE):
            raise ValidationError("a goroutine's last phase must end it", field="block_kind")
        if np.any(self.cpu_s < 0) or np.any(self.block_s < 0) or np.any(self.spawn_s < 0):
            raise ValidationError("times must be non-negative", field="cpu_s")
        if np.any(self.block_kind > SLEEP):
            self._check_operations()

    def _check_operations(self) -> None:
        kind, phases = self.block_kind, len(self.block_kind)
        if self.op_arg is None or self.op_jump is None:
            raise ValidationError("operations need op_arg and op_jump", field="op_arg")
        arg, jump = self.op_arg, self.op_jump
        spawned = self.spawn_p == SPAWNED
        children = arg[kind == GO]
        if np.any(children < 0) or np.any(children >= self.n) or not np.all(spawned[children]):
            raise ValidationError("GO must start a SPAWNED goroutine", field="op_arg")
        if len(np.unique(children)) != len(children) or len(children) != spawned.sum():
            raise ValidationError("each SPAWNED goroutine is started exactly once", field="op_arg")
        for ops, count, what in (
            (_CHANNEL_OPS, len(self.channels), "channel"),
            (_WAITGROUP_OPS, self.waitgroups, "WaitGroup"),
        ):
            used = arg[np.isin(kind, ops)]
            if np.any(used < 0) or np.any(used >= count):
                raise ValidationError(f"an operation names an unknown {what}", field="op_arg")
        targets = jump[np.isin(kind, (RANGE, LOOP))]
        if np.any(targets < 0) or np.any(targets >= phases):
            raise ValidationError("RANGE and LOOP must jump to a phase", field="op_jump")
        if any(c < 0 for c in self.channels):
            raise ValidationError("channel capacities must be >= 0", field="channels")

    @property
    def n(self) -> int:
        return len(self.spawn_s)

    @property
    def total_cpu_s(self) -> float:
        """All the CPU work in the workload: what the Ps must execute, exactly."""
        return float(self.cpu_s.sum())


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(f"{field} must be a positive int, got {value!r}", field=field)
    return int(value)


def _single_phase(name: str, spawn_s: np.ndarray, spawn_p: np.ndarray, cpu: np.ndarray):
    n = len(spawn_s)
    return Workload(
        name,
        spawn_s,
        spawn_p,
        np.arange(n + 1, dtype=np.int64),
        cpu,
        np.zeros(n, dtype=np.int8),
        np.zeros(n),
    )


def _spawns(n: int, over_s: float, gen: np.random.Generator) -> np.ndarray:
    if over_s <= 0:
        return np.zeros(n)
    return np.sort(gen.uniform(0.0, over_s, n))


def cpu_bound(
    n: int, *, cpu_mean_s: float = 1e-3, spawn_over_s: float = 0.0, seed: int = DEFAULT_SEED
) -> Workload:
    """``n`` goroutines that only compute (exponential CPU times), spawned round-robin."""
    n = _positive_int(n, "n")
    gen = rng(seed, "goruntime.workload.cpu")
    cpu = gen.exponential(cpu_mean_s, n)
    return _single_phase("cpu-bound", _spawns(n, spawn_over_s, gen), np.full(n, ANY_P), cpu)


def io_bound(
    n: int,
    *,
    requests: int = 3,
    cpu_s: float = 20e-6,
    io_mean_s: float = 5e-3,
    spawn_over_s: float = 1.0,
    seed: int = DEFAULT_SEED,
) -> Workload:
    """Servers' shape: each goroutine alternates a little CPU with ``requests`` network waits."""
    n = _positive_int(n, "n")
    k = _positive_int(requests, "requests") + 1
    gen = rng(seed, "goruntime.workload.io")
    kind = np.tile(np.r_[np.full(k - 1, NET), NONE].astype(np.int8), n)
    block = np.where(kind == NET, gen.exponential(io_mean_s, n * k), 0.0)
    return Workload(
        "io-bound",
        _spawns(n, spawn_over_s, gen),
        np.full(n, ANY_P),
        np.arange(0, n * k + 1, k, dtype=np.int64),
        np.full(n * k, cpu_s),
        kind,
        block,
    )


def mixed(
    n: int,
    *,
    syscall_share: float = 0.2,
    cpu_mean_s: float = 200e-6,
    io_mean_s: float = 2e-3,
    syscall_mean_s: float = 1e-3,
    spawn_over_s: float = 1.0,
    seed: int = DEFAULT_SEED,
) -> Workload:
    """Two phases each: compute, then a network wait or (``syscall_share``) a blocking syscall."""
    n = _positive_int(n, "n")
    if not 0.0 <= syscall_share <= 1.0:
        raise ValidationError("syscall_share must be within [0, 1]", field="syscall_share")
    gen = rng(seed, "goruntime.workload.mixed")
    first = np.where(gen.random(n) < syscall_share, SYSCALL, NET).astype(np.int8)
    kind = np.column_stack([first, np.zeros(n, np.int8)]).ravel()
    wait = np.where(first == SYSCALL, gen.exponential(syscall_mean_s, n), 0.0)
    wait = np.where(first == NET, gen.exponential(io_mean_s, n), wait)
    block = np.column_stack([wait, np.zeros(n)]).ravel()
    return Workload(
        "mixed",
        _spawns(n, spawn_over_s, gen),
        np.full(n, ANY_P),
        np.arange(0, 2 * n + 1, 2, dtype=np.int64),
        gen.exponential(cpu_mean_s, 2 * n),
        kind,
        block,
    )


def spawn_burst(
    n: int, *, spawn_every_s: float = 300e-9, cpu_mean_s: float = 50e-6, seed: int = DEFAULT_SEED
) -> Workload:
    """One loop (``for ... { go f() }``) on P0 spawning ``n`` short goroutines back to back.

    ``newproc`` puts each new goroutine in P0's ``runnext``; P0's local queue fills,
    half of it spills to the global queue, and the other Ps steal. 300 ns per ``go``
    statement is the order of magnitude of goroutine creation on a modern core.
    """
    n = _positive_int(n, "n")
    gen = rng(seed, "goruntime.workload.burst")
    spawn = np.arange(n) * spawn_every_s
    return _single_phase(
        "spawn-burst", spawn, np.zeros(n, np.int64), gen.exponential(cpu_mean_s, n)
    )


def sleep_probe(
    hogs: int,
    *,
    samples: int = 100,
    sleep_s: float = 1e-3,
    probe_cpu_s: float = 2e-6,
    hog_cpu_s: float | None = None,
) -> Workload:
    """The calibration experiment of ``data/go/sched_latency``: CPU hogs plus a sleeping probe.

    Goroutine 0 is the probe: ``samples`` times it sleeps ``sleep_s`` then runs
    briefly; the others spin for ``hog_cpu_s`` (default: long enough to outlast the
    probe). Its scheduling latencies are how late each sleep returns.
    """
    samples = _positive_int(samples, "samples")
    hogs = int(hogs)
    if hogs < 0:
        raise ValidationError("hogs must be >= 0", field="hogs")
    if hog_cpu_s is None:
        hog_cpu_s = samples * 0.025  # a little more than one 20 ms wait per sample
    probe_kind = np.r_[np.full(samples, SLEEP), NONE].astype(np.int8)
    probe_block = np.r_[np.full(samples, sleep_s), 0.0]
    return Workload(
        "sleep-probe",
        np.zeros(hogs + 1),
        np.zeros(hogs + 1, np.int64),
        np.r_[0, np.arange(samples + 1, samples + 2 + hogs)].astype(np.int64),
        np.r_[np.full(samples + 1, probe_cpu_s), np.full(hogs, hog_cpu_s)],
        np.r_[probe_kind, np.zeros(hogs, np.int8)],
        np.r_[probe_block, np.zeros(hogs)],
    )
