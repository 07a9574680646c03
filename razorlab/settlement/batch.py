"""Applying a batch of transfers in memory: the ledger's rules, without any I/O.

The ledger loads the accounts, pending transfers and already-journalled ids a batch touches,
then ``Batch`` applies each transfer to those in-memory rows — validating amount, accounts,
currency, ledger, balance limits and two-phase state — and collects the journal rows to write.
Keeping the rules here, free of SQLite, makes them fast (no round trip per transfer) and easy
to test; ``Ledger`` writes the result in one transaction.

A single transfer validates everything before it mutates anything, so it needs no undo; a
linked chain turns ``recording`` on and is rolled back from the undo log if one member fails.
A big batch of plain transfers that are all valid is applied at once by ``plain_batch``
instead, which leaves its journal rows in ``bulk``; these rules stay the reference for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import NamedTuple

from razorlab.money import CURRENCIES, MAX_PAISE, CurrencyMismatch, Money
from razorlab.settlement.accounts import (
    AccountFlags,
    AccountNotFound,
    ExceedsBalance,
    InvalidTransfer,
    PendingExpired,
    PendingNotFound,
    PendingNotPending,
    Transfer,
    TransferExists,
    TransferFlags,
)

__all__ = ["Row", "Batch", "same_request", "LINKED", "NOT_POSTED", "PENDING", "TWO_PHASE"]

# Plain-int copies of the flags: IntFlag arithmetic costs microseconds per transfer.
LINKED, PENDING = int(TransferFlags.LINKED), int(TransferFlags.PENDING)
_POST, _VOID = int(TransferFlags.POST_PENDING), int(TransferFlags.VOID_PENDING)
TWO_PHASE = _POST | _VOID
NOT_POSTED = PENDING | _VOID  # journal rows that move no posted money
_DR_LIMIT = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CR_LIMIT = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)


class Row(NamedTuple):
    """A journal row in memory: Transfer's fields, as a cheap tuple (flags a plain int)."""

    id: str
    debit_account: str
    credit_account: str
    amount: int
    currency: str
    ledger: int
    flags: int
    pending_id: str
    timeout_s: float
    code: str
    timestamp: float


def same_request(new: Transfer, old: Transfer) -> bool:
    """Is ``new`` a retry of the stored ``old``? Omitted (defaulted) fields of a post match."""
    return (
        new.flags == old.flags
        and new.pending_id == old.pending_id
        and new.currency == old.currency
        and new.ledger == old.ledger
        and new.code == old.code
        and (new.amount is None or new.amount == old.amount)
        and new.debit_account in ("", old.debit_account)
        and new.credit_account in ("", old.credit_account)
    )


