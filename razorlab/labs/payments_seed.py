"""The seed's payment design, rebuilt for the lab so the checker can break it.

The seed's ``ProcessPayment`` (read in the course's seed text, paraphrased here): look the
request id up in a cache and return a hit; otherwise open a database transaction, call the
bank *inside* it, write the result, commit, then fill the cache. Two flaws the checker
finds in a few steps:

* The cache is filled only after the bank answered, and nothing claims the key before the
  bank call: a duplicate delivery or a retry that arrives while the first request is still
  at the bank misses the cache and charges again (the transaction's lock only makes the
  second request wait its turn; it does not tell it the first one charged).
* The bank call sits inside the transaction: a crash after the bank charged but before
  ``COMMIT`` rolls back the only record of the charge, and the retry charges again.

There is no reconciliation, and a bank error is answered with "try again".
"""

from __future__ import annotations

from razorlab.labs.bank import BankClient, BankError
from razorlab.labs.harness import SimClock, TryAgain
from razorlab.labs.payments import PaymentResult
from razorlab.labs.store import Store

__all__ = ["SeedPayments"]


class SeedPayments:
    """Cache lookup, then a transaction held across the bank call (the seed's steps 4–9)."""

    def __init__(self, store: Store, bank: BankClient, clock: SimClock) -> None:
        self.store, self.bank, self.clock = store, bank, clock

    async def create_payment(self, key: str, amount_paise: int) -> PaymentResult:
        cached = await self.store.get(f"cache:{key}")  # the seed's Redis, keyed by request id
        if cached is not None:
            return PaymentResult(**cached)
        payment_id = f"pay_{key}"
        async with self.store.transaction() as tx:  # BEGIN
            try:
                answer = await self.bank.charge(payment_id, amount_paise)  # inside the transaction
            except BankError as exc:
                raise TryAgain(str(exc)) from None
            status = {"success": "captured", "declined": "declined"}.get(answer.outcome, "pending")
            result = {"payment_id": payment_id, "status": status, "amount_paise": amount_paise}
            await tx.put(f"payment:{key}", result)
        # COMMIT happened at the end of the block; now fill the cache.
        await self.store.put(f"cache:{key}", result)
        return PaymentResult(**result)

    async def get_payment(self, key: str) -> PaymentResult | None:
        record = await self.store.get(f"payment:{key}")
        return PaymentResult(**record) if record else None

    async def reconcile(self) -> None:
        return None  # the seed has no reconciliation
