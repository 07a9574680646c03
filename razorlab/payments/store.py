"""Durable state on SQLite: merchants, orders, payments, refunds, the outbox, idempotency keys.

Scenario: the gateway must survive a crash at any instant without charging twice or
forgetting a charge. The store is where that is decided. Every write happens inside
:meth:`PaymentStore.transaction`, a short ``BEGIN IMMEDIATE … COMMIT`` that *never*
spans a call to the bank: the gateway persists its intent, commits, calls the bank,
then persists the result in a second transaction. A transaction held open across a
50 ms bank call would hold SQLite's single write lock (or a row lock in MySQL, or a
pooled connection) for those 50 ms — at 1M TPS that is 50,000 open transactions.

Design note: one aiosqlite connection runs statements on its own thread, one at a
time; an ``asyncio.Lock`` makes each transaction exclusive among coroutines, because
two coroutines interleaving statements on one connection would share a transaction
without knowing it. A transaction is a *batch*: the ``async with`` block queues its
statements and they run together on the database thread, so a transaction costs one
thread hop instead of one per statement, and — by construction — nothing can be
awaited while it is open. Batches that queue up while a group is being written go
into the next group: one ``COMMIT`` (and, with ``synchronous=FULL``, one fsync) for
many transactions, each isolated by a savepoint — the *group commit* of MySQL and
PostgreSQL, which is how a database keeps up with many small concurrent writes. WAL journal mode lets a file database's readers proceed during a
write. State changes are *conditional* updates (``WHERE status = <what I read>``), so
two racing writers cannot both win: the loser gets a :class:`ConcurrentUpdate`.

Orders (:mod:`razorlab.payments.orders`) follow the same rule: a payment's attempt or
capture moves its order in the *same* transaction, by a conditional update that refuses
to push ``amount_paid`` past ``amount`` — so no interleaving can overpay an order.
The merchant's key secret is kept twice: hashed (``merchants``), to authenticate API
calls, and as issued (``signing_keys``), because checkout signs ``order_id|payment_id``
with it (HMAC needs the key itself). Razorpay too must hold it recoverably; a real system keeps that copy in a KMS
or HSM — the teaching database stores it plainly, a stated simplification.

The same interface on PostgreSQL, for several gateway processes, is
:mod:`razorlab.infra.backends.postgres_payments`; so the SQL here (and in the gateway,
idempotency and webhooks modules) is portable: ``?`` placeholders, ``ON CONFLICT``, and
the ``Batch`` flag ``only_if_previous_changed`` where SQLite alone would say ``changes()``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import aiosqlite

from razorlab.errors import ConflictError
from razorlab.money import Money
from razorlab.payments.orders import ORDER_COLUMNS, Order, OrderAlreadyPaid, order_from_row
from razorlab.payments.payment import Payment, PaymentStatus
from razorlab.sqlite import GroupCommitter, open_database

__all__ = ["PaymentStore", "Merchant", "Batch", "Statement", "ConcurrentUpdate", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE,
    key_secret_sha256 TEXT NOT NULL, webhook_url TEXT, webhook_secret TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
    amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, method TEXT NOT NULL,
    method_details TEXT NOT NULL, status TEXT NOT NULL,
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded BETWEEN 0 AND amount),
    auto_capture INTEGER NOT NULL, bank_reference TEXT, error_code TEXT,
    error_description TEXT, created_at REAL NOT NULL, authorized_at REAL, captured_at REAL);
CREATE INDEX IF NOT EXISTS payments_by_merchant ON payments(merchant_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments(status, created_at);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments(id),
    amount INTEGER NOT NULL CHECK (amount > 0), status TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_by_payment ON refunds(payment_id, created_at);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
    amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, receipt TEXT,
    notes TEXT NOT NULL, partial_payment INTEGER NOT NULL, payment_capture INTEGER NOT NULL,
    status TEXT NOT NULL,
    amount_paid INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid BETWEEN 0 AND amount),
    attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_merchant ON orders(merchant_id, created_at);
CREATE TABLE IF NOT EXISTS signing_keys (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id), key_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, merchant_id TEXT NOT NULL, event TEXT NOT NULL,
    body TEXT NOT NULL, created_at REAL NOT NULL, next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox(merchant_id, state, next_attempt_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    merchant_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    state TEXT NOT NULL, payment_id TEXT, status INTEGER, body TEXT,
    created_at REAL NOT NULL, PRIMARY KEY (merchant_id, key));
"""

