"""Ledger throughput on PostgreSQL vs a raw ``COPY`` of the same journal rows.

Both sides write the same journal rows to the same PostgreSQL server (the one ``make services``
started, or ``RAZORLAB_DATABASE_URL``) in batches of the same size, one transaction per batch.
The ledger additionally locks the touched accounts (``SELECT … FOR UPDATE``), looks up every
transfer id, validates every transfer, updates the counters and commits; the baseline only
copies the rows into an identical ``transfers`` table. Without a server it prints why and skips.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.ledger_throughput import (
    BATCH,
    N_ACCOUNTS,
    N_TRANSFERS,
    REPEATS,
    _transfers,
    best_rates,
    journal_rows,
    time_ledger,
)
from razorlab.clock import ManualClock
from razorlab.infra.backends import BackendUnavailable
from razorlab.infra.backends.postgres_ledger import JOURNAL_COLUMNS, PostgresLedger
from razorlab.infra.services import recorded_database_url
from razorlab.settlement import Transfer


async def _drop(ledger: PostgresLedger) -> None:
    async with ledger._connection() as conn:
        await conn.execute(f"DROP SCHEMA {ledger.schema} CASCADE")


async def _fresh(url: str, schema: str) -> PostgresLedger:
    """An empty ledger in ``schema`` (whatever an interrupted earlier run left is dropped)."""
    ledger = await PostgresLedger.open(url, clock=ManualClock(), schema=schema, pool_size=1)
    await _drop(ledger)
    await ledger.close()
    return await PostgresLedger.open(url, clock=ManualClock(), schema=schema, pool_size=1)


async def _ledger(url: str, batches: list[list[Transfer]]) -> float:
    ledger = await _fresh(url, "bench_ledger")
    elapsed = await time_ledger(ledger, batches)
    await _drop(ledger)
    await ledger.close()
    return elapsed


async def _raw(url: str, batches: list[list[Transfer]]) -> float:
    ledger = await _fresh(url, "bench_raw")  # the same tables, written directly
    start = time.perf_counter()
    async with ledger._connection() as conn:
        for batch in batches:
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "transfers", records=journal_rows(batch), columns=JOURNAL_COLUMNS
                )
    elapsed = time.perf_counter() - start
    await _drop(ledger)
    await ledger.close()
    return elapsed


async def _run(url: str) -> tuple[float, float]:
    """Best of ``REPEATS`` alternating runs per side, each on fresh tables (noise only slows)."""
    batches = _transfers()
    return await best_rates(lambda _: _raw(url, batches), lambda _: _ledger(url, batches))


def main() -> None:
    url = recorded_database_url()
    try:
        if url is None:
            raise BackendUnavailable("postgresql", "(no URL)", "none recorded")
        ledger_rate, raw_rate = asyncio.run(_run(url))
    except BackendUnavailable as exc:
        print(f"skipped: no PostgreSQL ({exc}); run `make services` or set RAZORLAB_DATABASE_URL")
        return
    print(f"{N_TRANSFERS:,} transfers, batches of {BATCH:,}, {N_ACCOUNTS:,} accounts, "
          f"best of {REPEATS}, PostgreSQL\n")  # fmt: skip
    print("| what | transfers/s | ratio |")
    print("|---|---:|---:|")
    print(f"| PostgreSQL ledger (lock + validate + journal + balances) | {ledger_rate:,.0f} | "
          f"{ledger_rate / raw_rate:.0%} |")  # fmt: skip
    print(f"| raw COPY (journal rows only) | {raw_rate:,.0f} | 100% |")


if __name__ == "__main__":
    main()
