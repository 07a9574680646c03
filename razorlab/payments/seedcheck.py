"""The seed's two design mistakes, built with our engines so a notebook can show them fail.

Nothing here is used by the gateway; these functions exist to be compared with it.

1. :func:`seed_style_create` opens a database transaction, calls the bank *inside* it,
   then updates and commits — the seed's steps 5–8. The transaction (and with SQLite
   the database's write lock; with MySQL row locks and a pooled connection) is held for
   the whole bank call, so payments through one database are serialised behind the
   slowest bank. And if the process dies after the bank answered but before COMMIT, the
   rollback erases our record of a charge the bank made: money taken, no trace.
2. :func:`seed_style_cached_charge` de-duplicates with a cache keyed by a request id
   that is filled only after the bank answers. A retry with a new request id, a retry
   that arrives while the first is still at the bank, or a retry after the entry expired
   all charge again.
"""

from __future__ import annotations

import asyncio
import time

from razorlab.infra.cache import LRUCache
from razorlab.payments.bank import BankReply, SimulatedBank
from razorlab.payments.gateway import Gateway, SimulatedCrash
from razorlab.payments.methods import parse_payment_request
from razorlab.payments.payment import Payment, authorize, fail

__all__ = ["seed_style_create", "seed_style_cached_charge", "time_transaction_scopes"]


async def seed_style_create(
    gateway: Gateway, merchant_id: str, body: dict, *, crash_after_bank: bool = False
) -> str:
    """Create a payment the seed's way (bank call inside the transaction); returns its id."""
    request = parse_payment_request(body, now=gateway.clock.now())
    payment = Payment(
        id=gateway.ids.new("pay"), merchant_id=merchant_id, amount=request.amount,
        method=request.method.name, method_details=request.method.details(),
        created_at=gateway.clock.now(),
    )  # fmt: skip
    store = gateway.store
    async with store.interactive_transaction() as db:
        await db.execute(*store.insert_payment_sql(payment))
        reply = await gateway.bank.charge(payment.id, payment.amount, request.method)
        if crash_after_bank:
            raise SimulatedCrash("after_bank, inside the transaction")
        if reply.outcome.value == "success":
            done = authorize(payment, at=gateway.clock.now(), bank_reference=reply.reference)
        else:
            done = fail(payment, code=reply.reason or "FAILED", description="bank said no")
        await db.execute(*store.update_payment_sql(payment, done))
    return payment.id


async def seed_style_cached_charge(
    cache: LRUCache, bank: SimulatedBank, request_id: str, payment_id: str, body: dict
) -> BankReply:
    """The seed's step 4 and 9: look up the request id, else charge and cache the reply."""
    cached = cache.get(request_id)
    if cached is not None:
        return cached
    request = parse_payment_request(body, now=bank.clock.now())
    reply = await bank.charge(payment_id, request.amount, request.method)
    cache.set(request_id, reply)
    return reply


async def time_transaction_scopes(
    ours: Gateway, seeds: Gateway, merchant_ids: tuple[str, str], body: dict, n: int = 20
) -> dict[str, float]:
    """Wall-clock seconds for ``n`` concurrent creates: our pipeline vs the seed's scope.

    Both gateways need a real clock and a bank that sleeps its latency.
    """
    began = time.perf_counter()
    await asyncio.gather(*(ours.create_payment(merchant_ids[0], body) for _ in range(n)))
    ours_s = time.perf_counter() - began
    began = time.perf_counter()
    await asyncio.gather(*(seed_style_create(seeds, merchant_ids[1], body) for _ in range(n)))
    return {"ours_s": ours_s, "seed_s": time.perf_counter() - began}
