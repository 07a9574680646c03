"""Labs harness overhead and shrink time, on the payments lab.

Harness side: ``check``'s runs of the default workload with the reference implementation —
seeded scheduler, virtual time, network, faults, crashes, history recording and the
invariants — counted as client operations (attempts) per second. Baseline, same process:
the same number of ``create_payment`` calls on the reference implementation, awaited
directly on a stock asyncio loop with an in-memory store and a bank that answers at once,
no history and no faults. The ratio says what determinism and recording cost per
operation. Shrink: wall time for ``check`` to find the seed design's double charge and
shrink it, and the length of the counterexample it prints.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks._labs import RUNS, report
from razorlab.labs import ReferencePayments, SeedPayments, check, generate, run_plan
from razorlab.labs.bank import BankAnswer
from razorlab.labs.invariants import PAYMENT_INVARIANTS
from razorlab.labs.payments import PAYMENTS
from razorlab.labs.process import Process
from razorlab.labs.store import DurableStore


class _InstantBank:
    async def charge(self, reference: str, amount_paise: int) -> BankAnswer:
        return BankAnswer("success", reference, "ch")

    async def status(self, reference: str) -> str:
        return "success"


def _harness() -> tuple[int, float]:
    ops = 0
    start = time.perf_counter()
    for run in range(RUNS):
        result = run_plan(PAYMENTS, ReferencePayments, generate(0, run))
        assert result.error is None
        assert not any(inv(result.history, result.final) for inv in PAYMENT_INVARIANTS)
        ops += len(result.history.of_kind("invoke"))
    return ops, time.perf_counter() - start


def _direct(n: int) -> float:
    class Clock:
        def now(self) -> float:
            return 0.0

        async def sleep(self, seconds: float) -> None:
            return None

    async def main() -> float:
        process = Process(1, lambda p, what: None)
        service = ReferencePayments(DurableStore().handle(process), _InstantBank(), Clock())  # type: ignore[arg-type]
        start = time.perf_counter()
        for i in range(n):
            await service.create_payment(f"k{i}", 49_900)
        return time.perf_counter() - start

    return asyncio.run(main())


def main() -> None:
    report(_harness, _direct, lambda: check(SeedPayments, runs=RUNS, seed=0), "reference impl")


if __name__ == "__main__":
    main()
