"""The seed's design mistakes, built with our engines so a notebook can show them fail.

Nothing here is used by the gateway; these functions exist to be compared with it.

1. :func:`seed_style_create` opens a database transaction, calls the bank *inside* it,
   then updates and commits — the seed's steps 5–8. With SQLite the open write
   transaction holds the database's single write lock for the whole bank call, so every
   writer waits behind it. InnoDB and PostgreSQL have no such lock (an idle ``BEGIN``
   locks no rows), but the transaction still pins a pooled connection — and any row locks
   taken before the call — for the bank's whole latency, so a pool of ``N`` connections
   passes at most ``N / latency`` payments a second. And if the process dies after the
   bank answered but before COMMIT, the rollback erases our record of a charge the bank
   made: money taken, no trace.
2. :func:`seed_style_cached_charge` de-duplicates with a cache keyed by a request id
   that is filled only after the bank answers. A retry with a new request id, a retry
   that arrives while the first is still at the bank, or a retry after the entry expired
   all charge again.
3. :func:`breaker_blast_radius` keys circuit breakers by payment method (the seed's
   ``IsOpen(req.Method)``) or by bank route, and lets one bank fail: keyed by method, the
   breaker also refuses the healthy banks' payments.
4. :func:`l1_cache_comparison` runs the seed's L1 (a ``sync.Map``: never evicts, never
   expires) next to a bounded LRU with a TTL: how many entries each holds after a stream
   of payments, and how long a change made elsewhere stays invisible.
"""

from __future__ import annotations

import asyncio
import time

from razorlab.clock import ManualClock
from razorlab.infra.breaker import BreakerConfig, BreakerRegistry, CircuitOpen
from razorlab.infra.cache import L1_MAX_ITEMS, L1_TTL_S, LRUCache
from razorlab.infra.outage import DRILL_CONFIG
from razorlab.payments.bank import BankReply, SimulatedBank
from razorlab.payments.gateway import Gateway, SimulatedCrash
from razorlab.payments.methods import parse_payment_request
from razorlab.payments.payment import Payment, authorize, fail
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "seed_style_create",
    "seed_style_cached_charge",
    "time_transaction_scopes",
    "breaker_blast_radius",
    "l1_cache_comparison",
]


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


def breaker_blast_radius(
    key_by: str,
    *,
    shares: dict[str, float] | None = None,
    failing: str = "hdfc",
    failure_rate: float = 0.9,
    method: str = "card",
    seconds: int = 120,
    calls_per_s: int = 30,
    config: BreakerConfig = DRILL_CONFIG,
    seed: int = DEFAULT_SEED,
) -> list[dict[str, int | str]]:
    """Card payments to several banks for ``seconds``; bank ``failing`` is down throughout.

    ``shares`` is each bank's share of the traffic (default: HDFC 60%, ICICI 25%, SBI 15%);
    each payment's bank is drawn from it, seeded. ``key_by="method"`` uses one breaker per
    payment method (the seed's ``IsOpen(req.Method)``); ``key_by="route"`` one per
    ``method:bank``, as our gateway does. One row per bank: payments sent, refused fast
    by a breaker, reached the bank, failed there.

    Keyed by method, the breaker sees the failing bank's failures diluted by the healthy
    banks' successes: if the failing bank carries enough traffic to push the mixed rate past
    the threshold, the breaker opens for *every* bank; if it carries less, the breaker never
    opens and the failing bank's customers keep waiting on timeouts.
    """
    if key_by not in ("method", "route"):
        raise ValueError(f"key_by must be 'method' or 'route', got {key_by!r}")
    shares = shares if shares is not None else {"hdfc": 0.6, "icici": 0.25, "sbi": 0.15}
    banks = list(shares)
    weights = [shares[b] / sum(shares.values()) for b in banks]
    n_calls = seconds * calls_per_s
    picks = rng(seed, "seedcheck.breaker.bank").choice(len(banks), size=n_calls, p=weights)
    draws = rng(seed, "seedcheck.breaker.outcome").random(n_calls)
    clock = ManualClock(start=0.0)
    registry = BreakerRegistry(clock, config)
    rows = {b: dict(bank=b, sent=0, refused_fast=0, reached_bank=0, failed=0) for b in banks}
    for i, (pick, draw) in enumerate(zip(picks.tolist(), draws.tolist(), strict=True)):
        clock.set(i / calls_per_s)
        bank = banks[pick]
        row = rows[bank]
        row["sent"] += 1
        breaker = registry.get(method if key_by == "method" else f"{method}:{bank}")
        try:
            breaker.allow()
        except CircuitOpen:
            row["refused_fast"] += 1
            continue
        row["reached_bank"] += 1
        if bank == failing and draw < failure_rate:
            row["failed"] += 1
            breaker.record_failure()
        else:
            breaker.record_success()
    return [{k.replace("_", " "): v for k, v in row.items()} for row in rows.values()]


def l1_cache_comparison(
    *,
    payments: int = 100_000,
    reads_per_s: float = 1_000.0,
    max_items: int = L1_MAX_ITEMS,
    ttl_s: float = L1_TTL_S,
    horizon_s: int = 3_600,
) -> list[dict[str, object]]:
    """The seed's unbounded, never-expiring L1 next to an LRU with ``max_items`` and ``ttl_s``.

    ``payments`` new payments are read once each, ``reads_per_s`` a second, and cached.
    Then another process captures the last one (this process's L1 hears nothing) and the
    payment is read once a second for ``horizon_s`` seconds. Rows: entries held after the
    stream, entries evicted, and seconds until a read shows ``captured`` (``None``: not
    within the horizon).
    """
    clock = ManualClock(start=0.0)
    seed_l1: dict[str, str] = {}  # what sync.Map.Store does: keep everything, forever
    lru = LRUCache(clock, max_items=max_items, ttl_s=ttl_s)
    database = {}
    for i in range(payments):
        clock.advance(1 / reads_per_s)
        key = f"pay_{i}"
        database[key] = "authorized"
        seed_l1.setdefault(key, database[key])
        if lru.get(key) is None:
            lru.set(key, database[key])
    last = f"pay_{payments - 1}"
    database[last] = "captured"  # written by another gateway process
    seen: dict[str, int | None] = {"seed": None, "lru": None}
    for second in range(1, horizon_s + 1):
        clock.advance(1.0)
        seed_value = seed_l1.get(last) or database[last]
        lru_value = lru.get(last)
        if lru_value is None:
            lru_value = database[last]
            lru.set(last, lru_value)
        for name, value in (("seed", seed_value), ("lru", lru_value)):
            if value == "captured" and seen[name] is None:
                seen[name] = second
    return [
        {"L1": "seed: sync.Map (no bound, no expiry)", "entries held": len(seed_l1),
         "evicted": 0, "seconds until a capture elsewhere is seen": seen["seed"]},
        {"L1": f"LRU, {max_items:,} entries, {ttl_s:g} s TTL", "entries held": len(lru),
         "evicted": lru.evictions, "seconds until a capture elsewhere is seen": seen["lru"]},
    ]  # fmt: skip
