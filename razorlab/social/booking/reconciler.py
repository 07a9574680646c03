"""Reconciling payment attempts: no money kept for a seat the user did not get.

The booking flow calls something slow and outside its database — the payment gateway —
between holding seats and confirming them. A process can die anywhere in that gap. Each
hold therefore gets a durable *payment attempt* (``SeatStore.begin_payment``) written before
the charge and moved after it, and this reconciler, run after a restart and then every few
minutes, finishes every attempt left open:

* ``started`` — the charge's answer was never recorded: ask the gateway
  (``PaymentPort.lookup``) by the idempotency key. Paid or declined, record it and go on; no
  answer yet, leave it, unless it is older than ``ABANDON_AFTER_S`` (longer than any hold
  plus the slowest payment), when it is ``abandoned``;
* ``paid`` — money taken, seats not bought: if the hold is still held and in time the seats
  are still the user's, so confirm; otherwise (expired, released, resold) refund;
* ``refunding`` — a refund was claimed but not recorded as done: send it again; the
  gateway's ``AlreadyRefunded`` means the first one arrived.

Design note — why it cannot refund twice or refund a booking: every move is a
compare-and-set on the attempt's state in the store (``advance_payment``), so of a reconciler
and a live flow racing for one attempt exactly one claims ``paid → refunding``, and a store
confirms a hold only in the same step as ``paid → confirmed`` and never with money that is
``refunding``. A refund is sent only by whoever won ``paid → refunding``, or again for an
attempt stuck in ``refunding``, where a repeat is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from razorlab.money import Money
from razorlab.social.booking.models import (
    HOLD_TTL_S,
    AttemptState,
    BookingError,
    HoldStatus,
    PaymentAttempt,
    SeatStore,
)
from razorlab.social.booking.payments import (
    SLOW_PAYMENT_LATENCY_S,
    AlreadyRefunded,
    PaymentPort,
    PaymentResult,
)

__all__ = ["ABANDON_AFTER_S", "ReconcileReport", "reconcile", "record_charge", "refund_attempt"]

ABANDON_AFTER_S = HOLD_TTL_S + SLOW_PAYMENT_LATENCY_S + 60  # seconds: no answer by now, none


@dataclass(frozen=True)
class ReconcileReport:
    """What one pass did, attempt by attempt."""

    confirmed: int = 0  # paid, seats still theirs: the booking went through after all
    refunded: int = 0  # paid, but the seats were gone: the money went back
    declined: int = 0  # the charge had failed; nothing to give back
    abandoned: int = 0  # the gateway never saw the charge
    pending: int = 0  # too early to tell (a charge may still be in flight)


async def record_charge(store: SeatStore, token: int, paid: PaymentResult, now: float) -> None:
    """Record a charge's answer on a ``started`` attempt (a no-op if someone did already)."""
    if paid.succeeded:
        await store.advance_payment(
            token, AttemptState.STARTED, AttemptState.PAID, now, paid.payment_id
        )
    else:
        await store.advance_payment(token, AttemptState.STARTED, AttemptState.DECLINED, now)


async def refund_attempt(
    store: SeatStore,
    payments: PaymentPort,
    token: int,
    paid: PaymentResult,
    amount: Money,
    now: float,
) -> bool:
    """Give a charge's money back, once; True if it is refunded (by us or by another).

    Records the charge first if nobody did. If the hold was confirmed with money from
    outside this attempt, the attempt's own charge is refunded directly.
    """
    await record_charge(store, token, paid, now)
    await store.advance_payment(token, AttemptState.PAID, AttemptState.REFUNDING, now)
    attempt = await store.attempt(token)
    if attempt.payment_id != paid.payment_id:  # the attempt bought the hold with other money
        await _refund_once(payments, paid.payment_id, amount)
        return True
    if attempt.state is AttemptState.REFUNDING:
        await _send_refund(store, payments, attempt, amount, now)
        attempt = await store.attempt(token)
    return attempt.state in (AttemptState.REFUNDING, AttemptState.REFUNDED)


async def _refund_once(payments: PaymentPort, payment_id: str, amount: Money) -> None:
    try:
        await payments.refund(payment_id, amount)
    except AlreadyRefunded:
        pass  # an earlier refund of this payment arrived: nothing more to give back


async def _send_refund(
    store: SeatStore, payments: PaymentPort, attempt: PaymentAttempt, amount: Money, now: float
) -> None:
    await _refund_once(payments, attempt.payment_id, amount)
    await store.advance_payment(attempt.token, AttemptState.REFUNDING, AttemptState.REFUNDED, now)


async def reconcile(
    store: SeatStore,
    payments: PaymentPort,
    now: float,
    abandon_after_s: float = ABANDON_AFTER_S,
) -> ReconcileReport:
    """Finish every open payment attempt; safe to run while bookings are in flight."""
    counts = dict.fromkeys(("confirmed", "refunded", "declined", "abandoned", "pending"), 0)
    for attempt in await store.open_attempts():
        if attempt.state is AttemptState.STARTED:
            paid = await payments.lookup(attempt.idempotency_key)
            if paid is None:
                old = now - attempt.started_at >= abandon_after_s
                moved = old and await store.advance_payment(
                    attempt.token, AttemptState.STARTED, AttemptState.ABANDONED, now
                )
                counts["abandoned" if moved else "pending"] += 1
                continue
            await record_charge(store, attempt.token, paid, now)
            attempt = await store.attempt(attempt.token)
        if attempt.state is AttemptState.DECLINED:
            counts["declined"] += 1
        elif attempt.state is AttemptState.PAID:
            counts[await _confirm_or_refund(store, payments, attempt, now)] += 1
        elif attempt.state is AttemptState.REFUNDING:
            await _send_refund(store, payments, attempt, attempt.amount, now)
            counts["refunded"] += 1
    return ReconcileReport(**counts)


async def _confirm_or_refund(
    store: SeatStore, payments: PaymentPort, attempt: PaymentAttempt, now: float
) -> str:
    hold = await store.get(attempt.token, now)  # expires it if its time is up
    if hold.status in (HoldStatus.HELD, HoldStatus.CONFIRMED):
        try:  # the seats are still this payment's: the booking goes through
            await store.confirm(hold.token, hold.user_id, attempt.payment_id, now)
        except BookingError:
            pass  # confirmed with other money, or lost the seats meanwhile: refund this
    if (await store.attempt(attempt.token)).state is AttemptState.CONFIRMED:
        return "confirmed"
    paid = PaymentResult(True, attempt.payment_id)
    await refund_attempt(store, payments, attempt.token, paid, attempt.amount, now)
    return "refunded"
