"""A double-entry ledger on SQLite with TigerBeetle-style two-phase and linked transfers.

Scenario: every captured payment, fee, GST charge, refund and merchant payout becomes a
transfer between accounts. The ledger must never lose a posted transfer, never apply a retried
one twice, and always balance.

Design note
-----------
* **Double entry.** A transfer debits one account and credits another by the same positive
  amount in the same currency and ledger, so Σ debits == Σ credits after every commit (posted
  and pending separately). ``verify()`` re-derives every counter from the journal.
* **Immutable journal.** ``transfers`` is append-only (SQLite triggers refuse UPDATE and
  DELETE); account counters are a cache of it, and ``balance_at`` replays it up to any moment.
* **Two-phase.** A PENDING transfer reserves money; POST_PENDING settles all or part of it (the
  rest is released), VOID_PENDING releases it, and a timeout expires it — written to the journal
  as a void with id ``expire:<pending id>`` so the history is complete.
* **Linked chains** (LINKED flag on every transfer but the last) succeed or fail as one.
* **Idempotency.** One transfer per id: a retry with the same fields returns ``exists`` and
  changes nothing; the same id with different fields is a ``TransferExists`` conflict.
* **Batches.** A batch is applied in memory (``batch.Batch``: the rules, no I/O) against the
  rows it touches, then written in one SQLite transaction with ``executemany``: a crash
  mid-batch rolls the whole batch back, and there is no database round trip per transfer.
  TigerBeetle accepts up to 8,190 transfers per batch; so do we. ``group_commit`` turns many
  concurrent single-transfer callers into such batches; ``benchmarks/ledger_throughput.py``
  compares the rate with raw SQLite inserts.
* **A fast path for plain batches.** A batch of plain transfers (no flags, no pending id, no
  timeout) that all pass every rule is checked and applied at once with numpy
  (``plain_batch``), with the same results, journal rows and counters. If any transfer is not
  plain or would fail, the whole batch goes through ``Batch`` one transfer at a time, so the
  rules and their errors live in one place.

One ``Ledger`` owns its database file (an asyncio lock serialises its batches); two processes
writing the same file would each validate against a stale view.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence

import aiosqlite
import pandas as pd

from razorlab.clock import Clock, SystemClock
from razorlab.errors import RazorlabError
from razorlab.money import Money
from razorlab.settlement.accounts import (
    ACCOUNT_KINDS,
    Account,
    AccountExists,
    AccountFlags,
    AccountNotFound,
    InvalidTransfer,
    LinkedTransferFailed,
    Transfer,
    TransferFlags,
    TransferResult,
)
from razorlab.settlement.batch import LINKED, NOT_POSTED, PENDING, TWO_PHASE, Batch, Row
from razorlab.settlement.plain_batch import apply_plain
from razorlab.sqlite import open_database, write_transaction

__all__ = [
    "Ledger",
    "MAX_BATCH",
    "SCHEMA",
    "JOURNAL_COLUMNS",
    "account_from_row",
    "transfer_from_row",
    "accounts_touched",
]

MAX_BATCH = 8190  # transfers per batch, TigerBeetle's limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, currency TEXT NOT NULL, ledger INTEGER NOT NULL,
    flags INTEGER NOT NULL, debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, debit_account TEXT NOT NULL,
    credit_account TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL, ledger INTEGER NOT NULL, flags INTEGER NOT NULL,
    pending_id TEXT NOT NULL, timeout_s REAL NOT NULL, code TEXT NOT NULL,
    timestamp REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pendings (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, expires_at REAL);
CREATE INDEX IF NOT EXISTS pendings_expiry ON pendings (status, expires_at);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""
_STATEMENT_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted",
                      "balance", "available")  # fmt: skip
JOURNAL_COLUMNS = ("id", "debit_account", "credit_account", "amount", "currency", "ledger", "flags",
                   "pending_id", "timeout_s", "code", "timestamp")  # fmt: skip
_COLUMNS = ", ".join(JOURNAL_COLUMNS)
# Posted balance of one account as of a moment; {p}N is the driver's numbered parameter N.
_BALANCE_AT = (
    "SELECT COALESCE(SUM(CASE WHEN credit_account = {p}1 THEN amount ELSE -amount END), 0) "
    "FROM transfers WHERE (debit_account = {p}1 OR credit_account = {p}1) "
    "AND timestamp <= {p}2 AND (flags & {p}3) = 0"
)
_TOTALS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")


class _SeenBefore(Exception):
    """An optimistic batch met a transfer id that is already journalled: redo it carefully."""


def account_from_row(row: Sequence) -> Account:
    """An ``accounts`` row (``SELECT *``) as an :class:`Account`."""
    return Account(row[0], row[1], row[2], row[3], AccountFlags(row[4]), *row[5:])


def transfer_from_row(row: Sequence) -> Transfer:
    """A journal row (``JOURNAL_COLUMNS``, extra columns ignored) as a :class:`Transfer`."""
    return Transfer(*row[:6], TransferFlags(row[6]), *row[7:11])


def _check_new_account(account_id: object, kind: str, currency: str) -> None:
    if not isinstance(account_id, str) or not account_id:
        raise InvalidTransfer("account id must be a non-empty string", field="id")
    if kind not in ACCOUNT_KINDS:
        raise InvalidTransfer(f"kind must be one of {ACCOUNT_KINDS}", field="kind")
    Money.zero(currency)  # raises UnknownCurrency


def accounts_touched(transfers: Sequence[Transfer], stored: dict[str, Row]) -> set[str]:
    """Accounts of the batch's transfers and of the journal rows they refer to."""
    account_ids = {t.debit_account for t in transfers}
    account_ids.update([t.credit_account for t in transfers])
    account_ids.update([a for t in stored.values() for a in (t.debit_account, t.credit_account)])
    return account_ids


