"""A working payment gateway: lifecycle, idempotency, bank, storage, webhooks, HTTP API.

Learners use ``from razorlab.payments import Gateway, SimulatedBank, ...``. The pipeline
(:mod:`~razorlab.payments.gateway`) wires the engines: validation
(:mod:`~razorlab.payments.methods`), a per-merchant token bucket
(:mod:`~razorlab.payments.ratelimit`), breakers per bank route
(:mod:`~razorlab.payments.breaker`), a three-level cache (:mod:`~razorlab.payments.cache`),
SQLite storage without a transaction across the bank call (:mod:`~razorlab.payments.store`),
the simulated bank (:mod:`~razorlab.payments.bank`), reconciliation, the auto-refund
sweeper and an outbox of signed webhooks. Sharding and the latency budget are modelled
in :mod:`~razorlab.payments.sharding` and :mod:`~razorlab.payments.latency`.
UPI (VPAs, the pay/collect switch and the day-scale network model) lives in
:mod:`~razorlab.payments.upi`, :mod:`~razorlab.payments.upi_vpa` and
:mod:`~razorlab.payments.upi_network`.
"""

from razorlab.payments.api import create_app, start_server
from razorlab.payments.bank import (
    DECLINE_CARD,
    SUCCESS_CARD,
    TEST_INSTRUMENTS,
    BankOutcome,
    BankProfile,
    SimulatedBank,
    test_instruments_table,
)
from razorlab.payments.breaker import (
    HYSTRIX_LIKE,
    RESILIENCE4J_DEFAULTS,
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
)
from razorlab.payments.cache import InMemoryL2, LRUCache, MultiLevelCache
from razorlab.payments.drill import per_second, run_drill
from razorlab.payments.gateway import Gateway, PaymentFailed, Response, SimulatedCrash, crash_at
from razorlab.payments.idempotency import (
    IDEMPOTENCY_TTL_S,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    request_fingerprint,
)
from razorlab.payments.latency import PIPELINE_STEPS, LatencyBudget, Step, fanout_p99
from razorlab.payments.loadtest import LoadResult, load_test
from razorlab.payments.methods import luhn_valid, parse_payment_request
from razorlab.payments.outage import DRILL_CONFIG, simulate_outage
from razorlab.payments.payment import (
    TRANSITIONS,
    IllegalTransition,
    Payment,
    PaymentStatus,
    RefundTooLarge,
)
from razorlab.payments.ratelimit import RateLimited, RateLimiter, TokenBucket
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.sharding import (
    HashRing,
    compare_schemes,
    jump_hash,
    modulo_placement,
    rebalance_stats,
)
from razorlab.payments.sweeper import AUTO_REFUND_AFTER_S, AutoRefundSweeper
from razorlab.payments.upi import UPI_STATES, UpiSwitch, UpiTransaction
from razorlab.payments.upi_network import NetworkModel
from razorlab.payments.upi_vpa import InvalidVpa, Vpa, parse_vpa
from razorlab.payments.webhooks import (
    SIGNATURE_HEADER,
    RecordingEndpoint,
    WebhookDispatcher,
    sign,
    verify_signature,
)

__all__ = [
    "UPI_STATES",
    "UpiSwitch",
    "UpiTransaction",
    "NetworkModel",
    "InvalidVpa",
    "Vpa",
    "parse_vpa",
    "AUTO_REFUND_AFTER_S",
    "AutoRefundSweeper",
    "BankOutcome",
    "BankProfile",
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpen",
    "DECLINE_CARD",
    "DRILL_CONFIG",
    "Gateway",
    "HYSTRIX_LIKE",
    "HashRing",
    "IDEMPOTENCY_TTL_S",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "InMemoryL2",
    "LRUCache",
    "LatencyBudget",
    "LoadResult",
    "MultiLevelCache",
    "PIPELINE_STEPS",
    "Payment",
    "PaymentFailed",
    "PaymentStatus",
    "RESILIENCE4J_DEFAULTS",
    "RateLimited",
    "RateLimiter",
    "Reconciler",
    "RecordingEndpoint",
    "RefundTooLarge",
    "Response",
    "SIGNATURE_HEADER",
    "SUCCESS_CARD",
    "SimulatedBank",
    "SimulatedCrash",
    "crash_at",
    "Step",
    "TEST_INSTRUMENTS",
    "TRANSITIONS",
    "TokenBucket",
    "WebhookDispatcher",
    "compare_schemes",
    "create_app",
    "fanout_p99",
    "jump_hash",
    "load_test",
    "luhn_valid",
    "modulo_placement",
    "parse_payment_request",
    "per_second",
    "rebalance_stats",
    "request_fingerprint",
    "run_drill",
    "sign",
    "simulate_outage",
    "start_server",
    "test_instruments_table",
    "verify_signature",
]