#: Columns added after the first release: table -> (name, type). ``open`` adds any a file lacks.
_EXTRA_COLUMNS = {
    "refunds": (
        ("merchant_id", "TEXT"), ("speed", "TEXT NOT NULL DEFAULT 'normal'"), ("notes", "TEXT"),
        ("receipt", "TEXT"), ("idem_key", "TEXT"), ("fingerprint", "TEXT"),
    ),
    "payments": (
        ("order_id", "TEXT"), ("email", "TEXT"), ("contact", "TEXT"),
        ("notes", "TEXT"), ("description", "TEXT"), ("fee", "INTEGER"), ("tax", "INTEGER"),
    ),
    "outbox": (("event_id", "TEXT"),),
}  # fmt: skip
_PAYMENTS_BY_ORDER_INDEX = (
    "CREATE INDEX IF NOT EXISTS payments_by_order ON payments(order_id, created_at) "
    "WHERE order_id IS NOT NULL"
)
#: One refund per (merchant, X-Refund-Idempotency key): the database enforces the replay rule.
_REFUND_KEY_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS refunds_by_key ON refunds(merchant_id, idem_key) "
    "WHERE idem_key IS NOT NULL"
)
_REFUND_SELECT = (
    "SELECT r.id, r.payment_id, r.amount, p.currency, r.status, r.speed, r.notes, r.receipt, "
    "r.created_at, r.fingerprint FROM refunds r JOIN payments p ON p.id = r.payment_id "
)

_PAYMENT_COLUMNS = (
    "id, merchant_id, amount, currency, method, method_details, status, amount_refunded, "
    "auto_capture, bank_reference, error_code, error_description, created_at, authorized_at, "
    "captured_at, order_id, email, contact, notes, description, fee, tax"
)


_UPDATE_SQL = (
    "UPDATE payments SET (status, amount_refunded, bank_reference, error_code, "
    "error_description, authorized_at, captured_at, fee, tax) = (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "WHERE id = ? AND status = ? AND amount_refunded = ?"
)


KEY_SECRET_MEMO = 10_000  # merchants' signing keys remembered in-process


class ConcurrentUpdate(ConflictError):
    """Someone else changed the payment between our read and our write; retry the request."""

    code = "CONCURRENT_UPDATE"


class Statement(NamedTuple):
    """One queued statement of a :class:`Batch`."""

    sql: str
    params: tuple
    expect_rows: int | None = None
    error: Exception | None = None
    only_if_previous_changed: bool = False

    def skipped(self, previous_count: int | None) -> bool:
        """True if this statement is not to run: the one before it (if any) changed nothing."""
        return self.only_if_previous_changed and previous_count == 0

    def check(self, count: int) -> int:
        """``count`` if it is what the statement expects; else raise its error (rolls back)."""
        if self.expect_rows is not None and count != self.expect_rows:
            raise self.error or ConflictError(f"expected {self.expect_rows} rows, got {count}")
        return count


@dataclass
class Batch:
    """The statements of one transaction; ``rowcounts`` is filled in after it commits."""

    statements: list[Statement] = field(default_factory=list)
    rowcounts: list[int] = field(default_factory=list)

    async def execute(
        self, sql: str, params: tuple = (), *, expect_rows: int | None = None,
        error: Exception | None = None, only_if_previous_changed: bool = False,
    ) -> None:  # fmt: skip
        """Queue ``sql``; if ``expect_rows`` is set and differs, roll back and raise ``error``.

        ``only_if_previous_changed``: run it only if the statement queued just before it
        changed a row (a skipped statement changed none) — SQLite's ``changes()``, said in a
        way every store's runner honours.
        """
        self.statements.append(Statement(sql, params, expect_rows, error, only_if_previous_changed))


