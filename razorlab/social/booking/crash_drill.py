"""Crash drill: the process dies after the charge, before the confirm; a restart reconciles.

Amy holds two seats and pays; the gateway takes her money, and the booking process dies
before it hears the answer (``kill -9``, a deploy, an OOM). Only what the process committed
to SQLite survives: her hold and the payment attempt written *before* the charge. A new
process opens the same file and runs the reconciler, either soon (her hold is still live:
the booking goes through) or after the hold ran out and Bob bought the seats (her money
goes back). The drill reports, for each, who sits where and how much money is kept without
a seat — which must be nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from razorlab.clock import ManualClock
from razorlab.money import Money
from razorlab.social.booking.payments import PaymentResult, SimulatedPayments
from razorlab.social.booking.service import BookingService
from razorlab.social.booking.simulation import popular_show
from razorlab.social.booking.sqlite_store import SqliteSeatStore

__all__ = ["ProcessDied", "crash_after_charge", "DRILL_SEATS", "PAYMENT_LATENCY_S"]

DRILL_SEATS = ("E5", "E6")
PAYMENT_LATENCY_S = 5.0  # seconds, mean answer time of the drill's gateway
_SHOW = "drill"


class ProcessDied(Exception):
    """Stands for the process being killed: nothing after this point runs."""


class _DiesAfterCharge:
    """The real gateway, but our process dies as the charge's answer arrives."""

    def __init__(self, gateway: SimulatedPayments):
        self.gateway = gateway

    async def charge(self, idempotency_key: str, amount: Money) -> PaymentResult:
        await self.gateway.charge(idempotency_key, amount)
        raise ProcessDied("killed after the charge, before the confirm")

    async def refund(self, payment_id: str, amount: Money) -> None:
        await self.gateway.refund(payment_id, amount)

    async def lookup(self, idempotency_key: str) -> PaymentResult | None:
        return await self.gateway.lookup(idempotency_key)


async def _run(clock: ManualClock, coro, seconds: float):
    """Start ``coro``, wait until it waits on the clock, advance ``seconds``, finish it."""
    task = asyncio.ensure_future(coro)
    while clock.pending_sleepers < 2 and not task.done():
        await asyncio.sleep(0.001)  # SQLite answers on its worker thread
    await clock.run_for(seconds)
    while not task.done():
        await asyncio.sleep(0.001)
    return await task


async def crash_after_charge(db_path: str | Path, restart_after_s: float, seed: int = 7) -> dict:
    """Run the drill once on a fresh database file; one row of the chapter's table."""
    clock = ManualClock()
    gateway = SimulatedPayments(seed, clock, failure_rate=0.0, slow_rate=0.0)
    gateway.mean_latency_s = PAYMENT_LATENCY_S
    store = await SqliteSeatStore.open(str(db_path))
    await store.add_show(popular_show(_SHOW))
    amy = await store.hold(_SHOW, DRILL_SEATS, "amy", clock.now(), 600)
    try:
        await _run(
            clock, BookingService(store, _DiesAfterCharge(gateway), clock).pay_and_confirm(amy), 60
        )
    except ProcessDied:
        pass
    finally:
        await store.close()
    await clock.run_for(restart_after_s)
    store = await SqliteSeatStore.open(str(db_path))  # the restarted process
    try:
        service = BookingService(store, gateway, clock)
        bob = None
        if clock.now() >= amy.expires_at:
            bob = await _run(clock, service.book(_SHOW, DRILL_SEATS, "bob"), 60)
        report = await service.reconcile()
        claims = await store.claims(_SHOW)
        owners = sorted({c.user_id for c in claims})
        bought = {(await store.get(c.token, clock.now())).payment_id for c in claims}
        kept = sum(m.paise for p, m in gateway.captured.items() if p not in bought)
        kept -= sum(m.paise for p, m in gateway.refunds.items() if p not in bought)
        return {
            "restart after": f"{restart_after_s / 60:g} min",
            "bob tried": bob is not None,
            "reconciler": "confirmed"
            if report.confirmed
            else "refunded"
            if report.refunded
            else "-",
            "seats belong to": ", ".join(owners),
            "amy refunded": Money(sum(m.paise for m in gateway.refunds.values())).format(),
            "kept without a seat": Money(kept).format(),
            "seats sold twice": sum(n > 1 for n in Counter(c.seat_id for c in claims).values()),
        }
    finally:
        await store.close()
