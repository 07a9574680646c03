"""What one scheduler run measured: counters, latencies, run-queue samples, utilisation.

Design note: everything is aggregated while the simulation runs (counters and
compact ``array`` buffers), so a million-goroutine run keeps a few tens of MB;
pandas/numpy views are built once at the end. ``SchedulerRun`` also carries the
checks the tests lean on: CPU executed versus CPU in the workload plus the CPU the
runtime's own operations were charged (conservation of work) and the largest local run queue ever seen (bounded at 256).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from razorlab.goruntime.processor import SchedulerConfig
    from razorlab.goruntime.workload import Workload

__all__ = ["SchedulerRun"]


@dataclass
class SchedulerRun:
    """Metrics of one simulated run (fill-in during the run, read-only afterwards)."""

    config: SchedulerConfig
    workload_name: str
    goroutines: int
    workload_cpu_s: float
    events: int = 0
    makespan_s: float = 0.0
    completed: int = 0
    cpu_executed_s: float = 0.0
    steals: int = 0  # successful steal operations
    stolen: int = 0  # goroutines moved by them
    failed_spins: int = 0  # spinning Ms that found nothing and parked
    steal_backoffs: int = 0  # runqgrab sleeps before taking a running P's runnext
    overflows: int = 0  # runqputslow: half a local queue moved to the global queue
    global_fair_hits: int = 0  # taken from the global queue on a 61st tick
    global_gets: int = 0  # taken from the global queue because the local one was empty
    netpoll_by_p: int = 0
    netpoll_by_sysmon: int = 0
    woken_idle: int = 0  # Gs handed to an idle P by the netpoller or a timer
    preemptions: int = 0
    handoffs: int = 0  # Ps taken from Ms blocked in syscalls
    max_threads: int = 0
    max_local_runq: int = 0
    max_global_runq: int = 0
    max_live_goroutines: int = 0  # started and not yet exited (runtime.NumGoroutine)
    wakeups: int = 0  # idle Ps woken (wakep) by a go statement or a readied G
    go_wakeups: int = 0  # ... by a go statement
    gc_cycles: int = 0  # GC cycles started by fresh Gs filling the heap (channels.py)
    fresh_gs: int = 0  # go statements that allocated a new G (malg)
    reused_gs: int = 0  # ... that took one from a free list (gfget)
    chan_receives: int = 0  # values received from channels (a close hands out none)
    chan_receives_same_p: int = 0  # ... on the P the value was sent on
    runtime_cpu_s: float = 0.0  # CPU charged for go, exits, channel and WaitGroup operations
    charged_cpu_s: float = 0.0  # all CPU handed to phases (loops repeat theirs) plus the above
    p_busy_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _wait_g: array = field(default_factory=lambda: array("q"))
    _wait_s: array = field(default_factory=lambda: array("d"))
    _sample_t: list[float] = field(default_factory=list)
    _sample_local: list[tuple[int, ...]] = field(default_factory=list)
    _sample_global: list[int] = field(default_factory=list)

    @classmethod
    def empty(cls, config: SchedulerConfig, workload: Workload) -> SchedulerRun:
        return cls(config, workload.name, workload.n, workload.total_cpu_s)

    def record_wait(self, g: int, wait_s: float) -> None:
        self._wait_g.append(g)
        self._wait_s.append(wait_s)

    def sample(self, sim) -> None:
        local = tuple(len(p.runq) + (p.runnext >= 0) for p in sim.ps)
        self.max_local_runq = max(self.max_local_runq, max(len(p.runq) for p in sim.ps))
        self._sample_t.append(sim.now)
        self._sample_local.append(local)
        self._sample_global.append(len(sim.gq))
        self.max_global_runq = max(self.max_global_runq, len(sim.gq))

    def finish(self, sim) -> SchedulerRun:
        self.completed = sim.done
        self.cpu_executed_s = sim.cpu_done
        self.p_busy_s = np.array([p.busy_s for p in sim.ps])
        self.sample(sim)
        return self

    # ---- read-only views ------------------------------------------------------------
    @property
    def waits_s(self) -> np.ndarray:
        """Every time a goroutine waited runnable before running, in seconds."""
        return np.frombuffer(self._wait_s, dtype=np.float64)

    def waits_of(self, g: int) -> np.ndarray:
        """The scheduling latencies of one goroutine (e.g. the probe, goroutine 0)."""
        gs = np.frombuffer(self._wait_g, dtype=np.int64)
        return self.waits_s[gs == g]

    @property
    def same_p_share(self) -> float:
        """Share of channel receives that ran on the P the value was sent on (nan if none)."""
        return self.chan_receives_same_p / self.chan_receives if self.chan_receives else math.nan

    @property
    def utilisation(self) -> np.ndarray:
        """Share of the run each P spent running goroutines (incl. switch cost)."""
        return self.p_busy_s / self.makespan_s if self.makespan_s > 0 else self.p_busy_s * 0

    def runq_samples(self) -> pd.DataFrame:
        """Run-queue lengths over time: one column per P (local + runnext) and ``global``."""
        df = pd.DataFrame(
            self._sample_local,
            columns=[f"P{i}" for i in range(self.config.gomaxprocs)],
            index=pd.Index(self._sample_t, name="t_s"),
        )
        df["global"] = self._sample_global
        return df

    def latency_percentiles(self, qs=(50, 90, 99, 99.9)) -> dict[str, float]:
        """Scheduling latency percentiles in milliseconds."""
        w = self.waits_s
        return {f"p{q:g}_ms": float(np.percentile(w, q) * 1e3) for q in qs}

    def summary(self) -> pd.Series:
        """The headline numbers of the run, rounded for display."""
        lat = self.latency_percentiles((50, 99))
        return pd.Series(
            {
                "workload": self.workload_name,
                "GOMAXPROCS": self.config.gomaxprocs,
                "goroutines": self.goroutines,
                "completed": self.completed,
                "makespan_ms": round(self.makespan_s * 1e3, 3),
                "mean_utilisation": round(float(self.utilisation.mean()), 3),
                "p50_latency_ms": round(lat["p50_ms"], 4),
                "p99_latency_ms": round(lat["p99_ms"], 4),
                "steals": self.steals,
                "stolen": self.stolen,
                "overflows_to_global": self.overflows,
                "global_61st_tick_hits": self.global_fair_hits,
                "preemptions": self.preemptions,
                "syscall_handoffs": self.handoffs,
                "netpoll_by_sysmon": self.netpoll_by_sysmon,
                "max_threads": self.max_threads,
                "max_local_runq": self.max_local_runq,
                "events": self.events,
            }
        )
