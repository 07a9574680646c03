"""The auto-refund sweeper: authorizations never captured are given back after 3 days.

Scenario: a customer's ₹2,000 is authorized (held on their card or account) but the
merchant never captures it — the order was cancelled, or their code forgot. Razorpay
refunds such payments automatically after 3 days (razorpay.com/docs: "authorized
payments not captured within 3 days are auto-refunded"), so money is not held
forever. The sweeper is that rule as a periodic job.

Design note: each refund goes through :meth:`Gateway.auto_refund`, a conditional
update (``WHERE status = 'authorized'``), so a merchant's capture racing the sweeper
has exactly one winner: the loser gets a conflict and nothing moves twice. The sweeper
runs every 15 minutes, so between the deadline and the next sweep an authorization is
still ``authorized``; a capture in that gap is refused anyway, at request time
(:class:`~razorlab.payments.payment.CaptureWindowExpired`, checked against the same
3 days). Time comes from the injected clock, so a test moves 3 days in one call.
"""

from __future__ import annotations

from razorlab.errors import ConflictError
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import CAPTURE_WINDOW_S, Payment, PaymentStatus

__all__ = ["AutoRefundSweeper", "AUTO_REFUND_AFTER_S", "SWEEP_INTERVAL_S"]

AUTO_REFUND_AFTER_S = CAPTURE_WINDOW_S  # seconds an authorization may stay uncaptured
SWEEP_INTERVAL_S = 15 * 60.0  # seconds between sweeps


class AutoRefundSweeper:
    def __init__(self, gateway: Gateway, *, window_s: float = AUTO_REFUND_AFTER_S):
        self.gateway = gateway
        self.window_s = window_s
        self.refunded = 0

    async def sweep_once(self) -> list[Payment]:
        """Refund every authorization older than the window; returns the refunded payments."""
        gw = self.gateway
        due = await gw.store.payments_in(
            PaymentStatus.AUTHORIZED, before=gw.clock.now() - self.window_s
        )
        done = []
        for payment in due:
            try:
                done.append(await gw.auto_refund(payment))
            except ConflictError:
                continue  # captured (or refunded) a moment ago: the other writer won
        self.refunded += len(done)
        return done

    async def run(self, *, interval_s: float = SWEEP_INTERVAL_S, sweeps: int | None = None) -> None:
        """Sweep every ``interval_s`` clock seconds (forever, or ``sweeps`` times)."""
        n = 0
        while sweeps is None or n < sweeps:
            await self.gateway.clock.sleep(interval_s)
            await self.sweep_once()
            n += 1
