"""What the labs benchmarks share: best-of-rounds harness vs direct rates, and the shrink time.

Each lab's module supplies its harness run (``() -> (client operations, seconds)``), the same
number of direct calls (``ops -> seconds``) and the check that finds its seed design's bug.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from razorlab.labs.check import Verdict

RUNS = 200
ROUNDS = 3


def report(
    harness: Callable[[], tuple[int, float]],
    direct: Callable[[int], float],
    seed_check: Callable[[], Verdict],
    what: str,
) -> None:
    """Print the harness/direct ratio table and how fast the seed's failure is shrunk."""
    best_h = best_d = float("inf")
    ops = 0
    for _ in range(ROUNDS):
        ops, elapsed = harness()
        best_h = min(best_h, elapsed)
        best_d = min(best_d, direct(ops))
    harness_rate, direct_rate = ops / best_h, ops / best_d
    start = time.perf_counter()
    verdict = seed_check()
    shrink_s = time.perf_counter() - start
    assert verdict.status == "failed"
    print("| path | ops/s | ratio |")
    print("|---|---:|---:|")
    print(f"| harness: {RUNS} runs, {what}, faults + history + invariants "
          f"({RUNS / best_h:,.0f} runs/s) | {harness_rate:,.0f} | {harness_rate / direct_rate:.3f} |")  # fmt: skip
    print(f"| direct calls, stock asyncio, no faults or history | {direct_rate:,.0f} | 1.00 |")
    print()
    print(f"seed design: failure found and shrunk in {shrink_s:.2f} s ({verdict.shrink_runs} "
          f"shrink runs), counterexample {len(verdict.history)} steps "
          f"(from {verdict.original_events}); target < 10 s")  # fmt: skip
