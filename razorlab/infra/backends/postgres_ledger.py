"""The double-entry ledger on PostgreSQL: the same interface and rules, many writers at once.

Scenario: :class:`~razorlab.settlement.ledger.Ledger` keeps its journal in a SQLite file that
one process owns. A fleet of settlement workers needs one ledger they all write; this one keeps
the same tables in PostgreSQL 15 and is safe with any number of connections and processes.

Design note
-----------
* **Same engine, other storage.** It subclasses ``Ledger``: batches, linked chains, results and
  errors are the SQLite ledger's own code, and every rule is applied by the in-memory
  ``Batch`` (and its numpy fast path). Only loading, writing and reading are PostgreSQL's.
* **Row locks instead of one owner.** A batch runs in one READ COMMITTED transaction: it locks
  the pending transfers it resolves (and every expired one) with ``SELECT … FOR UPDATE``, reads
  the journal rows it refers to (immutable, so unlocked), then locks its accounts with
  ``SELECT … ORDER BY id FOR UPDATE``; the batch is applied against those rows, which nobody
  can change until COMMIT. Locks are taken in one global order — pendings by id, then accounts
  by id — so two batches cannot deadlock on them. (The same account lock is how a relational
  ledger serialises money movement on one account; TigerBeetle instead runs one writer.)
* **Journal in one COPY.** The batch's journal rows go in with ``COPY``, the pending states
  and counters with one ``unnest`` statement each: three reads and three writes per batch,
  whether it holds one transfer or 8,190.
* **Idempotent under races.** Every transfer id of a batch is looked up before applying. Two
  writers sending the same new id at once both miss it; the second one's insert waits for the
  first to commit and then fails on the UNIQUE index, and the whole batch is retried — now the
  id is found and reported ``exists``. A deadlock (possible only between batches inserting the
  same new ids in different orders) is retried the same way.
* **Immutable journal.** Triggers refuse UPDATE, DELETE and TRUNCATE on ``transfers``.
* **Durable when acknowledged.** ``create_transfers`` returns after COMMIT, which PostgreSQL
  (``fsync`` and ``synchronous_commit`` on, the defaults) acknowledges once the write-ahead log
  is on disk, so a server crash or restart loses no acknowledged transfer. If the connection
  drops around COMMIT the caller gets :class:`BackendUnavailable` and cannot know whether the
  batch landed: retrying with the same ids is safe (they come back ``exists``).
* **Order.** ``journal()`` is in ``seq`` order, taken from an identity column at insert time;
  with concurrent writers that can differ slightly from commit order (a simplification: the
  SQLite ledger has one writer, so there the two are the same).
* Each ledger lives in its own schema (``search_path``), so tests can share one database.
* ``Ledger``'s SQLite helpers (``_load``, ``_attempt``, ``_write``) are inherited but unused:
  ``_in_transaction``, the one method ``create_transfers`` and ``expire_pending`` call for
  storage, is replaced. So are the hooks the shared code calls: ``_insert_account`` (under
  ``create_account``'s checks), ``_journal_counters`` (under ``verify``) and ``_fetch``
  (under ``totals`` and ``balance_at``, whose SQL is written with ``_PARAMETER``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from razorlab.clock import Clock, SystemClock
from razorlab.infra.backends.postgres_conn import (
    PooledStore,
    closing_on_error,
    create_pool,
    required_database_url,
    retryable_errors,
)
from razorlab.settlement.accounts import (
    Account,
    AccountNotFound,
    Transfer,
    TransferResult,
)
from razorlab.settlement.batch import NOT_POSTED, PENDING, TWO_PHASE, Batch, Row
from razorlab.settlement.ledger import (
    JOURNAL_COLUMNS,
    Ledger,
    account_from_row,
    accounts_touched,
    transfer_from_row,
)

__all__ = ["PostgresLedger", "PG_SCHEMA", "DEFAULT_SCHEMA", "JOURNAL_COLUMNS"]

DEFAULT_SCHEMA = "razorlab_ledger"
RETRIES = 5  # attempts of a batch that lost a race for a new id or hit a deadlock
PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, currency TEXT NOT NULL, ledger INTEGER NOT NULL,
    flags INTEGER NOT NULL, debits_pending BIGINT NOT NULL, debits_posted BIGINT NOT NULL,
    credits_pending BIGINT NOT NULL, credits_posted BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    debit_account TEXT NOT NULL, credit_account TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, ledger INTEGER NOT NULL,
    flags INTEGER NOT NULL, pending_id TEXT NOT NULL, timeout_s DOUBLE PRECISION NOT NULL,
    code TEXT NOT NULL, timestamp DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS pendings (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, expires_at DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS pendings_expiry ON pendings (status, expires_at);
CREATE OR REPLACE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'the journal is append-only'; END $$;
CREATE OR REPLACE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE OR REPLACE TRIGGER journal_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
"""
_COLUMNS = ", ".join(JOURNAL_COLUMNS)
_LOCK_PENDINGS = (
    "SELECT id, status, expires_at FROM pendings WHERE id = ANY($1::text[]) "
    "OR (status = 'pending' AND expires_at <= $2) ORDER BY id FOR UPDATE"
)
_LOCK_ACCOUNTS = "SELECT * FROM accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE"
_STORED = f"SELECT {_COLUMNS} FROM transfers WHERE id = ANY($1::text[])"
_WRITE_PENDINGS = (
    "INSERT INTO pendings SELECT * FROM unnest($1::text[], $2::text[], $3::float8[]) "
    "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, expires_at = EXCLUDED.expires_at"
)
_WRITE_COUNTERS = (
    "UPDATE accounts AS a SET debits_pending = u.dp, debits_posted = u.dpo, "
    "credits_pending = u.cp, credits_posted = u.cpo FROM unnest($1::text[], $2::int8[], "
    "$3::int8[], $4::int8[], $5::int8[]) AS u(id, dp, dpo, cp, cpo) WHERE a.id = u.id"
)
# Counters re-derived from the journal, per account: pending (still open) and posted amounts.
_DERIVED = """
SELECT a, COALESCE(SUM(amount) FILTER (WHERE side = 'd' AND open), 0),
       COALESCE(SUM(amount) FILTER (WHERE side = 'd' AND posted), 0),
       COALESCE(SUM(amount) FILTER (WHERE side = 'c' AND open), 0),
       COALESCE(SUM(amount) FILTER (WHERE side = 'c' AND posted), 0)
FROM (SELECT s.side, CASE s.side WHEN 'd' THEN t.debit_account ELSE t.credit_account END AS a,
             t.amount, p.status IS NOT DISTINCT FROM 'pending' AS open,
             (t.flags & $1) = 0 AS posted
      FROM transfers t LEFT JOIN pendings p ON p.id = t.id
      CROSS JOIN (VALUES ('d'), ('c')) AS s(side)) j
GROUP BY a
"""


