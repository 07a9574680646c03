"""Accounts, transfers and the ledger's typed errors: the nouns of double-entry bookkeeping.

Scenario: a payment aggregator holds customers' money in an escrow account (RBI's 2020
guidelines replaced nodal accounts with escrow) and owes it to merchants, minus its fee and
the GST on that fee. Every rupee that moves is a *transfer* from one account (debited) to
another (credited) of the same currency, so the sum of all debits always equals the sum of
all credits — a missing paisa shows up as an imbalance instead of hiding.

The model follows TigerBeetle (docs.tigerbeetle.com): accounts keep four counters
(debits/credits × pending/posted), two-phase transfers reserve money as *pending* and are
later *posted* (fully or partly) or *voided*, linked transfers succeed or fail together, and
a transfer id can be applied only once. Corrections are new transfers, never edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag
from typing import NamedTuple

from razorlab.errors import (
    ConflictError,
    NotFoundError,
    RazorlabError,
    StateError,
    ValidationError,
)

__all__ = [
    "ACCOUNT_KINDS",
    "AccountFlags",
    "TransferFlags",
    "Account",
    "Transfer",
    "TransferResult",
    "LedgerError",
    "InvalidTransfer",
    "AccountNotFound",
    "AccountExists",
    "TransferExists",
    "ExceedsBalance",
    "PendingNotFound",
    "PendingNotPending",
    "PendingExpired",
    "LinkedTransferFailed",
]

#: What an account represents; the kind is informational, the rules come from flags.
ACCOUNT_KINDS = ("merchant", "customer", "escrow", "fees", "gst", "bank", "reserve", "party")


class AccountFlags(IntFlag):
    """Balance constraints, checked against pending + posted amounts (TigerBeetle's rule)."""

    NONE = 0
    #: e.g. a customer wallet: cannot spend more than was paid in.
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    #: e.g. a credit line: cannot receive more than was lent out.
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2


class TransferFlags(IntFlag):
    NONE = 0
    #: This transfer and the next one in the batch succeed or fail together.
    LINKED = 1
    #: Reserve the amount (debits/credits pending) until posted, voided or timed out.
    PENDING = 2
    #: Settle the pending transfer named by ``pending_id`` (all of it or less).
    POST_PENDING = 4
    #: Release the pending transfer named by ``pending_id``.
    VOID_PENDING = 8


@dataclass(frozen=True, slots=True)
class Account:
    """An account and its four counters, in paise.

    ``balance`` is credits minus debits (posted); ``available`` also subtracts pending debits,
    which is what a customer may still spend.
    """

    id: str
    kind: str
    currency: str = "INR"
    ledger: int = 1
    flags: AccountFlags = AccountFlags.NONE
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


@dataclass(frozen=True, slots=True)
class Transfer:
    """A request to move ``amount`` paise from ``debit_account`` to ``credit_account``.

    For POST_PENDING / VOID_PENDING the accounts may be left empty (they are taken from the
    pending transfer); a post's ``amount`` of ``None`` means "the full pending amount".
    ``timeout_s`` only applies to PENDING transfers (0 = never expires).
    """

    id: str
    debit_account: str = ""
    credit_account: str = ""
    amount: int | None = None
    currency: str = "INR"
    ledger: int = 1
    flags: TransferFlags = TransferFlags.NONE
    pending_id: str = ""
    timeout_s: float = 0.0
    code: str = ""  # why the money moved: "payment", "fee", "settlement" ...
    timestamp: float = field(default=0.0, compare=False)  # set by the ledger when applied


class TransferResult(NamedTuple):
    """Outcome of one transfer in a batch: ``ok``, ``exists`` (idempotent retry) or an error.

    A NamedTuple rather than a dataclass: a batch creates thousands of them.
    """

    id: str
    status: str  # "ok" | "exists" | "failed"
    error: RazorlabError | None = None

    @property
    def applied(self) -> bool:
        return self.status in ("ok", "exists")


class LedgerError(ValidationError):
    """Base of ledger errors that mean "fix the request" (HTTP 400)."""

    code = "LEDGER_ERROR"


class InvalidTransfer(LedgerError):
    code = "INVALID_TRANSFER"


class AccountNotFound(NotFoundError):
    code = "ACCOUNT_NOT_FOUND"


class AccountExists(ConflictError):
    code = "ACCOUNT_EXISTS_WITH_DIFFERENT_FIELDS"


class TransferExists(ConflictError):
    """The id was used before for a *different* transfer: a bug or a key collision."""

    code = "TRANSFER_EXISTS_WITH_DIFFERENT_FIELDS"


class ExceedsBalance(StateError):
    code = "EXCEEDS_BALANCE"


class PendingNotFound(NotFoundError):
    code = "PENDING_TRANSFER_NOT_FOUND"


class PendingNotPending(StateError):
    """The pending transfer was already posted, voided or expired."""

    code = "PENDING_TRANSFER_ALREADY_RESOLVED"


class PendingExpired(StateError):
    code = "PENDING_TRANSFER_EXPIRED"


class LinkedTransferFailed(StateError):
    """Another transfer of the same linked chain failed, so this one was not applied."""

    code = "LINKED_EVENT_FAILED"
