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
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from razorlab.batching import Coalescer, Outcome

__all__ = ["open_database", "write_transaction", "GroupCommitter", "GroupReader", "Work"]

_T = TypeVar("_T")
#: One transaction's work: runs on the database thread, so it cannot await anything.
Work = Callable[[sqlite3.Connection], _T]

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


def _apply_group(conn: sqlite3.Connection, works: list[Work[Any]]) -> list[Outcome]:
    """Run many transactions under one COMMIT, each isolated by a savepoint.

    Runs on aiosqlite's worker thread. A work that raises is rolled back to its savepoint
    alone; the others still commit. Returns ``(ok, result or exception)`` per work.
    """
    conn.execute("BEGIN IMMEDIATE")
    results: list[Outcome] = []
    try:
        for work in works:
            conn.execute("SAVEPOINT work")
            try:
                results.append((True, work(conn)))
            except Exception as exc:  # this work only: undo it, keep the others
                conn.execute("ROLLBACK TO work")
                results.append((False, exc))
            conn.execute("RELEASE work")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return results


def _apply_each(conn: sqlite3.Connection, works: list[Work[Any]]) -> list[Outcome]:
    """Run many reads one after another (database thread); each failure is its own."""
    results: list[Outcome] = []
    for work in works:
        try:
            results.append((True, work(conn)))
        except Exception as exc:  # noqa: BLE001 - this read's caller gets it
            results.append((False, exc))
    return results


class _ThreadHop(Coalescer[Work[Any], Any]):
    """Works queued while a batch runs go to the database thread together, in one call."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        apply: Callable[[sqlite3.Connection, list[Work[Any]]], list[Outcome]],
        lock: asyncio.Lock | None = None,
    ):
        super().__init__(self._hop, lock=lock)
        self.db, self._apply = db, apply

    async def run(self, work: Work[_T]) -> _T:
        """Run ``work`` in the next batch; returns its result or raises its error."""
        return await self.submit(work)

    async def _hop(self, works: list[Work[Any]]) -> list[Outcome]:
        # aiosqlite runs each call as a function on its worker thread; we hand it one
        # function for the whole batch (its internal _execute).
        return await self.db._execute(self._apply, self.db._conn, works)


class GroupCommitter(_ThreadHop):
    """Group commit: concurrent write transactions share one ``COMMIT``.

    Each caller hands :meth:`run` its transaction as a plain function of a ``sqlite3``
    connection; transactions that arrive while a group is being written go out together
    in the next (:class:`~razorlab.batching.Coalescer`): one thread hop and one commit (one
    fsync with ``synchronous=FULL``) for many transactions, each still atomic on its own —
    how MySQL and PostgreSQL keep up with many small concurrent writes. Because the work
    runs on the database thread, nothing slow (a bank call, a network send) can be
    awaited while its transaction is open. ``lock`` is the connection's write lock,
    shared with any interactive :func:`write_transaction` on the same connection.
    """

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock):
        super().__init__(db, _apply_group, lock)


class GroupReader(_ThreadHop):
    """Concurrent reads share one hop to the database thread (no transaction, no lock).

    Each read is a plain function of a ``sqlite3`` connection, as for
    :class:`GroupCommitter`; reads that arrive while a batch runs go out together in the
    next. A hop costs a thread handoff (and the GIL back) however small the query, so a
    server that wakes many readers at once pays once instead of once per reader.
    """

    def __init__(self, db: aiosqlite.Connection):
        super().__init__(db, _apply_each)
