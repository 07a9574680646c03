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

from benchmarks._labs import RUNS, report
from razorlab.labs import LEDGER_INVARIANTS, ReferenceLedger, SeedLedger, check, run_plan
from razorlab.labs.ledger import ACCOUNTS, LEDGER_LAB, generate
from razorlab.labs.process import Process
from razorlab.labs.store import DurableStore


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
    report(
        _harness,
        _direct,
        lambda: check(SeedLedger, lab="ledger", runs=RUNS, seed=0),
        "reference ledger",
    )


if __name__ == "__main__":
    main()