class Ledger:
    """The ledger engine: ``ledger = await Ledger.open(path, clock=clock)``."""

    _PARAMETER = "?"  # numbered SQL parameters are ?1, ?2, … in SQLite

    def __init__(self, db: aiosqlite.Connection, clock: Clock):
        self._db = db
        self.clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str = ":memory:", *, clock: Clock | None = None) -> Ledger:
        return cls(await open_database(path, SCHEMA), clock or SystemClock())

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- accounts -------------------------------------------------------------------------
    async def create_account(
        self,
        account_id: str,
        kind: str,
        *,
        currency: str = "INR",
        ledger: int = 1,
        flags: AccountFlags = AccountFlags.NONE,
    ) -> Account:
        """Create an account; creating the same account again is a no-op (idempotent)."""
        _check_new_account(account_id, kind, currency)
        existing = await self._insert_account(
            Account(account_id, kind, currency, ledger, AccountFlags(flags))
        )
        if (existing.kind, existing.currency, existing.ledger, existing.flags) != (
            kind, currency, ledger, flags,
        ):  # fmt: skip
            raise AccountExists(f"account {account_id!r} exists with other fields", field="id")
        return existing

    async def _insert_account(self, wanted: Account) -> Account:
        """Store ``wanted`` unless its id is taken; the account stored under that id."""
        async with self._lock:
            try:
                return await self.account(wanted.id)
            except AccountNotFound:
                await self._db.execute(
                    "INSERT INTO accounts VALUES (?,?,?,?,?,0,0,0,0)",
                    (wanted.id, wanted.kind, wanted.currency, wanted.ledger, int(wanted.flags)),
                )
                return wanted

    async def account(self, account_id: str) -> Account:
        async with self._db.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise AccountNotFound(f"no account {account_id!r}", field="account_id")
        return account_from_row(row)

    async def accounts(self) -> list[Account]:
        async with self._db.execute("SELECT * FROM accounts ORDER BY id") as cur:
            rows = await cur.fetchall()
        return [account_from_row(r) for r in rows]

    async def balances(self, *account_ids: str) -> pd.DataFrame:
        """A statement of ``account_ids``: the four counters, balance and available, in paise.

        Unknown ids raise :class:`AccountNotFound`, as :meth:`account` does.
        """
        accounts = [await self.account(a) for a in account_ids]
        rows = [[getattr(a, column) for column in _STATEMENT_COLUMNS] for a in accounts]
        index = pd.Index([a.id for a in accounts], name="account")
        return pd.DataFrame(rows, index=index, columns=list(_STATEMENT_COLUMNS))

    # ----- transfers ------------------------------------------------------------------------
    async def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferResult]:
        """Apply a batch in one commit; one result per transfer, in order."""
        if len(transfers) > MAX_BATCH:
            raise InvalidTransfer(f"at most {MAX_BATCH} transfers per batch", field="transfers")

        def apply(batch: Batch) -> list[TransferResult]:
            fast = apply_plain(batch, transfers)
            if fast is not None:
                return fast
            results: list[TransferResult] = []
            chain: list[Transfer] = []
            apply_one, append = batch.apply, results.append
            for t in transfers:
                linked = int(t.flags) & LINKED
                if not chain and not linked:  # the common case: a transfer on its own
                    try:
                        append(TransferResult(t.id, apply_one(t)))
                    except RazorlabError as exc:
                        append(TransferResult(t.id, "failed", exc))
                    continue
                chain.append(t)
                if not linked:
                    results.extend(self._apply_chain(batch, chain))
                    chain = []
            if chain:  # a chain left open at the end of the batch fails as a whole
                results.extend(self._apply_chain(batch, chain))
            return results

        return (await self._in_transaction(transfers, apply))[1]

    async def transfer(self, transfer: Transfer) -> Transfer:
        """Apply one transfer and return it as journalled; raises its error if it failed."""
        (result,) = await self.create_transfers([transfer])
        if result.error is not None:
            raise result.error
        return (await self.journal(ids=[transfer.id]))[0]

    async def post(self, pending_id: str, transfer_id: str, amount: int | None = None) -> Transfer:
        flags = TransferFlags.POST_PENDING
        return await self.transfer(Transfer(transfer_id, amount=amount, pending_id=pending_id,
                                             flags=flags))  # fmt: skip

    async def void(self, pending_id: str, transfer_id: str) -> Transfer:
        flags = TransferFlags.VOID_PENDING
        return await self.transfer(Transfer(transfer_id, pending_id=pending_id, flags=flags))

    async def expire_pending(self) -> int:
        """Release every pending transfer whose timeout has passed; returns how many."""
        batch, _ = await self._in_transaction([], lambda batch: [])
        return sum(1 for t in batch.new if t.code == "expired")

    def _apply_chain(self, batch: Batch, chain: list[Transfer]) -> list[TransferResult]:
        mark = batch.mark()
        batch.recording = len(chain) > 1
        statuses: list[str] = []
        for i, t in enumerate(chain):
            try:
                if int(t.flags) & LINKED and i == len(chain) - 1:
                    raise InvalidTransfer("linked chain is not closed", field="flags")
                statuses.append(batch.apply(t))
            except RazorlabError as exc:
                batch.rollback(mark)
                batch.recording = False
                failed = LinkedTransferFailed(f"linked transfer {t.id!r} failed", field="id")
                return [
                    TransferResult(c.id, "failed", exc if j == i else failed)
                    for j, c in enumerate(chain)
                ]
        batch.recording = False
        return [TransferResult(t.id, s) for t, s in zip(chain, statuses, strict=True)]

    async def _load(self, transfers: Sequence[Transfer], *, optimistic: bool) -> Batch:
        """The rows ``transfers`` touch; ``optimistic`` skips looking up their own ids."""
        now = self.clock.now()
        ids = set() if optimistic else {t.id for t in transfers if isinstance(t.id, str)}
        ids |= {t.pending_id for t in transfers if t.pending_id}
        expired = await self._fetch(
            "SELECT id FROM pendings WHERE status = 'pending' AND expires_at <= ?", (now,)
        )
        ids |= {r[0] for r in expired}
        stored = {r[0]: Row(*r) for r in await self._fetch_in(_COLUMNS, "transfers", ids)}
        pend_ids = [i for i, t in stored.items() if t.flags & PENDING]
        pendings = {r[0]: [r[1], r[2]] for r in await self._fetch_in("*", "pendings", pend_ids)}
        account_ids = accounts_touched(transfers, stored)
        account_ids.discard("")  # (non-strings are dropped by _fetch_in)
        rows = await self._fetch_in("*", "accounts", account_ids)
        batch = Batch(now, {r[0]: list(r[1:]) for r in rows}, stored, pendings)
        for (pending_id,) in expired:
            batch.expire(pending_id)
        return batch

    async def _fetch(self, sql: str, params: Sequence = ()) -> list:
        # One hop to aiosqlite's thread (execute + fetchall + close would be three).
        return list(await self._db.execute_fetchall(sql, params))

    async def _fetch_in(self, columns: str, table: str, ids: Iterable[str]) -> list:
        """Rows whose id is in ``ids``: one query, the ids passed as one JSON array."""
        ids = [i for i in ids if isinstance(i, str)]
        if not ids:
            return []
        return await self._fetch(
            f"SELECT {columns} FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )

    async def _in_transaction(
        self, transfers: Sequence[Transfer], apply: Callable[[Batch], list[TransferResult]]
    ) -> tuple[Batch, list[TransferResult]]:
        """Load, apply in memory, write: one SQLite transaction, so a crash keeps nothing.

        Retries are rare, so the first attempt assumes no transfer id is in the journal yet
        and lets the journal's UNIQUE index check that while inserting. If any id was
        there, that attempt rolls back and the batch is applied again with every id looked
        up, so a retried transfer is reported ``exists`` and applied once. A retry can also
        fail a rule it passed the first time (a void of a pending it already voided, a spend
        from a since-drained wallet), so the ids of failed transfers are looked up too.
        """
        try:
            return await self._attempt(transfers, apply, optimistic=True)
        except _SeenBefore:
            return await self._attempt(transfers, apply, optimistic=False)

    async def _attempt(
        self,
        transfers: Sequence[Transfer],
        apply: Callable[[Batch], list[TransferResult]],
        *,
        optimistic: bool,
    ) -> tuple[Batch, list[TransferResult]]:
        async with write_transaction(self._db, self._lock):
            batch = await self._load(transfers, optimistic=optimistic)
            results = apply(batch)
            if optimistic and await self._failed_retry(results):
                raise _SeenBefore
            try:
                await self._write(batch)
            except sqlite3.IntegrityError:
                if optimistic:  # only the id's UNIQUE index can object to a validated row
                    raise _SeenBefore from None
                raise
        return batch, results

    async def _failed_retry(self, results: list[TransferResult]) -> bool:
        """Did a transfer that failed in an optimistic attempt already reach the journal?"""
        failed = [r.id for r in results if r.status == "failed"]
        return bool(failed) and bool(await self._fetch_in("id", "transfers", failed))

    async def _write(self, batch: Batch) -> None:
        await self._db.executemany(
            f"INSERT INTO transfers ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch.rows()
        )
        changed = {t.pending_id or t.id for t in batch.new if t.flags & (PENDING | TWO_PHASE)}
        await self._db.executemany(
            "INSERT OR REPLACE INTO pendings VALUES (?,?,?)",
            [(i, *batch.pendings[i]) for i in changed if i in batch.pendings],
        )
        await self._db.executemany(
            "UPDATE accounts SET debits_pending=?, debits_posted=?, credits_pending=?, "
            "credits_posted=? WHERE id=?",
            [(*batch.accounts[a][4:8], a) for a in batch.touched],
        )

    # ----- reading the journal --------------------------------------------------------------
    async def journal(
        self, *, account_id: str | None = None, ids: Sequence[str] | None = None
    ) -> list[Transfer]:
        """Journalled transfers in commit order (optionally of one account or some ids)."""
        if ids is not None:
            rows = await self._fetch_in(_COLUMNS + ", seq", "transfers", ids)
            return [transfer_from_row(r) for r in sorted(rows, key=lambda r: r[-1])]
        sql, params = f"SELECT {_COLUMNS} FROM transfers", ()
        if account_id is not None:
            sql += " WHERE debit_account = ? OR credit_account = ?"
            params = (account_id, account_id)
        return [transfer_from_row(r) for r in await self._fetch(sql + " ORDER BY seq", params)]

    async def balance_at(self, account_id: str, timestamp: float) -> int:
        """Posted balance (credits − debits) of ``account_id`` as of ``timestamp``, from the journal."""
        await self.account(account_id)
        sql = _BALANCE_AT.format(p=self._PARAMETER)
        (row,) = await self._fetch(sql, (account_id, float(timestamp), NOT_POSTED))
        return int(row[0])

    async def totals(self) -> dict[str, int]:
        sums = ", ".join(f"COALESCE(SUM({c}), 0)" for c in _TOTALS)
        (row,) = await self._fetch(f"SELECT {sums} FROM accounts")
        return dict(zip(_TOTALS, map(int, row), strict=True))

    async def verify(self) -> list[str]:
        """Every invariant, re-derived from the journal; returns the problems (empty = sound)."""
        problems = []
        totals = await self.totals()
        if totals["debits_posted"] != totals["credits_posted"]:
            problems.append(f"posted debits != credits: {totals}")
        if totals["debits_pending"] != totals["credits_pending"]:
            problems.append(f"pending debits != credits: {totals}")
        expected = await self._journal_counters()
        for a in await self.accounts():
            have = [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted]
            want = expected.pop(a.id, [0, 0, 0, 0])
            if have != want:
                problems.append(f"account {a.id} counters {have} != journal {want}")
        problems += [f"journal names unknown account {a}" for a in expected]
        return problems

    async def _journal_counters(self) -> dict[str, list[int]]:
        """Per account, the four counters (as ``Account`` orders them) re-derived from the journal."""
        expected: dict[str, list[int]] = {}
        for column, side in ((0, "debit_account"), (2, "credit_account")):
            pending = await self._fetch(
                f"SELECT t.{side}, SUM(t.amount) FROM transfers t JOIN pendings p ON p.id = t.id "
                f"WHERE p.status = 'pending' GROUP BY t.{side}"
            )
            posted = await self._fetch(
                f"SELECT {side}, SUM(amount) FROM transfers WHERE (flags & ?) = 0 GROUP BY {side}",
                (NOT_POSTED,),
            )
            for offset, rows in ((0, pending), (1, posted)):
                for account_id, total in rows:
                    expected.setdefault(account_id, [0, 0, 0, 0])[column + offset] = total
        return expected