def _run_statements(statements: list[Statement], conn: sqlite3.Connection) -> list[int]:
    """One batch's statements, on the database thread; a missed row count raises (rolls back)."""
    counts: list[int] = []
    for statement in statements:
        skip = statement.skipped(counts[-1] if counts else None)
        count = 0 if skip else conn.execute(statement.sql, statement.params).rowcount
        counts.append(statement.check(count))
    return counts


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    key_id: str
    webhook_secret: str
    webhook_url: str | None = None


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row_to_payment(row: tuple) -> Payment:
    return Payment(
        id=row[0],
        merchant_id=row[1],
        amount=Money(row[2], row[3]),
        method=row[4],
        method_details=tuple(tuple(pair) for pair in json.loads(row[5])),
        status=PaymentStatus(row[6]),
        amount_refunded=row[7],
        auto_capture=bool(row[8]),
        bank_reference=row[9],
        error_code=row[10],
        error_description=row[11],
        created_at=row[12],
        authorized_at=row[13],
        captured_at=row[14],
        order_id=row[15],
        email=row[16],
        contact=row[17],
        notes=tuple(json.loads(row[18]).items()) if row[18] else (),
        description=row[19],
        fee=row[20],
        tax=row[21],
    )


def _payment_values(p: Payment) -> tuple:
    return (
        p.id, p.merchant_id, p.amount.paise, p.currency, p.method,
        json.dumps([list(pair) for pair in p.method_details]), p.status.value,
        p.amount_refunded, int(p.auto_capture), p.bank_reference, p.error_code,
        p.error_description, p.created_at, p.authorized_at, p.captured_at, p.order_id,
        p.email, p.contact, json.dumps(dict(p.notes)), p.description, p.fee, p.tax,
    )  # fmt: skip


