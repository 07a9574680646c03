"""Scheduler model speed: a one-million-goroutine burst, simulated events per second.

Baseline: the bare event queue (``heapq`` push + pop of the same number of events,
nothing else), measured in the same run; the ratio says how much of the model's
time is scheduling logic rather than event plumbing.
"""

from __future__ import annotations

import time

from benchmarks._heap import bare_heap
from razorlab.goruntime import SchedulerConfig, cpu_bound, simulate, spawn_burst

N = 1_000_000


def main() -> None:
    rows = []
    for name, wl in (
        ("spawn burst on P0", spawn_burst(N)),
        ("CPU-bound, round-robin", cpu_bound(N)),
    ):
        start = time.perf_counter()
        run = simulate(wl, SchedulerConfig(gomaxprocs=8))
        took = time.perf_counter() - start
        assert run.completed == N
        base = bare_heap(run.events)
        rows.append((name, run.events, took, run.events / took, run.events / base))
    print(
        "| workload (1,000,000 goroutines, GOMAXPROCS 8) | events | time (s) | model events/s "
        "| bare heapq events/s | model / bare |"
    )
    print("|---|---|---|---|---|---|")
    for name, events, took, rate, base_rate in rows:
        print(
            f"| {name} | {events:,} | {took:.1f} | {rate:,.0f} | {base_rate:,.0f} "
            f"| {rate / base_rate:.2f} |"
        )


if __name__ == "__main__":
    main()
