"""The reference answer to the payments lab: intent → bank call → result, then reconcile.

Scenario: the same key arrives twice at once, or again after a crash that happened while
the bank was charging. The design that survives both writes down its *intent* before it
touches money, and treats every unknown outcome as something to find out, never to redo.

1. **Claim the key with an intent** (``put_if_absent``, one atomic durable write) before
   calling the bank. Whoever loses the claim charges nothing: it answers from the record
   (``pending`` while the winner is at the bank).
2. **Call the bank with the payment id as the reference**, outside any transaction or lock
   — a slow bank must not hold up other payments.
3. **Record the result** with ``compare_and_set`` from the intent, so a concurrent
   reconciler and the request cannot overwrite each other.
4. **Unknown outcomes stay pending**: a bank timeout or a crash leaves the intent; the
   answer is ``pending``, never "failed" (the bank may have charged).
5. **Reconcile** intents not being worked on by this process: ask the bank's ``status``
   for the reference; ``not_found`` is final only after ``BANK_MAX_LATENCY_S`` (the bank's
   promise that a request that old was applied or dropped). A ``declined`` for a charge
   the bank refused (down) is safe: nothing was charged.

This is :mod:`razorlab.payments`' gateway design (idempotency claim, no transaction across
the bank call, reconciliation) on the lab's in-process store.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from razorlab.labs.bank import BANK_MAX_LATENCY_S, BankClient, BankTimeout, BankUnavailable
from razorlab.labs.harness import SimClock, TryAgain
from razorlab.labs.payments import PaymentResult
from razorlab.labs.store import Store

__all__ = ["ReferencePayments"]

FINAL = {"success": "captured", "declined": "declined"}


def _result(record: dict[str, Any]) -> PaymentResult:
    return PaymentResult(record["payment_id"], record["status"], record["amount_paise"])


class ReferencePayments:
    """Idempotent payments that pass every invariant of the lab (the oracle)."""

    def __init__(self, store: Store, bank: BankClient, clock: SimClock) -> None:
        self.store, self.bank, self.clock = store, bank, clock
        self.working: Counter[str] = Counter()  # keys this process is handling right now

    async def create_payment(self, key: str, amount_paise: int) -> PaymentResult:
        intent = {
            "payment_id": f"pay_{key}", "status": "pending", "amount_paise": amount_paise,
            "created_at": self.clock.now(), "charged": False,
        }  # fmt: skip
        self.working[key] += 1
        try:
            if not await self.store.put_if_absent(f"payment:{key}", intent):
                existing = await self.store.get(f"payment:{key}")
                if existing["amount_paise"] != amount_paise:
                    raise TryAgain(f"key {key} was used for another amount")
                return _result(existing)
            return await self._charge(key, intent)
        finally:
            self.working[key] -= 1

    async def _charge(self, key: str, intent: dict[str, Any]) -> PaymentResult:
        try:
            answer = await self.bank.charge(intent["payment_id"], intent["amount_paise"])
        except BankUnavailable:
            status = "declined"  # refused before charging: nothing moved
        except BankTimeout:
            return _result(intent)  # unknown: reconcile will find out
        else:
            status = FINAL.get(answer.outcome, "pending")
        done = {**intent, "status": status, "charged": True}
        if await self.store.compare_and_set(f"payment:{key}", intent, done):
            return _result(done)
        return _result(await self.store.get(f"payment:{key}"))

    async def get_payment(self, key: str) -> PaymentResult | None:
        record = await self.store.get(f"payment:{key}")
        return _result(record) if record else None

    async def reconcile(self) -> None:
        for name, record in await self.store.scan("payment:"):
            key = name.removeprefix("payment:")
            if record["status"] != "pending" or self.working[key] > 0:
                continue
            try:
                state = await self.bank.status(record["payment_id"])
            except BankUnavailable:
                continue  # try again at the next reconcile
            if state in FINAL:
                status = FINAL[state]
            elif (
                state == "not_found"
                and self.clock.now() - record["created_at"] > BANK_MAX_LATENCY_S
            ):
                status = "declined"  # never reached the bank, and now never will
            else:
                continue
            await self.store.compare_and_set(name, record, {**record, "status": status})
