"""A working payment gateway: lifecycle, idempotency, bank, storage, webhooks, HTTP API.

Learners use ``from razorlab.payments import Gateway, SimulatedBank, ...``. The pipeline
(:mod:`~razorlab.payments.gateway`) wires the engines: validation
(:mod:`~razorlab.payments.methods`), a per-merchant token bucket and breakers per bank
route (from :mod:`razorlab.infra`), SQLite storage without a transaction across the bank
call (:mod:`~razorlab.payments.store`), the simulated bank (:mod:`~razorlab.payments.bank`),
reconciliation, the auto-refund sweeper and an outbox of signed webhooks. Refunds
(:mod:`~razorlab.payments.refunds`), orders (:mod:`~razorlab.payments.orders`) and
checkout's signed result (:mod:`~razorlab.payments.checkout`) follow Razorpay, and every
API error is Razorpay's contract (:mod:`~razorlab.payments.error_contract`). The generic
building blocks (breaker, rate limit, cache, sharding, latency budget) live in
:mod:`razorlab.infra`; UPI has its own package, :mod:`razorlab.upi`.
"""

from razorlab.payments.api import create_app, start_server
from razorlab.payments.bank import (
    DECLINE_CARD,
    REFUND_FAIL_CARD,
    SUCCESS_CARD,
    TEST_INSTRUMENTS,
    BankOutcome,
    BankProfile,
    SimulatedBank,
    test_instruments_table,
)
from razorlab.payments.checkout import Checkout
from razorlab.payments.drill import per_second, run_drill
from razorlab.payments.error_contract import razorpay_error
from razorlab.payments.gateway import Gateway, PaymentFailed, Response, SimulatedCrash, crash_at
from razorlab.payments.idempotency import (
    IDEMPOTENCY_TTL_S,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    request_fingerprint,
)
from razorlab.payments.loadtest import LoadResult, load_test
from razorlab.payments.methods import luhn_valid, parse_payment_request
from razorlab.payments.orders import Order, OrderStatus, checkout_signature
from razorlab.payments.payment import (
    TRANSITIONS,
    CaptureWindowExpired,
    IllegalTransition,
    Payment,
    PaymentStatus,
    RefundTooLarge,
)
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.refunds import (
    REFUND_KEY_HEADER,
    RefundKeyReused,
    RefundRequest,
    parse_refund_request,
)
from razorlab.payments.sweeper import AUTO_REFUND_AFTER_S, AutoRefundSweeper
from razorlab.payments.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    RecordingEndpoint,
    WebhookDispatcher,
    sign,
    verify_signature,
)

__all__ = [
    "AUTO_REFUND_AFTER_S",
    "AutoRefundSweeper",
    "BankOutcome",
    "BankProfile",
    "CaptureWindowExpired",
    "Checkout",
    "DECLINE_CARD",
    "Gateway",
    "IDEMPOTENCY_TTL_S",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "LoadResult",
    "Order",
    "OrderStatus",
    "Payment",
    "PaymentFailed",
    "PaymentStatus",
    "Reconciler",
    "RecordingEndpoint",
    "REFUND_FAIL_CARD",
    "REFUND_KEY_HEADER",
    "RefundKeyReused",
    "RefundRequest",
    "RefundTooLarge",
    "Response",
    "SIGNATURE_HEADER",
    "EVENT_ID_HEADER",
    "SUCCESS_CARD",
    "SimulatedBank",
    "SimulatedCrash",
    "crash_at",
    "parse_refund_request",
    "razorpay_error",
    "TEST_INSTRUMENTS",
    "TRANSITIONS",
    "WebhookDispatcher",
    "checkout_signature",
    "create_app",
    "load_test",
    "luhn_valid",
    "parse_payment_request",
    "per_second",
    "request_fingerprint",
    "run_drill",
    "sign",
    "start_server",
    "test_instruments_table",
    "verify_signature",
]
