"""Razorpay's error contract: how every refusal of the HTTP API is spelled.

Scenario: a merchant integrates with the official ``razorpay`` SDK. The SDK reads
``error.code`` of any non-2xx answer and raises ``BadRequestError`` for
``BAD_REQUEST_ERROR``, ``GatewayError`` for ``GATEWAY_ERROR`` and ``ServerError`` for
``SERVER_ERROR`` — *and for any other code*. So an API that invents its own codes
(``CARD_DECLINED``, ``NOT_FOUND``) makes every client mistake look like a server fault.
Razorpay's body (razorpay.com/docs/errors, API reference "Errors")::

    {"error": {"code": "BAD_REQUEST_ERROR", "description": "...", "source": "business",
               "step": "payment_initiation", "reason": "input_validation_failed",
               "metadata": {}, "field": "amount"}}

Design note: razorlab's engines keep their own precise error classes (``code`` such as
``INSUFFICIENT_FUNDS``, ``IDEMPOTENCY_KEY_REUSED``; the shared
:class:`~razorlab.errors.RazorlabError`). This module is the one place that translates
them: the razorlab code becomes the lower-case ``reason`` (the specific cause, which is
what a merchant's code should branch on), the class of fault becomes ``code``, and the
HTTP status is Razorpay's — it answers 400 where razorlab's engines say 402 (payment
failed) or 422 (state conflict), because Razorpay has no 402/422. One exception is ours:
a reused ``Idempotency-Key`` on razorlab's own ``POST /v1/payments`` keeps the IETF
draft's 422 (the chapter and its exercise teach that draft); Razorpay's refund key
``X-Refund-Idempotency`` answers 400 (:class:`~razorlab.payments.refunds.RefundKeyReused`).
Either way ``code`` is ``BAD_REQUEST_ERROR``, so the SDK raises ``BadRequestError``. A
bank-side failure
(bank down, no record, breaker open) is a ``GATEWAY_ERROR``; an unexpected exception is a
``SERVER_ERROR`` 500 — which the API's property test proves no input can reach.

An id the caller cannot see — made up, or another merchant's payment, refund or order —
is :class:`UnknownId`: Razorpay answers 400 ``BAD_REQUEST_ERROR`` "The id provided does
not exist" (not a 404), the same either way, so no one learns that another merchant's id
exists. A path no route matches stays a 404.
"""

from __future__ import annotations

from typing import Any

from razorlab.errors import NotFoundError, RazorlabError

__all__ = [
    "BAD_REQUEST_ERROR",
    "GATEWAY_ERROR",
    "SERVER_ERROR",
    "ERROR_FIELDS",
    "razorpay_error",
    "server_error",
    "UnknownId",
]

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"  # the client (merchant or customer) must change something
GATEWAY_ERROR = "GATEWAY_ERROR"  # the bank or network failed; retrying later may work
SERVER_ERROR = "SERVER_ERROR"  # our fault

#: The keys of every error body, in Razorpay's order.
ERROR_FIELDS = ("code", "description", "source", "step", "reason", "metadata", "field")

#: razorlab statuses Razorpay does not use → the status Razorpay answers with.
_STATUS = {402: 400, 422: 400}
#: razorlab codes whose own status is kept (see the design note).
_KEEP_STATUS = frozenset({"IDEMPOTENCY_KEY_REUSED"})

#: Bank outcomes that are not the customer's doing (the bank was down or never saw it).
_GATEWAY_REASONS = frozenset({"BANK_UNAVAILABLE", "BANK_NO_RECORD", "SERVICE_UNAVAILABLE"})

#: Who caused a payment failure, by razorlab's decline code (Razorpay's ``source``).
_PAYMENT_SOURCE = {
    "INSUFFICIENT_FUNDS": "customer",
    "LIMIT_EXCEEDED": "customer",
    "CARD_DECLINED": "issuer_bank",
    "PAYMENT_DECLINED": "bank",
    "BANK_UNAVAILABLE": "gateway",
    "BANK_NO_RECORD": "gateway",
    "UPI_COLLECT_DECLINED": "customer",
    "UPI_COLLECT_EXPIRED": "customer",  # the payer never answered (NPCI U69)
    "AUTHENTICATION_FAILED": "customer",  # too many wrong OTPs
    "ORDER_ALREADY_PAID": "business",
}


#: The customer's own mistakes during authentication: Razorpay names the customer and the step.
_AUTHENTICATION_CODES = frozenset({"INCORRECT_OTP", "AUTHENTICATION_FAILED"})


class UnknownId(NotFoundError):
    """Razorpay's answer to an id that is not the caller's: 400, "The id provided does not
    exist" — the same for a made-up id and another merchant's, so neither leaks."""

    code = BAD_REQUEST_ERROR
    http_status = 400

    def __init__(self, field: str = "id"):
        super().__init__("The id provided does not exist", field=field)


def _reason(code: str) -> str:
    if code in ("BAD_REQUEST_ERROR", "INVALID_AMOUNT", "INVALID_CURRENCY", "CURRENCY_MISMATCH"):
        return "input_validation_failed"  # Razorpay's reason for a malformed request
    if code == "PAYMENT_DECLINED":
        return "payment_failed"
    return code.lower()


def razorpay_error(err: RazorlabError, *, step: str = "NA") -> tuple[int, dict[str, Any]]:
    """The HTTP status and ``{"error": {...}}`` body Razorpay would send for ``err``."""
    status = err.http_status
    if err.code not in _KEEP_STATUS:
        status = _STATUS.get(status, status)
    metadata = dict(getattr(err, "metadata", None) or {})
    code = err.code or "BAD_REQUEST_ERROR"
    source = "business"  # the merchant's request (Razorpay's word for the merchant)
    if "payment_id" in metadata:  # a payment the bank refused: name who refused it
        source = _PAYMENT_SOURCE.get(code, "bank")
        step = "payment_authorization"
    if code in _AUTHENTICATION_CODES:
        source, step = "customer", "payment_authentication"
    if code in _GATEWAY_REASONS or (500 <= status and status != 500):
        kind, source = GATEWAY_ERROR, "gateway" if source == "business" else source
    elif status >= 500:
        kind, source = SERVER_ERROR, "internal"
    else:
        kind = BAD_REQUEST_ERROR
    body = {
        "code": kind,
        "description": err.description,
        "source": source,
        "step": step,
        "reason": _reason(code),
        "metadata": metadata,
        "field": err.field,
    }
    return status, {"error": body}


def server_error() -> tuple[int, dict[str, Any]]:
    """The answer to a bug: a JSON ``SERVER_ERROR`` that reveals nothing of the cause."""
    err = RazorlabError("the server could not process this request", code="SERVER_ERROR")
    err.http_status = 500
    return razorpay_error(err)
