"""In-process gateway pipeline throughput vs raw SQLite inserts of the same payments.

The gateway side runs the whole create-payment pipeline per request — validation, token
bucket, idempotency claim, breaker, cached merchant lookup, intent transaction,
simulated bank (no latency), result transaction with outbox row and key response —
against a WAL SQLite file through aiosqlite. The baseline inserts one payments row per
payment, one transaction each, through the same aiosqlite connection type. The ratio
says what all the pipeline's guarantees cost relative to the cheapest durable write.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import aiosqlite

from razorlab.clock import ManualClock
from razorlab.infra import RateLimiter
from razorlab.payments import BankProfile, Gateway, SimulatedBank
from razorlab.payments.store import SCHEMA

N_PAYMENTS = 2_000
ROUNDS = 3
CONCURRENCY = 16
BODY = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}


async def _pipeline(path: str) -> float:
    clock = ManualClock()
    bank = SimulatedBank(clock, BankProfile(), wait=False)
    limiter = RateLimiter(clock, rate_per_s=1e9, burst=1e9)
    gw = await Gateway.open(path, clock=clock, bank=bank, seed=1, limiter=limiter)
    merchant, _ = await gw.create_merchant("Bench")
    queue = iter(range(N_PAYMENTS))

    async def worker() -> None:
        for i in queue:
            response = await gw.create_payment(merchant.id, BODY, f"key-{i}")
            assert response.status == 201, response.body

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - start
    assert await gw.store.count_payments() == N_PAYMENTS
    await gw.close()
    return elapsed


async def _raw(path: str) -> float:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.executescript(SCHEMA)
    await db.execute("INSERT INTO merchants VALUES ('m', 'Bench', 'k', 'h', NULL, 's', 0)")
    sql = (
        "INSERT INTO payments (id, merchant_id, amount, currency, method, method_details, "
        "status, auto_capture, created_at) VALUES (?, 'm', 49900, 'INR', 'upi', '[]', "
        "'created', 0, 0)"
    )
    start = time.perf_counter()
    for i in range(N_PAYMENTS):
        await db.execute("BEGIN IMMEDIATE")
        await db.execute(sql, (f"pay_{i}",))
        await db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    await db.close()
    return elapsed


async def _run() -> tuple[float, float]:
    """Best of ``ROUNDS`` alternating rounds per side (a shared machine is noisy)."""
    raw = pipe = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(ROUNDS):
            raw = min(raw, await _raw(str(Path(tmp) / f"raw{i}.db")))
            pipe = min(pipe, await _pipeline(str(Path(tmp) / f"gateway{i}.db")))
    return N_PAYMENTS / pipe, N_PAYMENTS / raw


def main() -> None:
    pipeline_rate, raw_rate = asyncio.run(_run())
    print("| path | payments/s | ratio |")
    print("|---|---:|---:|")
    print(f"| gateway pipeline (in-process, idempotency key) | {pipeline_rate:,.0f} | "
          f"{pipeline_rate / raw_rate:.2f} |")  # fmt: skip
    print(f"| raw SQLite insert, one transaction each | {raw_rate:,.0f} | 1.00 |")


if __name__ == "__main__":
    main()
