"""A simulated payment gateway whose ledger outlives the booking server (its own SQLite file).

``SimulatedPayments`` keeps its charges in memory, which is right inside one process but
wrong for a server that can be killed: the gateway is another company's system, so money it
captured stays captured when *our* process dies, and a restarted booking server must be able
to ask about it (``lookup``) and give it back (``refund``). ``LedgerPayments`` is the same
seeded gateway (decline rate, exponential latency on the injected clock) with its record in
a SQLite file of its own, written by one statement per charge and per refund.

Design note — when the money moves: a charge is *captured when it is decided*, before the
latency, and the answer reaches the caller after it. So a ``kill -9`` during the wait leaves
exactly the issue's case — money taken, the booking never told — and ``lookup`` already
finds the payment, as a Razorpay merchant can fetch an order's payments before its own
callback arrives (``/work/shared/references.md``, "Payments"). Simplification: no partial
refunds, no slow (past-the-hold) answers beyond what the exponential latency draws.

Invariants the schema keeps: one row per idempotency key (a retried charge, even from a
restarted process, gets the first answer); a payment id is unique; a refund is recorded at
most once, only for a captured payment, and never for more than was captured.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite

from razorlab.clock import Clock
from razorlab.errors import ConflictError, ValidationError
from razorlab.money import Money
from razorlab.rand import py_random
from razorlab.social.booking.payments import AlreadyRefunded, PaymentResult
from razorlab.sqlite import open_database, write_transaction

__all__ = ["LedgerPayments", "LEDGER_SCHEMA", "DECLINE_REASON"]

DECLINE_REASON = "declined by the issuing bank"

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key TEXT PRIMARY KEY,
    payment_id      TEXT UNIQUE,  -- NULL when declined
    amount_paise    INTEGER NOT NULL CHECK (amount_paise >= 0),
    reason          TEXT,         -- why it was declined
    charged_at      REAL NOT NULL,
    refunded_paise  INTEGER CHECK (refunded_paise BETWEEN 0 AND amount_paise),
    refunded_at     REAL,
    CHECK ((payment_id IS NULL) = (reason IS NOT NULL)),
    CHECK ((refunded_paise IS NULL) = (refunded_at IS NULL)),
    CHECK (refunded_paise IS NULL OR payment_id IS NOT NULL)
);
"""


class LedgerPayments:
    """``PaymentPort`` over a SQLite ledger; ``await LedgerPayments.open(path, seed, clock)``."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        seed: int,
        clock: Clock,
        decline_rate: float,
        mean_latency_s: float,
    ):
        if not 0 <= decline_rate <= 1:
            raise ValidationError(f"decline_rate must be within [0, 1], got {decline_rate}")
        if mean_latency_s < 0:
            raise ValidationError(f"mean_latency_s must be >= 0, got {mean_latency_s}")
        self._db = db
        self._lock = asyncio.Lock()
        self._random = py_random(seed, "booking-ledger-payments")
        self.clock = clock
        self.decline_rate = decline_rate
        self.mean_latency_s = mean_latency_s

    @classmethod
    async def open(
        cls,
        path: str | Path,
        seed: int,
        clock: Clock,
        decline_rate: float = 0.1,
        mean_latency_s: float = 1.0,
    ) -> LedgerPayments:
        return cls(
            await open_database(path, LEDGER_SCHEMA), seed, clock, decline_rate, mean_latency_s
        )

    async def charge(self, idempotency_key: str, amount: Money) -> PaymentResult:
        declines = self._random.random() < self.decline_rate
        latency = self._random.expovariate(1 / self.mean_latency_s) if self.mean_latency_s else 0
        async with write_transaction(self._db, self._lock) as db:
            await db.execute(
                "INSERT INTO charges (idempotency_key, payment_id, amount_paise, reason,"
                " charged_at) SELECT ?, CASE WHEN ? THEN NULL ELSE"
                " printf('pay_%07d', (SELECT count(*) + 1 FROM charges)) END, ?, ?, ?"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (idempotency_key, declines, amount.paise, DECLINE_REASON if declines else None,
                 self.clock.now()),
            )  # fmt: skip
        result = await self.lookup(idempotency_key)  # the first answer, if this is a retry
        await self.clock.sleep(latency)  # captured already; the answer is on its way
        return result

    async def lookup(self, idempotency_key: str) -> PaymentResult | None:
        async with self._lock:
            rows = await self._db.execute_fetchall(
                "SELECT payment_id, reason FROM charges WHERE idempotency_key = ?",
                (idempotency_key,),
            )
        if not rows:
            return None
        payment_id, reason = rows[0]
        return PaymentResult(payment_id is not None, payment_id, reason)

    async def refund(self, payment_id: str, amount: Money) -> None:
        async with write_transaction(self._db, self._lock) as db:
            cursor = await db.execute(
                "UPDATE charges SET refunded_paise = ?, refunded_at = ?"
                " WHERE payment_id = ? AND refunded_at IS NULL AND amount_paise >= ?",
                (amount.paise, self.clock.now(), payment_id, amount.paise),
            )
            if cursor.rowcount == 1:
                return
            rows = await db.execute_fetchall(
                "SELECT refunded_at FROM charges WHERE payment_id = ?", (payment_id,)
            )
        if not rows:
            raise ConflictError(f"{payment_id} was not captured", field="payment_id")
        if rows[0][0] is not None:
            raise AlreadyRefunded(f"{payment_id} is refunded already", field="payment_id")
        raise ValidationError(f"refund of {amount} exceeds what {payment_id} captured")

    async def close(self) -> None:
        await self._db.close()