class Batch:
    """Applies transfers to in-memory copies of the rows they touch."""

    def __init__(self, now: float, accounts: dict, stored: dict, pendings: dict):
        self.now = now
        self.accounts = accounts  # id -> [kind, currency, ledger, flags, dp, dpo, cp, cpo]
        self.stored = stored  # id -> Transfer already in the journal (or applied in this batch)
        self.pendings = pendings  # id -> [status, expires_at]
        self.new: list[Row] = []  # journal rows to write, in order
        self.bulk: tuple = ()  # plain_batch's rows after those, as columns zipped when written
        self.touched: set[str] = set()
        self.undo: list[tuple[dict, str, object]] = []
        self.recording = False

    def _set(self, table: dict, key: str, value: object) -> None:
        if self.recording:
            self.undo.append((table, key, table.get(key)))
        table[key] = value

    def rollback(self, mark: tuple[int, int]) -> None:
        undo_len, new_len = mark
        while len(self.undo) > undo_len:
            table, key, old = self.undo.pop()
            if old is None:
                del table[key]
            else:
                table[key] = old
        del self.new[new_len:]

    def mark(self) -> tuple[int, int]:
        return len(self.undo), len(self.new)

    def rows(self) -> Iterator[tuple]:
        """Every journal row to write, as plain tuples (sqlite3 binds them ~30% faster).

        ``bulk`` rows are zipped one at a time while SQLite inserts them, so a fast-path
        batch never holds thousands of row tuples in memory at once.
        """
        return chain(map(tuple, self.new), zip(*self.bulk, strict=False))  # (repeat()s: endless)

    def account(self, account_id: str, field: str) -> list:
        row = self.accounts.get(account_id)
        if row is None:
            raise AccountNotFound(f"no account {account_id!r}", field=field)
        return row

    def apply(self, t: Transfer) -> str:
        """Validate and apply one transfer; returns "ok" or "exists", raises on failure."""
        if not isinstance(t.id, str) or not t.id:
            raise InvalidTransfer("transfer id must be a non-empty string", field="id")
        old = self.stored.get(t.id)
        if old is not None:
            if same_request(t, old):
                return "exists"
            raise TransferExists(f"transfer {t.id!r} exists with different fields", field="id")
        if t.currency not in CURRENCIES:
            Money.zero(t.currency)  # raises UnknownCurrency with the list of codes
        flags = int(t.flags)
        if flags & PENDING and flags & TWO_PHASE:
            raise InvalidTransfer("PENDING cannot be combined with POST/VOID", field="flags")
        if (flags & TWO_PHASE) == TWO_PHASE:
            raise InvalidTransfer("POST_PENDING and VOID_PENDING are exclusive", field="flags")
        row = self._resolve(t, flags) if flags & TWO_PHASE else self._single(t, flags)
        if self.recording:
            self._set(self.stored, t.id, row)
        else:
            self.stored[t.id] = row
        self.new.append(row)
        return "ok"

    def _check_amount(self, amount: object) -> int:
        if type(amount) is int and 0 < amount <= MAX_PAISE:  # the common case, checked cheaply
            return amount
        return Money.from_paise(amount, field="amount", minimum=1).paise

    def _single(self, t: Transfer, flags: int) -> Row:
        # The hot path of every batch: plain locals and few calls (see benchmarks/ledger_*).
        amount = self._check_amount(t.amount)
        debit, credit, currency = t.debit_account, t.credit_account, t.currency
        if debit == credit:
            raise InvalidTransfer("debit and credit accounts must differ", field="credit_account")
        dr = self.accounts.get(debit) or self.account(debit, "debit_account")
        cr = self.accounts.get(credit) or self.account(credit, "credit_account")
        if dr[1] != currency or cr[1] != currency:
            name, row = ("debit_account", dr) if dr[1] != currency else ("credit_account", cr)
            raise CurrencyMismatch(f"{name} holds {row[1]}, transfer is in {currency}",
                                   field="currency")  # fmt: skip
        if dr[2] != t.ledger or cr[2] != t.ledger:
            raise InvalidTransfer(f"accounts must both be on ledger {t.ledger}", field="ledger")
        timeout = t.timeout_s
        if timeout and (timeout < 0 or not flags & PENDING):
            raise InvalidTransfer("only pending transfers time out, after >= 0 s",
                                  field="timeout_s")  # fmt: skip
        if dr[3] & _DR_LIMIT and dr[4] + dr[5] + amount > dr[7]:
            raise ExceedsBalance(f"{debit} would owe more than it holds", field="amount")
        if cr[3] & _CR_LIMIT and cr[6] + cr[7] + amount > cr[5]:
            raise ExceedsBalance(f"{credit} would exceed its debits", field="amount")
        pending = flags & PENDING
        if self.recording:
            self._move(debit, 4 if pending else 5, amount)
            self._move(credit, 6 if pending else 7, amount)
        else:
            dr[4 if pending else 5] += amount
            cr[6 if pending else 7] += amount
            self.touched.add(debit)
            self.touched.add(credit)
        if pending:
            self._set(self.pendings, t.id, ["pending", self.now + timeout if timeout else None])
        return Row(t.id, debit, credit, amount, currency, t.ledger, flags, "", timeout, t.code,
                    self.now)  # fmt: skip

    def _resolve(self, t: Transfer, flags: int) -> Row:
        p = self.stored.get(t.pending_id)
        if p is None or not int(p.flags) & PENDING:
            raise PendingNotFound(f"no pending transfer {t.pending_id!r}", field="pending_id")
        status, expires = self.pendings[p.id]
        if status == "expired":
            raise PendingExpired(f"pending transfer {p.id!r} timed out", field="pending_id")
        if status != "pending":
            raise PendingNotPending(f"pending transfer {p.id!r} is {status}", field="pending_id")
        for name in ("debit_account", "credit_account"):
            if getattr(t, name) not in ("", getattr(p, name)):
                raise InvalidTransfer(f"{name} differs from the pending transfer", field=name)
        if t.currency != p.currency:
            raise CurrencyMismatch(f"pending transfer is in {p.currency}", field="currency")
        posting = bool(flags & _POST)
        amount = p.amount if t.amount is None or not posting else self._check_amount(t.amount)
        if amount > p.amount:
            raise InvalidTransfer(
                f"cannot post {amount} paise of a {p.amount}-paise pending", field="amount"
            )
        self._release(p)
        if posting:
            self._move(p.debit_account, 5, amount)
            self._move(p.credit_account, 7, amount)
        self._set(self.pendings, p.id, ["posted" if posting else "voided", expires])
        return Row(
            t.id, p.debit_account, p.credit_account, amount, p.currency, p.ledger, flags,
            p.id, 0.0, t.code, self.now,
        )  # fmt: skip

    def expire(self, pending_id: str) -> None:
        p = self.stored[pending_id]
        self._release(p)
        self._set(self.pendings, p.id, ["expired", self.pendings[p.id][1]])
        row = Row(
            f"expire:{p.id}", p.debit_account, p.credit_account, p.amount, p.currency, p.ledger,
            _VOID, p.id, 0.0, "expired", self.now,
        )  # fmt: skip
        self.stored[row.id] = row
        self.new.append(row)

    def _release(self, p: Transfer) -> None:
        self._move(p.debit_account, 4, -p.amount)
        self._move(p.credit_account, 6, -p.amount)

    def _move(self, account_id: str, column: int, amount: int) -> None:
        row = self.accounts[account_id]
        if self.recording:  # copy, so the undo log keeps the old row
            row = list(row)
            self._set(self.accounts, account_id, row)
        row[column] += amount
        self.touched.add(account_id)
