"""Labs harness overhead and shrink time, on the ledger lab.

Harness side: ``check``'s runs of the default workload with the reference ledger — seeded
scheduler, virtual time, network, a store whose answers take virtual round trips, faults,
crashes, history recording and the invariants — counted as client operations (attempts) per
second. Baseline, same process: the same number of ``transfer`` calls on the reference ledger,
awaited directly on a stock asyncio loop over the plain in-memory store, no history and no
faults. The ratio says what determinism and recording cost per operation. Shrink: wall time
for ``check`` to find the seed design's double application and shrink it.
"""

from __future__ import annotations

import asyncio
import time

from razorlab.labs import LEDGER_INVARIANTS, ReferenceLedger, SeedLedger, check, run_plan
from razorlab.labs.ledger import ACCOUNTS, LEDGER_LAB, generate
from razorlab.labs.process import Process
from razorlab.labs.store import DurableStore

RUNS = 200
ROUNDS = 3


def _harness() -> tuple[int, float]:
    ops = 0
    start = time.perf_counter()
    for run in range(RUNS):
        result = run_plan(LEDGER_LAB, ReferenceLedger, generate(0, run))
        assert result.error is None
        assert not any(inv(result.history, result.final) for inv in LEDGER_INVARIANTS)
        ops += len(result.history.of_kind("invoke"))
    return ops, time.perf_counter() - start


def _direct(n: int) -> float:
    async def main() -> float:
        process = Process(1, lambda p, what: None)
        ledger = ReferenceLedger(DurableStore().handle(process), dict(ACCOUNTS))
        start = time.perf_counter()
        for i in range(n):
            await ledger.transfer(f"k{i}", "cash", "a", 10_000)
        return time.perf_counter() - start

    return asyncio.run(main())


def main() -> None:
    best_h = best_d = float("inf")
    ops = 0
    for _ in range(ROUNDS):
        ops, elapsed = _harness()
        best_h = min(best_h, elapsed)
        best_d = min(best_d, _direct(ops))
    harness_rate, direct_rate = ops / best_h, ops / best_d
    start = time.perf_counter()
    verdict = check(SeedLedger, lab="ledger", runs=RUNS, seed=0)
    shrink_s = time.perf_counter() - start
    assert verdict.status == "failed"
    print("| path | ops/s | ratio |")
    print("|---|---:|---:|")
    ratio = harness_rate / direct_rate
    print(f"| harness: {RUNS} runs, reference ledger, faults + history + invariants "
          f"({RUNS / best_h:,.0f} runs/s) | {harness_rate:,.0f} | {ratio:.3f} |")  # fmt: skip
    print(f"| direct calls, stock asyncio, no faults or history | {direct_rate:,.0f} | 1.00 |")
    print()
    print(f"seed design: failure found and shrunk in {shrink_s:.2f} s ({verdict.shrink_runs} "
          f"shrink runs), counterexample {len(verdict.history)} steps "
          f"(from {verdict.original_events}); target < 10 s")  # fmt: skip


if __name__ == "__main__":
    main()
