"""asyncio: one task per job vs a bounded worker pool vs a semaphore, 100,000 jobs.

Throughput is timed without tracemalloc (it slows Python several-fold); peak memory
is measured separately with tracemalloc on 30,000 jobs. Baseline: the same jobs
awaited one after another in a plain loop (no concurrency at all).
"""

from __future__ import annotations

import asyncio
import time

from razorlab.goruntime import MIB, compare_strategies

JOBS, MEM_JOBS, LIMIT = 100_000, 30_000, 100


async def _sequential(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        await asyncio.sleep(0)
        total += i
    return time.perf_counter() - start


async def _measure():
    base = await _sequential(JOBS)
    timed = await compare_strategies(JOBS, limit=LIMIT, trace_memory=False)
    traced = await compare_strategies(MEM_JOBS, limit=LIMIT)
    return base, timed, traced


def main() -> None:
    base, timed, traced = asyncio.run(_measure())
    print(
        f"| strategy ({JOBS:,} jobs, limit {LIMIT}) | jobs/s | vs sequential loop "
        f"| peak tasks | peak MiB ({MEM_JOBS:,} jobs, tracemalloc) |"
    )
    print("|---|---|---|---|---|")
    print(f"| sequential loop (baseline) | {JOBS / base:,.0f} | 1.00 | 1 | - |")
    for t, m in zip(timed, traced, strict=True):
        print(
            f"| {t.strategy} | {JOBS / t.wall_s:,.0f} | {base / t.wall_s:.2f} "
            f"| {t.peak_tasks:,} | {m.peak_bytes / MIB:.2f} |"
        )


if __name__ == "__main__":
    main()
