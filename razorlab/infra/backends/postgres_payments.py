"""The payment gateway's store on PostgreSQL: the same interface and SQL, many gateway processes.

Scenario: :class:`~razorlab.payments.store.PaymentStore` keeps merchants, payments, refunds,
orders, idempotency keys and the webhook outbox in a SQLite file that one process owns. To
run several gateway processes (and several webhook dispatchers) against one database, this
store keeps the same tables in PostgreSQL 15; ``Gateway.open("postgresql://…")`` opens it.

Design note
-----------
* **Same store, other storage.** It subclasses ``PaymentStore``: every query and every
  conditional update is the SQLite store's own (and the gateway's, idempotency's and the
  webhooks' SQL), written with ``?`` placeholders; :func:`postgres_sql` turns them into
  ``$1, $2, …`` once per statement text (cached). Only running SQL is replaced:
  :meth:`~PostgresPaymentStore.transaction`, ``fetchall``, ``write_returning``,
  ``interactive_transaction``, ``open`` and ``close``. The schema is the SQLite one in
  PostgreSQL's types (``BIGINT`` paise, ``DOUBLE PRECISION`` times, a ``BIGSERIAL`` outbox
  id), with the same columns in the same order, constraints and unique indexes.
* **Invariants, the same way.** A transaction is a :class:`~razorlab.payments.store.Batch`
  queued in an ``async with`` block and run on exit in one READ COMMITTED transaction on a
  pooled connection; a statement that misses its ``expect_rows`` raises its error and the
  whole batch rolls back. Nothing can be awaited while it is open, so no bank call ever
  holds a row lock. State changes are the same conditional updates (``WHERE status =
  <what I read>``, ``amount_paid + ? <= amount``): a writer racing another blocks on the
  row lock, and when the first commits PostgreSQL re-evaluates the ``WHERE`` against the
  new row version, so the loser updates no row and gets ``ConcurrentUpdate`` (or
  ``OrderAlreadyPaid``) — exactly as with SQLite's one writer. Idempotency claims and
  refund keys are single ``INSERT … ON CONFLICT`` statements, which wait for a concurrent
  inserter of the same key and then see its row.
* **What differs from SQLite.** MVCC and row locks instead of one writer: transactions on
  different rows run in parallel, readers never wait for writers (so no read waits for an
  interactive transaction either). No group commit of our own: each batch commits on its
  own connection and PostgreSQL's WAL flush already groups concurrent commits (its
  ``commit_delay``/``commit_siblings`` tune it). ``only_if_previous_changed`` is honoured by
  the runner from the previous statement's row count, SQLite's ``changes()`` without the
  function. Claims of webhook rows lock with ``FOR UPDATE SKIP LOCKED`` (``CLAIM_LOCK``),
  so dispatchers in several processes take disjoint batches.
* **Durable when acknowledged**, as for the ledger: a batch returns after ``COMMIT``, which
  PostgreSQL acknowledges once its WAL is on disk. An unreachable or restarting server
  raises :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable` (HTTP 503): the
  request is refused, nothing it wanted is half-stored.
* Each store lives in its own schema (``search_path``), so tests can share one database.

Simplifications: no retry of a batch that PostgreSQL aborts as a deadlock (the gateway locks
a payment before its order or refund rows, one order, so none is expected; it would surface
as an error to retry); the idempotency fingerprint key must come from
``$RAZORLAB_FINGERPRINT_KEY`` (every process must share it), where a SQLite server keeps a
key file beside its database. Migration is additive only: a schema made by an older
razorlab gets the columns it lacks (the SQLite store's ``_EXTRA_COLUMNS``, nullable or with a
default), as the SQLite store migrates its file; nothing is ever dropped or retyped.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from razorlab.infra.backends.postgres_conn import (
    PooledStore,
    closing_on_error,
    create_pool,
    required_database_url,
)
from razorlab.payments.store import (
    _EXTRA_COLUMNS,
    _PAYMENTS_BY_ORDER_INDEX,
    _REFUND_KEY_INDEX,
    Batch,
    PaymentStore,
    Statement,
)

__all__ = ["PostgresPaymentStore", "PG_SCHEMA", "DEFAULT_SCHEMA", "postgres_sql"]

DEFAULT_SCHEMA = "razorlab_payments"
PG_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE,
    key_secret_sha256 TEXT NOT NULL, webhook_url TEXT, webhook_secret TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
    amount BIGINT NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, method TEXT NOT NULL,
    method_details TEXT NOT NULL, status TEXT NOT NULL,
    amount_refunded BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded BETWEEN 0 AND amount),
    auto_capture INTEGER NOT NULL, bank_reference TEXT, error_code TEXT,
    error_description TEXT, created_at DOUBLE PRECISION NOT NULL,
    authorized_at DOUBLE PRECISION, captured_at DOUBLE PRECISION, order_id TEXT,
    email TEXT, contact TEXT, notes TEXT, description TEXT, fee BIGINT,
    tax BIGINT);
CREATE INDEX IF NOT EXISTS payments_by_merchant ON payments(merchant_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments(status, created_at);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments(id),
    amount BIGINT NOT NULL CHECK (amount > 0), status TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, merchant_id TEXT,
    speed TEXT NOT NULL DEFAULT 'normal', notes TEXT, receipt TEXT, idem_key TEXT,
    fingerprint TEXT);
CREATE INDEX IF NOT EXISTS refunds_by_payment ON refunds(payment_id, created_at);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
    amount BIGINT NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, receipt TEXT,
    notes TEXT NOT NULL, partial_payment INTEGER NOT NULL, payment_capture INTEGER NOT NULL,
    status TEXT NOT NULL,
    amount_paid BIGINT NOT NULL DEFAULT 0 CHECK (amount_paid BETWEEN 0 AND amount),
    attempts INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_merchant ON orders(merchant_id, created_at);
CREATE TABLE IF NOT EXISTS signing_keys (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id), key_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id BIGSERIAL PRIMARY KEY, merchant_id TEXT NOT NULL, event TEXT NOT NULL,
    body TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    next_attempt_at DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending', last_error TEXT, event_id TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox(merchant_id, state, next_attempt_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    merchant_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    state TEXT NOT NULL, payment_id TEXT, status INTEGER, body TEXT,
    created_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (merchant_id, key));
{_REFUND_KEY_INDEX};
{_PAYMENTS_BY_ORDER_INDEX};
"""
_QUOTED = re.compile(r"('(?:[^']|'')*')")  # a string literal: its '?' are not placeholders