def _strings(values: Iterable[object]) -> list[str]:
    return sorted({v for v in values if isinstance(v, str) and v})


class PostgresLedger(PooledStore, Ledger):
    """``ledger = await PostgresLedger.open(url, clock=clock)``: the ledger, in PostgreSQL."""

    _PARAMETER = "$"  # $1, $2, … (for the SQL ``Ledger`` shares, such as ``balance_at``'s)

    def __init__(self, pool: Any, clock: Clock, url: str, schema: str):
        self._pool = pool
        self.clock = clock
        self.url = url
        self.schema = schema
        self.retries = 0  # batches run again after losing a race for a new id, or a deadlock

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        schema: str = DEFAULT_SCHEMA,
        pool_size: int = 4,
    ) -> PostgresLedger:
        """Connect (``url``, else ``RAZORLAB_DATABASE_URL``) and create the tables if new."""
        url = required_database_url(url)
        pool = await create_pool(url, schema=schema, size=pool_size)
        ledger = cls(pool, clock or SystemClock(), url, schema)
        async with closing_on_error(pool):
            await ledger._create_tables()
        return ledger

    async def _create_tables(self) -> None:
        """The schema's tables and triggers, unless they exist (replacing a trigger would lock
        out writers); one creator at a time, as concurrent ``CREATE … IF NOT EXISTS`` collide."""
        async with self._connection() as conn:
            if await conn.fetchval("SELECT to_regclass('transfers')") is not None:
                return
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('razorlab-ledger'))")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}; {PG_SCHEMA}")

    async def _query(self, sql: str, *args: Any) -> list:
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)

    async def _fetch(self, sql: str, params: Sequence = ()) -> list:
        return await self._query(sql, *params)

    # ----- accounts -------------------------------------------------------------------------
    async def _insert_account(self, wanted: Account) -> Account:
        """Store ``wanted`` unless its id is taken; the account stored under that id."""
        await self._query(
            "INSERT INTO accounts VALUES ($1,$2,$3,$4,$5,0,0,0,0) ON CONFLICT (id) DO NOTHING",
            wanted.id, wanted.kind, wanted.currency, wanted.ledger, int(wanted.flags),
        )  # fmt: skip
        return await self.account(wanted.id)

    async def account(self, account_id: str) -> Account:
        rows = []
        if isinstance(account_id, str):
            rows = await self._query("SELECT * FROM accounts WHERE id = $1", account_id)
        if not rows:
            raise AccountNotFound(f"no account {account_id!r}", field="account_id")
        return account_from_row(rows[0])

    async def accounts(self) -> list[Account]:
        return [
            account_from_row(r) for r in await self._query("SELECT * FROM accounts ORDER BY id")
        ]

    # ----- one batch: lock, apply with Batch, write -----------------------------------------
    async def _in_transaction(
        self, transfers: Sequence[Transfer], apply: Callable[[Batch], list[TransferResult]]
    ) -> tuple[Batch, list[TransferResult]]:
        """Lock what the batch touches, apply it in memory, write it: one transaction.

        Retried from the start if it lost a race to insert a new id or hit a deadlock.
        """
        retry = retryable_errors()
        for _ in range(RETRIES - 1):
            try:
                return await self._run_batch(transfers, apply)
            except retry:
                self.retries += 1
        return await self._run_batch(transfers, apply)

    async def _run_batch(
        self, transfers: Sequence[Transfer], apply: Callable[[Batch], list[TransferResult]]
    ) -> tuple[Batch, list[TransferResult]]:
        async with self._connection() as conn, conn.transaction():
            batch = await self._lock_and_load(conn, transfers)
            results = apply(batch)
            await self._write_batch(conn, batch)
        return batch, results

    async def _lock_and_load(self, conn: Any, transfers: Sequence[Transfer]) -> Batch:
        now = self.clock.now()
        pending_ids = _strings(t.pending_id for t in transfers)
        locked = await conn.fetch(_LOCK_PENDINGS, pending_ids, now)
        pendings = {r[0]: [r[1], r[2]] for r in locked}
        expired = [r[0] for r in locked if r[1] == "pending" and r[2] is not None and r[2] <= now]
        wanted = _strings([*(t.id for t in transfers), *pending_ids, *expired])
        stored = {r[0]: Row(*r) for r in await conn.fetch(_STORED, wanted)}
        account_ids = _strings(accounts_touched(transfers, stored))
        rows = await conn.fetch(_LOCK_ACCOUNTS, account_ids)
        batch = Batch(now, {r[0]: list(r[1:]) for r in rows}, stored, pendings)
        for pending_id in expired:
            batch.expire(pending_id)
        return batch

    async def _write_batch(self, conn: Any, batch: Batch) -> None:
        rows = list(batch.rows())
        if rows:
            await conn.copy_records_to_table("transfers", records=rows, columns=JOURNAL_COLUMNS)
        changed = {t.pending_id or t.id for t in batch.new if t.flags & (PENDING | TWO_PHASE)}
        changed &= batch.pendings.keys()
        if changed:
            states = [(i, *batch.pendings[i]) for i in sorted(changed)]
            await conn.execute(_WRITE_PENDINGS, *map(list, zip(*states, strict=True)))
        if batch.touched:
            counters = [(a, *batch.accounts[a][4:8]) for a in sorted(batch.touched)]
            await conn.execute(_WRITE_COUNTERS, *map(list, zip(*counters, strict=True)))

    # ----- reading the journal --------------------------------------------------------------
    async def journal(
        self, *, account_id: str | None = None, ids: Sequence[str] | None = None
    ) -> list[Transfer]:
        """Journalled transfers in ``seq`` order (optionally of one account or some ids)."""
        sql, args = f"SELECT {_COLUMNS} FROM transfers", []
        if ids is not None:
            sql, args = sql + " WHERE id = ANY($1::text[])", [_strings(ids)]
        elif account_id is not None:
            sql, args = sql + " WHERE debit_account = $1 OR credit_account = $1", [account_id]
        return [transfer_from_row(r) for r in await self._query(sql + " ORDER BY seq", *args)]

    async def _journal_counters(self) -> dict[str, list[int]]:
        """Per account, the four counters re-derived from the journal, in one query."""
        return {r[0]: [int(v) for v in r[1:]] for r in await self._query(_DERIVED, NOT_POSTED)}