class PaymentStore:
    """All SQL of the gateway. Open with ``await PaymentStore.open(path)``; ``await close()``."""

    #: ``when`` of :meth:`add_event_tx`: always write the event.
    ALWAYS: tuple[str, tuple] = ("1", ())
    #: ``when`` of :meth:`add_event_tx`: only if the statement queued just before changed a row.
    PREVIOUS_CHANGED: tuple[str, tuple] = ("the previous statement changed a row", ())
    #: Appended to the subquery of a claim (:meth:`write_returning`) that picks the rows to
    #: take: nothing here, as SQLite has one writer; PostgreSQL's store skips locked rows.
    CLAIM_LOCK = ""

    def __init__(self, db: aiosqlite.Connection):
        self.db = db
        self._lock = asyncio.Lock()
        self.committer = GroupCommitter(db, self._lock)
        self._interactive = False  # an interactive transaction is open (reads must wait)
        self._key_secrets: OrderedDict[str, str] = OrderedDict()  # rows never change: memo

    @classmethod
    async def open(cls, path: str = ":memory:") -> PaymentStore:
        db = await open_database(path, SCHEMA)
        for table, columns in _EXTRA_COLUMNS.items():  # a file from an older razorlab: migrate
            have = {row[1] for row in await db.execute_fetchall(f"PRAGMA table_info({table})")}
            for name, kind in columns:
                if name not in have:
                    await db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        await db.execute(_REFUND_KEY_INDEX)
        await db.execute(_PAYMENTS_BY_ORDER_INDEX)
        return cls(db)

    async def close(self) -> None:
        await self.committer.drain()
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Batch]:
        """A short write transaction: statements queued in the block commit together.

        The block only *queues* statements; on exit they run as one atomic unit on
        aiosqlite's worker thread and roll back together if any fails or misses its
        expected row count. Because nothing in the block can await the database, nothing
        in it can await a bank either. Transactions that arrive while another group is
        being written are committed together in the next group (group commit).
        """
        batch = Batch()
        yield batch
        if batch.statements:
            batch.rowcounts = await self.committer.run(partial(_run_statements, batch.statements))

    @asynccontextmanager
    async def interactive_transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A classic transaction: BEGIN, statements awaited one by one, COMMIT.

        Anything may be awaited inside — including, wrongly, a bank call, which then holds
        the write lock for its whole duration. The gateway never uses this; it exists for
        :mod:`razorlab.payments.seedcheck` to show what that costs.
        """
        async with self._lock:
            self._interactive = True
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                await self.db.execute("COMMIT")
            finally:
                self._interactive = False

    async def write_returning(self, sql: str, params: tuple = ()) -> list[tuple]:
        """One write statement with a ``RETURNING`` clause, committed on its own: its rows.

        A *claim* (``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING …``) is one: it
        runs in the next group commit, so with SQLite's single writer no other claim
        can see the rows between its read and its write.
        """
        return await self.committer.run(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: tuple = ()) -> tuple | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one read, committed data only.

        A read takes no lock: the connection's thread runs calls in the order they were
        queued, and a group commit is one call, so a read lands before or after a group,
        never inside it. Holding the write lock instead would queue every read behind
        the committer, which keeps the lock while writes keep coming, and run reads one
        thread hop at a time. Only an interactive transaction spans several calls; while
        one is open, reads wait for it (else they would see its uncommitted rows).
        """
        if self._interactive:
            async with self._lock:
                return list(await self.db.execute_fetchall(sql, params))
        return list(await self.db.execute_fetchall(sql, params))

    # ----- merchants ---------------------------------------------------------------------
    async def add_merchant(self, merchant: Merchant, key_secret: str, now: float) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO merchants VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    merchant.id, merchant.name, merchant.key_id, _hash_secret(key_secret),
                    merchant.webhook_url, merchant.webhook_secret, now,
                ),
            )  # fmt: skip
            await db.execute("INSERT INTO signing_keys VALUES (?, ?)", (merchant.id, key_secret))

    async def authenticate(self, key_id: str, key_secret: str) -> Merchant | None:
        """The merchant owning this key pair, or ``None`` (compared in constant time)."""
        row = await self.fetchone(
            "SELECT id, name, key_id, webhook_secret, webhook_url, key_secret_sha256 "
            "FROM merchants WHERE key_id = ?",
            (key_id,),
        )
        if row is None or not hmac.compare_digest(row[5], _hash_secret(key_secret)):
            return None
        return Merchant(*row[:5])

    async def merchant(self, merchant_id: str) -> Merchant | None:
        row = await self.fetchone(
            "SELECT id, name, key_id, webhook_secret, webhook_url FROM merchants WHERE id = ?",
            (merchant_id,),
        )
        return Merchant(*row) if row else None

    async def merchant_by_key_id(self, key_id: str) -> Merchant | None:
        """The merchant owning a (public) key id: how Checkout.js identifies a merchant."""
        row = await self.fetchone(
            "SELECT id, name, key_id, webhook_secret, webhook_url FROM merchants WHERE key_id = ?",
            (key_id,),
        )
        return Merchant(*row) if row else None

    async def key_secret(self, merchant_id: str) -> str | None:
        """The merchant's key secret as issued (``None`` for merchants from older files).

        Remembered in-process (at most :data:`KEY_SECRET_MEMO` merchants): a signing key
        row is written once with its merchant and never changed, so checkout signs
        without a database read per payment.
        """
        secret = self._key_secrets.get(merchant_id)
        if secret is None:
            row = await self.fetchone(
                "SELECT key_secret FROM signing_keys WHERE merchant_id = ?", (merchant_id,)
            )
            if row is None:
                return None
            secret = self._key_secrets[merchant_id] = row[0]
            if len(self._key_secrets) > KEY_SECRET_MEMO:
                self._key_secrets.popitem(last=False)
        return secret

    # ----- payments (the *_tx methods run inside a caller's transaction) ------------------
    @staticmethod
    def insert_payment_sql(p: Payment) -> tuple[str, tuple]:
        values = _payment_values(p)
        sql = f"INSERT INTO payments ({_PAYMENT_COLUMNS}) VALUES ({', '.join('?' * len(values))})"
        return sql, values

    @staticmethod
    def update_payment_sql(old: Payment, new: Payment) -> tuple[str, tuple]:
        """A conditional update: it changes a row only if the row still says what ``old`` says.

        Only the columns a transition can change are written. Naming an indexed column
        in ``SET`` makes SQLite rewrite that index entry even when the value is the
        same, so leaving ``merchant_id`` and ``created_at`` out spares an index write.
        (Transitions in :mod:`razorlab.payments.payment` never change the other columns.)
        """
        return _UPDATE_SQL, (
            new.status.value, new.amount_refunded, new.bank_reference, new.error_code,
            new.error_description, new.authorized_at, new.captured_at, new.fee, new.tax,
            old.id, old.status.value, old.amount_refunded,
        )  # fmt: skip

    @classmethod
    async def insert_payment_tx(cls, db: Batch, p: Payment) -> None:
        await db.execute(*cls.insert_payment_sql(p))

    @classmethod
    async def update_payment_tx(cls, db: Batch, old: Payment, new: Payment) -> None:
        """Write ``new`` only if the row still says what ``old`` says (optimistic check)."""
        await db.execute(
            *cls.update_payment_sql(old, new),
            expect_rows=1,
            error=ConcurrentUpdate(
                f"payment {old.id} changed while this request ran; retry", field="id"
            ),
        )

    async def payment(self, payment_id: str) -> Payment | None:
        row = await self.fetchone(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = ?", (payment_id,)
        )
        return _row_to_payment(row) if row else None

    async def payments_of(
        self, merchant_id: str, *, since: float, until: float, count: int, skip: int
    ) -> list[Payment]:
        """A merchant's payments created in [since, until], newest first."""
        rows = await self.fetchall(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE merchant_id = ? "
            "AND created_at BETWEEN ? AND ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (merchant_id, since, until, count, skip),
        )
        return [_row_to_payment(r) for r in rows]

    async def payments_of_order(self, order_id: str) -> list[Payment]:
        """An order's payments, oldest first (the order's history of attempts)."""
        rows = await self.fetchall(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = ? ORDER BY created_at, id",
            (order_id,),
        )
        return [_row_to_payment(r) for r in rows]

    async def payments_in(self, status: PaymentStatus, *, before: float) -> list[Payment]:
        """Payments in ``status`` whose relevant timestamp is before ``before`` (oldest first)."""
        column = "authorized_at" if status is PaymentStatus.AUTHORIZED else "created_at"
        rows = await self.fetchall(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE status = ? AND {column} < ? "
            f"ORDER BY {column}, id",
            (status.value, before),
        )
        return [_row_to_payment(r) for r in rows]

    async def failed_with(self, error_code: str, *, since: float) -> list[Payment]:
        """Failed payments with ``error_code`` created at or after ``since`` (oldest first)."""
        rows = await self.fetchall(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE status = 'failed' "
            "AND error_code = ? AND created_at >= ? ORDER BY created_at, id",
            (error_code, since),
        )
        return [_row_to_payment(r) for r in rows]

    async def count_payments(self) -> int:
        row = await self.fetchone("SELECT COUNT(*) FROM payments")
        return int(row[0]) if row else 0

    # ----- orders ------------------------------------------------------------------------
    async def insert_order(self, order: Order) -> None:
        async with self.transaction() as db:
            await db.execute(
                f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                order.row(),
            )

    async def order(self, order_id: str) -> Order | None:
        row = await self.fetchone(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        return order_from_row(row) if row else None

    async def orders_of(
        self, merchant_id: str, *, since: float, until: float, count: int, skip: int
    ) -> list[Order]:
        """A merchant's orders created in [since, until], newest first."""
        rows = await self.fetchall(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE merchant_id = ? "
            "AND created_at BETWEEN ? AND ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (merchant_id, since, until, count, skip),
        )
        return [order_from_row(r) for r in rows]

    async def set_order_notes(self, order_id: str, notes: dict) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE orders SET notes = ? WHERE id = ?",
                             (json.dumps(notes), order_id))  # fmt: skip

    @staticmethod
    async def order_attempt_tx(db: Batch, order_id: str, paise: int) -> None:
        """A payment of ``paise`` is attempted: count it; refuse it if it would overpay."""
        await db.execute(
            "UPDATE orders SET attempts = attempts + 1, status = CASE status "
            "WHEN 'created' THEN 'attempted' ELSE status END "
            "WHERE id = ? AND status != 'paid' AND amount_paid + ? <= amount",
            (order_id, paise),
            expect_rows=1,
            error=OrderAlreadyPaid(f"order {order_id} cannot take {paise} more paise"),
        )

    @staticmethod
    async def order_paid_tx(db: Batch, order_id: str, paise: int) -> None:
        """``paise`` of the order were captured; it is ``paid`` once nothing is due."""
        await db.execute(
            "UPDATE orders SET amount_paid = amount_paid + ?, status = CASE "
            "WHEN amount_paid + ? = amount THEN 'paid' ELSE 'attempted' END "
            "WHERE id = ? AND amount_paid + ? <= amount",
            (paise, paise, order_id, paise),
            expect_rows=1,
            error=OrderAlreadyPaid(f"order {order_id} is already paid"),
        )

    # ----- refunds -----------------------------------------------------------------------
    @staticmethod
    async def insert_refund_tx(
        db: Batch, refund_id: str, payment_id: str, paise: int, now: float, *,
        merchant_id: str | None = None, speed: str = "normal", notes: dict | None = None,
        receipt: str | None = None, idem_key: str | None = None, fingerprint: str | None = None,
        error: Exception | None = None,
    ) -> None:  # fmt: skip
        """Record a ``pending`` refund; ``error`` is raised (and all rolled back) if its
        idempotency key already names another refund of the merchant."""
        await db.execute(
            "INSERT INTO refunds (id, payment_id, amount, status, created_at, "
            "merchant_id, speed, notes, receipt, idem_key, fingerprint) "
            "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                refund_id, payment_id, paise, now, merchant_id, speed,
                json.dumps(notes or {}), receipt, idem_key, fingerprint,
            ),
            expect_rows=1,
            error=error or ConflictError(f"refund {refund_id} could not be stored"),
        )  # fmt: skip

    async def refund(self, merchant_id: str, refund_id: str) -> tuple | None:
        """One refund row of this merchant (see ``_REFUND_SELECT`` for the columns)."""
        return await self.fetchone(
            _REFUND_SELECT + "WHERE r.id = ? AND p.merchant_id = ?", (refund_id, merchant_id)
        )

    async def refund_by_key(self, merchant_id: str, idem_key: str) -> tuple | None:
        """The refund stored under an ``X-Refund-Idempotency`` key, if any."""
        return await self.fetchone(
            _REFUND_SELECT + "WHERE r.merchant_id = ? AND r.idem_key = ?", (merchant_id, idem_key)
        )

    async def refunds_of(
        self, merchant_id: str, *, payment_id: str | None = None, since: float = 0,
        until: float, count: int, skip: int,
    ) -> list[tuple]:  # fmt: skip
        """A merchant's refunds (of one payment, or all) created in [since, until], newest first."""
        where, params = "WHERE p.merchant_id = ? ", [merchant_id]
        if payment_id is not None:
            where, params = where + "AND r.payment_id = ? ", [*params, payment_id]
        return await self.fetchall(
            _REFUND_SELECT + where + "AND r.created_at BETWEEN ? AND ? "
            "ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*params, since, until, count, skip),
        )

    @staticmethod
    async def mark_refund_processed_tx(db: Batch, refund_id: str) -> None:
        """A ``pending`` refund is ``processed`` (a no-op if it already is)."""
        await db.execute(
            "UPDATE refunds SET status = 'processed' WHERE id = ? AND status = 'pending'",
            (refund_id,),
        )

    @staticmethod
    async def mark_refund_failed_tx(db: Batch, refund_id: str) -> None:
        """A ``pending`` refund is ``failed``; if it is not pending, roll back (someone else
        settled it) with :class:`ConcurrentUpdate`."""
        await db.execute(
            "UPDATE refunds SET status = 'failed' WHERE id = ? AND status = 'pending'",
            (refund_id,),
            expect_rows=1,
            error=ConcurrentUpdate(f"refund {refund_id} is no longer pending", field="id"),
        )

    async def pending_refunds(self) -> list[tuple[str, str, int]]:
        """(refund id, payment id, paise) of refunds the bank may not have heard of."""
        return await self.fetchall(
            "SELECT id, payment_id, amount FROM refunds WHERE status = 'pending' ORDER BY id"
        )

    # ----- outbox ------------------------------------------------------------------------
    @classmethod
    async def add_event_tx(
        cls, db: Batch, merchant_id: str, event_id: str, event: str, body: dict, now: float,
        *, when: tuple[str, tuple] = ALWAYS,
    ) -> None:  # fmt: skip
        """Queue a webhook in the same transaction as the state change it announces.

        ``event_id`` is fixed here, once, so every retry of the row carries the same
        ``X-Razorpay-Event-Id`` and the receiver can de-duplicate by it. ``when`` is an
        SQL condition (and its parameters) checked as the row is written, after the
        statements queued before it: the event is queued only if it holds. Two conditions
        are not SQL: :attr:`ALWAYS` (no ``WHERE``; PostgreSQL's takes only a boolean) and
        :attr:`PREVIOUS_CHANGED` (the statement queued just before moved a row).
        """
        condition, params = when
        previous = when is cls.PREVIOUS_CHANGED
        where = "" if previous or when == cls.ALWAYS else f" WHERE {condition}"
        await db.execute(
            "INSERT INTO outbox (merchant_id, event_id, event, body, created_at, "
            "next_attempt_at) SELECT ?, ?, ?, ?, ?, ?" + where,
            (
                merchant_id, event_id, event, json.dumps(body, separators=(",", ":")), now, now,
                *params,
            ),
            only_if_previous_changed=previous,
        )  # fmt: skip
