"""Reconciliation: ask the bank what happened to every payment whose outcome we never learned.

Scenario: the gateway committed a payment intent, called the bank, and then the reply
timed out — or the process crashed before it could write the answer down. The payment
is stuck in ``created``: the customer may or may not have been charged. Guessing is
wrong both ways (call it failed and the customer paid for nothing; charge again and
they pay twice). The reconciler asks the bank (:meth:`SimulatedBank.status`, what a
UPI check-status or an acquirer's query API does) and records the bank's answer.

Design note: only payments older than a grace period are examined, so a request still
waiting for its bank reply is never raced; the grace must exceed the bank timeout.
"Never received" is a definitive answer once the grace has passed (the request that
would have sent it is dead), so such a payment fails with ``BANK_NO_RECORD``. A still
``pending`` answer leaves the payment for the next run. The same pass re-sends captures
and refunds the bank has not heard of (both are idempotent at the bank).

"Never received" can still be wrong: a bank may post a charge late. So for
:data:`LATE_AUTH_LOOKBACK_S` after a ``BANK_NO_RECORD`` failure the reconciler keeps
asking, and a late confirmation makes the payment ``authorized`` with a
``payment.authorized`` event — Razorpay's *late authorisation*. It is not auto-captured
(the customer was told it failed); the merchant may capture it within the 3-day window
counted from the confirmation, after which the sweeper auto-refunds it. Simplified: the
24 h lookback is ours (Razorpay does not publish how late a bank may confirm), and
Razorpay lets a merchant choose to auto-capture late authorisations.
"""

from __future__ import annotations

from dataclasses import dataclass

from razorlab.payments.bank import BankOutcome
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import LATE_AUTHORIZABLE_CODE, PaymentStatus
from razorlab.payments.store import ConcurrentUpdate

__all__ = ["Reconciler", "ReconcileReport", "RECONCILE_GRACE_S", "LATE_AUTH_LOOKBACK_S"]

RECONCILE_GRACE_S = 30.0  # seconds a created payment may be in flight before we ask the bank
LATE_AUTH_LOOKBACK_S = 24 * 3600.0  # seconds we keep asking about a "never received" payment


@dataclass(frozen=True)
class ReconcileReport:
    examined: int = 0
    authorized: int = 0
    failed: int = 0
    still_pending: int = 0
    captures_resent: int = 0
    refunds_resent: int = 0
    late_authorized: int = 0


class Reconciler:
    """``await Reconciler(gateway).run_once()`` resolves every stuck payment it can."""

    def __init__(self, gateway: Gateway, *, grace_s: float = RECONCILE_GRACE_S):
        self.gateway = gateway
        self.grace_s = max(grace_s, gateway.bank.profile.timeout_s)

    async def run_once(self) -> ReconcileReport:
        gw = self.gateway
        stuck = await gw.store.payments_in(
            PaymentStatus.CREATED, before=gw.clock.now() - self.grace_s
        )
        counts = {"authorized": 0, "failed": 0, "still_pending": 0}
        for payment in stuck:
            record = gw.bank.status(payment.id)
            if record is not None and record.status == "pending":
                counts["still_pending"] += 1
                continue
            if record is None:
                after = gw.resolve(payment, BankOutcome.DECLINED, None, "BANK_NO_RECORD")
            elif record.status == "declined":
                after = gw.resolve(payment, BankOutcome.DECLINED, None, record.reason)
            else:
                after = gw.resolve(payment, BankOutcome.SUCCESS, record.reference, None)
            await gw.finish_resolution(payment, after)
            counts["authorized" if after.status is not PaymentStatus.FAILED else "failed"] += 1
        captures = await self._resend_captures()
        refunds = 0
        for refund_id, payment_id, _ in await gw.store.pending_refunds():
            await gw.resend_refund(refund_id, payment_id)
            refunds += 1
        return ReconcileReport(len(stuck), **counts, captures_resent=captures,
                               refunds_resent=refunds,
                               late_authorized=await self._late_authorizations())  # fmt: skip

    async def _late_authorizations(self) -> int:
        """Authorize the recent ``BANK_NO_RECORD`` failures the bank has since confirmed."""
        gw = self.gateway
        since = gw.clock.now() - LATE_AUTH_LOOKBACK_S
        late = 0
        for payment in await gw.store.failed_with(LATE_AUTHORIZABLE_CODE, since=since):
            record = gw.bank.status(payment.id)
            if record is None or record.status != "authorized":
                continue
            try:
                await gw.late_authorize(payment, record.reference)
            except ConcurrentUpdate:
                continue  # another reconciler authorized it a moment ago
            late += 1
        return late

    async def _resend_captures(self) -> int:
        gw = self.gateway
        resent = 0
        for payment in await gw.store.payments_in(PaymentStatus.CAPTURED, before=gw.clock.now()):
            record = gw.bank.status(payment.id)
            if record is not None and record.status == "authorized":
                gw.bank.capture(payment.id)
                resent += 1
        return resent