@lru_cache(maxsize=1024)
def postgres_sql(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1, $2, …`` (none inside literals)."""
    numbers = iter(range(1, sql.count("?") + 1))
    parts = _QUOTED.split(sql)
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = re.sub(r"\?", lambda _: f"${next(numbers)}", parts[i])
    return "".join(parts)


def _rowcount(status: str) -> int:
    """Rows a statement changed, from its command tag (``UPDATE 3``, ``INSERT 0 1``)."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


async def _run(conn: Any, statements: list[Statement]) -> list[int]:
    """One batch's statements on ``conn`` (inside its transaction); a miss raises."""
    counts: list[int] = []
    for statement in statements:
        count = 0
        if not statement.skipped(counts[-1] if counts else None):
            count = _rowcount(await conn.execute(postgres_sql(statement.sql), *statement.params))
        counts.append(statement.check(count))
    return counts


class _Interactive:
    """The connection of an interactive transaction, spoken to like aiosqlite's."""

    def __init__(self, conn: Any):
        self._conn = conn

    async def execute(self, sql: str, params: tuple = ()) -> int:
        return _rowcount(await self._conn.execute(postgres_sql(sql), *params))


class PostgresPaymentStore(PooledStore, PaymentStore):
    """``store = await PostgresPaymentStore.open(url)``: the gateway's tables in PostgreSQL."""

    CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: Any, url: str, schema: str):
        self._pool = pool
        self.url = url
        self.schema = schema
        self._key_secrets: OrderedDict[str, str] = OrderedDict()

    @classmethod
    async def open(  # type: ignore[override]
        cls, url: str | None = None, *, schema: str | None = None, pool_size: int = 8
    ) -> PostgresPaymentStore:
        """Connect (``url``, else ``RAZORLAB_DATABASE_URL``) and create the tables if new."""
        url = required_database_url(url)
        schema = schema or DEFAULT_SCHEMA
        pool = await create_pool(url, schema=schema, size=pool_size)
        store = cls(pool, url, schema)
        async with closing_on_error(pool):
            await store._create_tables()
        return store

    async def _create_tables(self) -> None:
        """The schema's tables, unless they exist, and any column a schema made by an older
        razorlab lacks (the SQLite store's ``_EXTRA_COLUMNS``); one creator at a time
        (concurrent ``CREATE … IF NOT EXISTS`` of one table collide)."""
        async with self._connection() as conn:
            if await conn.fetchval("SELECT to_regclass('idempotency_keys')") is not None:
                if not await self._missing_columns(conn):
                    return  # the usual start: nothing to create, no lock taken
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('razorlab-payments'))")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}; {PG_SCHEMA}")
                for table, name, kind in await self._missing_columns(conn):
                    await conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    @staticmethod
    async def _missing_columns(conn: Any) -> list[tuple[str, str, str]]:
        """(table, column, type) of every column this release has and the schema lacks."""
        have = {
            (table, column) for table, column in await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"
            )
        }  # fmt: skip
        return [
            (table, name, kind)
            for table, columns in _EXTRA_COLUMNS.items()
            for name, kind in columns
            if (table, name) not in have
        ]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Batch]:
        """Statements queued in the block run on exit in one PostgreSQL transaction."""
        batch = Batch()
        yield batch
        if batch.statements:
            async with self._connection() as conn:
                if len(batch.statements) == 1:  # one statement is its own transaction:
                    batch.rowcounts = await _run(conn, batch.statements)  # no BEGIN/COMMIT trips
                    return
                async with conn.transaction():
                    batch.rowcounts = await _run(conn, batch.statements)

    @asynccontextmanager
    async def interactive_transaction(self) -> AsyncIterator[_Interactive]:  # type: ignore[override]
        """BEGIN, statements awaited one by one (``await db.execute(sql, params)``), COMMIT.

        As on SQLite, anything may be awaited inside — a bank call then holds the row
        locks and a pooled connection for its whole duration (what seedcheck shows).
        """
        async with self._connection() as conn, conn.transaction():
            yield _Interactive(conn)

    async def fetchall(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one read, committed data only (as tuples, like sqlite3's)."""
        async with self._connection() as conn:
            return [tuple(row) for row in await conn.fetch(postgres_sql(sql), *params)]

    async def write_returning(self, sql: str, params: tuple = ()) -> list[tuple]:
        """One write statement with ``RETURNING``, committed on its own: its rows."""
        return await self.fetchall(sql, params)
