"""Scheduler model speed: a one-million-goroutine burst, simulated events per second.

Baseline: the bare event queue (``heapq`` push + pop of the same number of events,
nothing else), measured in the same run; the ratio says how much of the model's
time is scheduling logic rather than event plumbing.
"""

from __future__ import annotations

import heapq
import time

from razorlab.goruntime import SchedulerConfig, cpu_bound, simulate, spawn_burst

N = 1_000_000


def _bare_heap(events: int) -> float:
    start = time.perf_counter()
    heap: list[tuple[float, int]] = []
    for i in range(events):
        heapq.heappush(heap, (i * 1e-6, i))
        if len(heap) > 8:
            heapq.heappop(heap)
    while heap:
        heapq.heappop(heap)
    return time.perf_counter() - start


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
        base = _bare_heap(run.events)
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
