"""Goroutine per task vs a worker pool vs ping-pong: the scheduler model against Go 1.19 and 1.23.

Prints one comparison table per committed Go version (``data/go/measurements.json`` for
1.19, ``measurements_go1.23.json`` for 1.23, vs the model run on the same programs with
costs calibrated from that version's ``go_costs``), then how long the model takes and how
much memory it needs for a per-task run. Baseline: the bare event queue (``heapq`` push +
pop of as many events as the run handled).
"""

from __future__ import annotations

import resource
import time

from benchmarks._heap import bare_heap
from razorlab.goruntime import SchedulerConfig, per_task, simulate
from razorlab.goruntime.calibration import (
    MEASURED_GO_VERSIONS,
    cold_start_check,
    load_measurements,
    op_costs,
    pool_locality_vs_model,
    pool_sizes_vs_model,
    spawn_sleeps_vs_go,
    task_patterns_vs_model,
)

N = 200_000


def table(go_version: str) -> None:
    """Print the comparison for the committed ``go_version`` measurements."""
    df = task_patterns_vs_model(go_version=go_version)
    machine = load_measurements(go_version=go_version)["task_costs"]["machine"]
    print(f"\n{machine['go_version']}, load average {machine['load_average_1m']}")
    print(
        "| pattern | GOMAXPROCS | Go ns/task | model ns/task | error | Go CPU ns | model CPU ns |"
    )
    print("|---|---|---|---|---|---|---|")
    for (pattern, procs), r in df.iterrows():
        print(
            f"| {pattern} | {procs} | {r.measured_ns:,.0f} | {r.model_ns:,.0f} | "
            f"{r.error:+.0%} | {r.measured_cpu_ns:,.0f} | {r.model_cpu_ns:,.0f} |"
        )
    check, where, sleeps = (
        cold_start_check(go_version=go_version),
        pool_locality_vs_model(go_version=go_version),
        spawn_sleeps_vs_go(go_version=go_version),
    )
    print(
        f"cold-start cross-check (wake_exit, 10,000 parked children): Go {check['measured_ns']} ns, "
        f"model {check['model_ns']} ns ({check['error']:+.0%}); pool at GOMAXPROCS 2, tasks "
        f"received on the sending P: Go {where['go_same_p_share']:.0%}, "
        f"model {where['model_same_p_share']:.0%}; thread sleeps per 1,000 go statements at "
        f"GOMAXPROCS 2: Go {1000 * sleeps['go_sleeps_per_go']:.1f}, "
        f"model {1000 * sleeps['model_sleeps_per_go']:.1f}"
    )
    sizes = pool_sizes_vs_model(go_version=go_version)
    print("pool with heavier tasks (calls of the task body per task), ns per task:")
    print("| calls | GOMAXPROCS | Go | model | error | on the sending P: Go | model |")
    print("|---|---|---|---|---|---|---|")
    for (calls, procs), r in sizes.iterrows():
        print(
            f"| {calls} | {procs} | {r.measured_ns:,.0f} | {r.model_ns:,.0f} | {r.error:+.0%} | "
            f"{r.go_same_p_share:.0%} | {r.model_same_p_share:.0%} |"
        )


def main() -> None:
    for go_version in MEASURED_GO_VERSIONS:
        table(go_version)
    costs, switch, work = op_costs()
    wl = per_task(N, work_s=work)
    start = time.perf_counter()
    run = simulate(wl, SchedulerConfig(gomaxprocs=1, switch_s=switch, costs=costs))
    took = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = bare_heap(run.events)
    print(
        f"\nper_task({N:,}) at GOMAXPROCS 1 (Go 1.19 costs): {took:.1f} s, {run.events:,} events "
        f"({run.events / took:,.0f}/s; bare heapq {run.events / base:,.0f}/s), "
        f"peak RSS {rss:,.0f} MiB; fresh Gs {run.fresh_gs:,}, GC stops {run.gc_cycles}, "
        f"sysmon preemptions {run.preemptions}, peak global queue {run.max_global_runq:,}"
    )


if __name__ == "__main__":
    main()
