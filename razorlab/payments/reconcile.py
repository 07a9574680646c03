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
"""

from __future__ import annotations

from dataclasses import dataclass

from razorlab.payments.bank import BankOutcome
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import PaymentStatus

__all__ = ["Reconciler", "ReconcileReport", "RECONCILE_GRACE_S"]

RECONCILE_GRACE_S = 30.0  # seconds a created payment may be in flight before we ask the bank


@dataclass(frozen=True)
class ReconcileReport:
    examined: int = 0
    authorized: int = 0
    failed: int = 0
    still_pending: int = 0
    captures_resent: int = 0
    refunds_resent: int = 0


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
                               refunds_resent=refunds)  # fmt: skip

    async def _resend_captures(self) -> int:
        gw = self.gateway
        resent = 0
        for payment in await gw.store.payments_in(PaymentStatus.CAPTURED, before=gw.clock.now()):
            record = gw.bank.status(payment.id)
            if record is not None and record.status == "authorized":
                gw.bank.capture(payment.id)
                resent += 1
        return resent
