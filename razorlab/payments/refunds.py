"""Refunds as Razorpay has them: the request, the entity, and the retry rule.

Scenario: a customer returns a ₹499 kurta. The merchant's server calls
``POST /v1/payments/{id}/refund`` with ``{"amount": 49900, "speed": "normal"}``, the
network drops the reply, and the server retries. Without a key the customer would be
paid twice. Razorpay's answer is the ``X-Refund-Idempotency`` header
(razorpay.com/docs/api/refunds): the same key returns the same refund, never a
second payout.

Design note: the refund's key and a fingerprint of its request are stored *in the
refund row*, in the transaction that reserves the money, under a unique index on
(merchant, key). So "same key → same refund" holds across restarts and processes,
and a different request under a used key is refused (400,
``idempotency_key_reused``) instead of silently returning a refund for other money.
Refunds of one payment are serialised by the gateway (a queue per payment), so fifty
concurrent partial refunds all succeed while money is refundable, one after another,
and the conditional update on the payment row still guarantees the sum never exceeds
the captured amount even across processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from razorlab.errors import ValidationError
from razorlab.payments.idempotency import MAX_KEY_LENGTH, request_fingerprint
from razorlab.payments.notes import parse_notes, parse_receipt

__all__ = [
    "RefundRequest",
    "RefundKeyReused",
    "parse_refund_request",
    "check_refund_key",
    "refund_fingerprint",
    "refund_json",
    "REFUND_SPEEDS",
    "REFUND_KEY_HEADER",
]

REFUND_SPEEDS = ("normal", "optimum")  # Razorpay: normal (5–7 days) or optimum (instant if it can)
REFUND_KEY_HEADER = "X-Refund-Idempotency"
_FIELDS = frozenset({"amount", "speed", "notes", "receipt"})


class RefundKeyReused(ValidationError):
    """An ``X-Refund-Idempotency`` key already names a different refund (Razorpay: 400)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 400


@dataclass(frozen=True)
class RefundRequest:
    """A validated refund body; ``amount=None`` means "all that is still refundable"."""

    amount: int | None = None
    speed: str = "normal"
    notes: dict[str, Any] = field(default_factory=dict)
    receipt: str | None = None

    def canonical(self) -> dict[str, Any]:
        return {"amount": self.amount, "speed": self.speed, "notes": self.notes,
                "receipt": self.receipt}  # fmt: skip


def parse_refund_request(body: object) -> RefundRequest:
    """Validate an untrusted refund body; raise ``ValidationError`` naming the field."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValidationError("the refund body must be a JSON object", field=None)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!s:.40}", field=unknown[0][:40])
    amount = body.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise ValidationError("amount must be an integer number of paise", field="amount")
    if amount is not None and amount <= 0:
        raise ValidationError("amount must be positive", field="amount")
    speed = body.get("speed", "normal")
    if speed not in REFUND_SPEEDS:
        raise ValidationError(f"speed must be one of {', '.join(REFUND_SPEEDS)}", field="speed")
    receipt = parse_receipt(body.get("receipt"))
    return RefundRequest(amount, speed, parse_notes(body.get("notes")), receipt)


def check_refund_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(
            f"{REFUND_KEY_HEADER} must be 1..{MAX_KEY_LENGTH} characters", field=REFUND_KEY_HEADER
        )
    return key


def refund_fingerprint(payment_id: str, request: RefundRequest, *, secret: bytes) -> str:
    """What a retry under the same key must repeat: the payment and the request (keyed)."""
    return request_fingerprint(
        "POST", f"/v1/payments/{payment_id}/refund", request.canonical(), secret=secret
    )


def refund_json(row: tuple) -> dict[str, Any]:
    """Razorpay's refund entity from a store row (``PaymentStore.refund`` columns)."""
    rid, payment_id, amount, currency, status, speed, notes, receipt, created_at = row[:9]
    return {
        "id": rid,
        "entity": "refund",
        "amount": amount,
        "currency": currency,
        "payment_id": payment_id,
        "notes": json.loads(notes) if notes else {},
        "receipt": receipt,
        "acquirer_data": {"arn": None},
        "created_at": int(created_at),
        "batch_id": None,
        "status": status,
        "speed_processed": "normal",  # the simulated bank has one speed
        "speed_requested": speed or "normal",
    }
