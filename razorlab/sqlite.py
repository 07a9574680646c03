"""How every engine opens and writes SQLite: aiosqlite, WAL, short explicit transactions.

Why these settings: WAL lets readers proceed while one writer commits;
``synchronous=NORMAL`` under WAL is durable across application crashes (only an OS
crash can lose the last commits) and far faster than FULL; foreign keys are off by
default in SQLite and must be switched on per connection. Connections run in
autocommit mode (``isolation_level=None``) so a transaction exists only where the
code says ``BEGIN`` — never accidentally across an await on something slow, such as
a bank call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

__all__ = ["open_database", "write_transaction"]

BUSY_TIMEOUT_MS = 5_000  # how long a writer waits for another process's lock


async def open_database(path: str | Path = ":memory:", schema: str = "") -> aiosqlite.Connection:
    """Open (creating if needed) a database and apply ``schema`` (idempotent DDL)."""
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute("PRAGMA foreign_keys=ON")
    await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if schema:
        await db.executescript(schema)
    return db


@asynccontextmanager
async def write_transaction(
    db: aiosqlite.Connection, lock: asyncio.Lock | None
) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception.

    One aiosqlite connection runs one statement at a time, but coroutines could
    interleave statements of different transactions between awaits; ``lock`` (one
    per connection) makes each transaction exclusive within the process. Pass
    ``None`` when the caller already holds that lock (e.g. it read before writing).
    """
    async with lock or contextlib.nullcontext():
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
