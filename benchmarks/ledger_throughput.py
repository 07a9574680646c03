"""Ledger throughput with group commit vs raw SQLite ``executemany`` of the same rows.

Both sides write the same number of journal rows to a WAL-mode SQLite file through aiosqlite,
in batches of the same size, one transaction per batch. The ledger additionally loads the
touched accounts, validates every transfer (balances, currency, idempotency), updates the
account counters and commits; the baseline only inserts. Target: ledger ≥ 50% of baseline.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite

from razorlab.clock import ManualClock
from razorlab.rand import rng
from razorlab.settlement import Ledger, Transfer
from razorlab.settlement.ledger import SCHEMA

N_TRANSFERS = 60_000
BATCH = 8_190  # TigerBeetle's batch size
N_ACCOUNTS = 1_000
REPEATS = 3


def _transfers() -> list[list[Transfer]]:
    g = rng(42, "bench-ledger")
    debit = g.integers(0, N_ACCOUNTS, N_TRANSFERS)
    credit = (debit + 1 + g.integers(0, N_ACCOUNTS - 1, N_TRANSFERS)) % N_ACCOUNTS
    amount = g.integers(1, 100_000, N_TRANSFERS)
    ts = [Transfer(f"t{i}", f"a{d}", f"a{c}", int(a))
          for i, (d, c, a) in enumerate(zip(debit, credit, amount, strict=True))]  # fmt: skip
    return [ts[i : i + BATCH] for i in range(0, N_TRANSFERS, BATCH)]


def journal_rows(batch: list[Transfer]) -> list[tuple]:
    """The journal rows of a batch of plain INR transfers, as the raw baselines write them."""
    return [(t.id, t.debit_account, t.credit_account, t.amount, "INR", 1, 0, "", 0.0, "", 0.0)
            for t in batch]  # fmt: skip


async def time_ledger(ledger: Ledger, batches: list[list[Transfer]]) -> float:
    """Seconds an empty ``ledger`` takes to apply ``batches`` (accounts made first); verified."""
    for i in range(N_ACCOUNTS):
        await ledger.create_account(f"a{i}", "party")
    start = time.perf_counter()
    for batch in batches:
        results = await ledger.create_transfers(batch)
        assert all(r.status == "ok" for r in results)
    elapsed = time.perf_counter() - start
    assert await ledger.verify() == []
    return elapsed


async def best_rates(
    raw: Callable[[int], Awaitable[float]], ledger: Callable[[int], Awaitable[float]]
) -> tuple[float, float]:
    """Transfers/s of ledger and raw: best of ``REPEATS`` alternating runs (noise only slows)."""
    raw_s, ledger_s = [], []
    for i in range(REPEATS):
        raw_s.append(await raw(i))
        ledger_s.append(await ledger(i))
    return N_TRANSFERS / min(ledger_s), N_TRANSFERS / min(raw_s)


async def _ledger(path: str, batches: list[list[Transfer]]) -> float:
    ledger = await Ledger.open(path, clock=ManualClock())
    elapsed = await time_ledger(ledger, batches)
    await ledger.close()
    return elapsed


async def _raw(path: str, batches: list[list[Transfer]]) -> float:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.executescript(SCHEMA)
    sql = ("INSERT INTO transfers (id, debit_account, credit_account, amount, currency, ledger, "
           "flags, pending_id, timeout_s, code, timestamp) VALUES (?,?,?,?,?,?,?,?,?,?,?)")  # fmt: skip
    start = time.perf_counter()
    for batch in batches:
        await db.execute("BEGIN IMMEDIATE")
        await db.executemany(sql, journal_rows(batch))
        await db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    await db.close()
    return elapsed


async def _run() -> tuple[float, float]:
    """Best of ``REPEATS`` alternating runs per side, each on a fresh file (noise only slows)."""
    batches = _transfers()
    with tempfile.TemporaryDirectory() as tmp:
        return await best_rates(
            lambda i: _raw(str(Path(tmp) / f"raw{i}.db"), batches),
            lambda i: _ledger(str(Path(tmp) / f"ledger{i}.db"), batches),
        )


def main() -> None:
    ledger_rate, raw_rate = asyncio.run(_run())
    print(f"{N_TRANSFERS:,} transfers, batches of {BATCH:,}, {N_ACCOUNTS:,} accounts, "
          f"best of {REPEATS}\n")  # fmt: skip
    print("| what | transfers/s | ratio |")
    print("|---|---:|---:|")
    print(f"| ledger (validate + journal + balances, group commit) | {ledger_rate:,.0f} | "
          f"{ledger_rate / raw_rate:.0%} |")  # fmt: skip
    print(f"| raw SQLite executemany (journal rows only) | {raw_rate:,.0f} | 100% |")


if __name__ == "__main__":
    main()
