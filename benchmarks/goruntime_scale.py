"""Scheduler model at scale: a ten-million-goroutine spawn burst, time and peak memory.

Issue #19 asks that simulating 10M goroutines stays feasible. Each measurement runs in
a fresh Python process so its peak resident set (``ru_maxrss``) is its own: the burst
(``spawn_burst``, GOMAXPROCS 8) builds the workload and simulates it to the end.
Baseline: the same process with the imports only (the interpreter, numpy, pandas and
the model), so "model MB" is what the goroutines cost. Pass a smaller count to try it
quickly: ``python benchmarks/goruntime_scale.py 1000000``.
"""

from __future__ import annotations

import json
import subprocess
import sys

N = 10_000_000
_CHILD = """
import json, resource, sys, time
from razorlab.goruntime import SchedulerConfig, simulate, spawn_burst
n = int(sys.argv[1])
out = {}
if n:
    start = time.perf_counter()
    wl = spawn_burst(n)
    built = time.perf_counter()
    run = simulate(wl, SchedulerConfig(gomaxprocs=8))
    done = time.perf_counter()
    assert run.completed == n
    out = {"build_s": built - start, "simulate_s": done - built, "events": run.events}
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def measure(n: int) -> dict:
    """Time and peak RSS of one burst of ``n`` goroutines (0: the imports alone)."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n)], check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    base, run = measure(0), measure(n)
    model_mb = run["peak_mb"] - base["peak_mb"]
    print(
        "| goroutines (spawn burst, GOMAXPROCS 8) | events | build (s) | simulate (s) "
        "| peak RSS (MB) | imports alone (MB) | bytes per goroutine |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {n:,} | {run['events']:,} | {run['build_s']:.1f} | {run['simulate_s']:.1f} "
        f"| {run['peak_mb']:,.0f} | {base['peak_mb']:,.0f} | {model_mb * 2**20 / n:,.0f} |"
    )


if __name__ == "__main__":
    main()
