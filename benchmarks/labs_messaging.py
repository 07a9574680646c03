"""Labs harness overhead and shrink time, on the message-delivery lab.

Harness side: ``check``'s runs of the default workload with the reference delivery service —
seeded scheduler, virtual time, network, a store whose answers take virtual round trips,
faults, crashes, history recording, the final drain of every device and the invariants —
counted as client operations (attempts) per second. Baseline, same process: the same number of
calls on the reference service, a third each of ``send``, ``fetch`` and ``ack``, awaited
directly on a stock asyncio loop over the plain in-memory store, no history and no faults, with
a fresh store every :data:`PER_STORE` calls (a run's size: a fetch scans its chats, so one
ever-growing store would measure the scan, not the harness). The
ratio says what determinism and recording cost per operation. Shrink: wall time for ``check``
to find the seed design's lost message and shrink it.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks._labs import RUNS, report
from razorlab.labs import MESSAGING_INVARIANTS, ReferenceMessages, SeedMessages, check, run_plan
from razorlab.labs.messaging import DIRECTORY, MESSAGING_LAB, generate
from razorlab.labs.process import Process
from razorlab.labs.store import DurableStore

PER_STORE = 30  # calls against one store before a fresh one, like one run's operations


def _harness() -> tuple[int, float]:
    ops = 0
    start = time.perf_counter()
    for run in range(RUNS):
        result = run_plan(MESSAGING_LAB, ReferenceMessages, generate(0, run))
        assert result.error is None
        assert not any(inv(result.history, result.final) for inv in MESSAGING_INVARIANTS)
        ops += len(result.history.of_kind("invoke"))
    return ops, time.perf_counter() - start


def _direct(n: int) -> float:
    async def main() -> float:
        process = Process(1, lambda p, what: None)
        start = time.perf_counter()
        for i in range(n):
            if i % PER_STORE == 0:
                service = ReferenceMessages(DurableStore().handle(process), DIRECTORY)
            if i % 3 == 0:
                sent = await service.send(f"k{i}", "asha", "trio", "hi")
            elif i % 3 == 1:
                await service.fetch("ravi", "phone")
            else:
                await service.ack("ravi", "phone", "trio", sent.seq)
        return time.perf_counter() - start

    return asyncio.run(main())


def main() -> None:
    report(
        _harness,
        _direct,
        lambda: check(SeedMessages, lab="messaging", runs=RUNS, seed=0),
        "reference delivery service",
    )


if __name__ == "__main__":
    main()
