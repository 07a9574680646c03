"""A payment and the only moves its status may make.

Scenario: a merchant asks the gateway to take ₹499 from a customer. The payment is
``created`` when we have recorded the intent, ``authorized`` when the bank has
reserved the money, ``captured`` when the merchant keeps it, and ``refunded`` (or
``partially_refunded``) when money goes back; a bank decline makes it ``failed`` (with
Razorpay's ``error_source``, ``error_step`` and ``error_reason``, read from the API's error
contract, :mod:`razorlab.payments.error_contract`, so a payment and an error answer agree).
These are Razorpay's payment states (razorpay.com/docs/payments/payments/#payment-life-cycle),
plus one of ours: the engine tracks ``partially_refunded`` as its own state, but the API
shows it as Razorpay does — ``status: captured`` with ``refund_status: partial`` (and
``refund_status: full`` once ``refunded``), see :meth:`Payment.to_json`.

Design note: a :class:`Payment` is an immutable value and every transition is a
function that returns a new one or raises :class:`IllegalTransition`. The legal moves
live in one table, :data:`TRANSITIONS`, so the state machine can be read (and tested
by hypothesis) in one place. Invariants held by construction:

* ``0 <= amount_refunded <= amount``, and refunds only happen to captured money —
  except the auto-refund of an authorization that was never captured (Razorpay
  reverses those after 3 days), which refunds the whole amount at once;
* ``failed``, ``refunded`` are final: no operation moves a payment out of them. One
  *correction* is not a move: a refund the bank refused gives its amount back
  (:func:`release_refund`), so the payment reads as if that refund had never been
  asked for — a fully refunded payment whose refund failed is ``captured`` again, with
  ``amount_refunded`` and ``refund_status`` restored, as Razorpay shows it. The other
  correction is *late authorisation* (:func:`late_authorize`): a payment the gateway
  failed only because the bank had no record of it (``BANK_NO_RECORD``, our guess, not
  the bank's decision) becomes ``authorized`` when the bank confirms it late — Razorpay's
  "late authorization"; a bank's decline is never reopened;
* an authorization may be captured only within :data:`CAPTURE_WINDOW_S` (3 days) of
  being authorized; after that it is Razorpay's auto-refund's, and a capture is refused
  (:class:`CaptureWindowExpired`) even before the sweeper has run;
* amounts are integer paise in :class:`~razorlab.money.Money`, never floats;
* ``fee`` and ``tax`` (paise) are set by :func:`capture` and by nothing else, from
  :func:`razorlab.fees.fee_and_tax` (a flat 2% MDR plus 18% GST on it, ``fee`` including
  ``tax`` — our simplification of Razorpay's pricing); before capture both are null, as
  Razorpay shows an uncaptured payment. The fee is not given back by a refund.

The entity (:meth:`Payment.to_json`) has Razorpay's fields: the customer's ``email`` and
``contact``, the merchant's ``notes`` and ``description`` (checked in
:mod:`razorlab.payments.notes`), ``international``, and the method's ``card_id``/``card``,
``bank``, ``wallet``, ``vpa`` (:func:`razorlab.payments.methods.method_fields`) — never the
card number, which no payment holds. ``auto_capture`` and ``bank_reference`` are ours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from razorlab.errors import RazorlabError, StateError
from razorlab.fees import fee_and_tax
from razorlab.money import Money
from razorlab.payments.error_contract import razorpay_error
from razorlab.payments.methods import method_fields

__all__ = [
    "PaymentStatus",
    "Payment",
    "IllegalTransition",
    "RefundTooLarge",
    "CaptureWindowExpired",
    "CAPTURE_WINDOW_S",
    "TRANSITIONS",
    "FINAL_STATUSES",
    "authorize",
    "fail",
    "capture",
    "refund",
    "auto_refund",
    "release_refund",
    "late_authorize",
    "LATE_AUTHORIZABLE_CODE",
]

LATE_AUTHORIZABLE_CODE = "BANK_NO_RECORD"  # the only failure a late confirmation may correct
CAPTURE_WINDOW_S = 3 * 24 * 3600.0  # Razorpay auto-refunds authorizations uncaptured for 3 days


class PaymentStatus(str, Enum):
    """Razorpay's payment statuses (the string is what the API returns)."""

    CREATED = "created"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


S = PaymentStatus

#: status -> statuses it may move to. Anything else raises :class:`IllegalTransition`.
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.CREATED: frozenset({S.AUTHORIZED, S.FAILED}),
    S.AUTHORIZED: frozenset({S.CAPTURED, S.REFUNDED}),  # REFUNDED: auto-refund of an uncaptured
    S.CAPTURED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset(),
}

#: Statuses nothing can leave.
FINAL_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(StateError):
    """The payment's current status does not allow this operation (HTTP 422)."""

    code = "INVALID_PAYMENT_STATE"


class RefundTooLarge(StateError):
    """A refund would return more than was captured."""

    code = "REFUND_EXCEEDS_CAPTURED"


class CaptureWindowExpired(StateError):
    """The authorization is older than :data:`CAPTURE_WINDOW_S`: it will be auto-refunded."""

    code = "CAPTURE_WINDOW_EXPIRED"


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment attempt. Timestamps are clock seconds; ``None`` until the step happens."""

    id: str
    merchant_id: str
    amount: Money
    method: str
    status: PaymentStatus = S.CREATED
    amount_refunded: int = 0  # paise
    auto_capture: bool = False
    method_details: tuple[tuple[str, str], ...] = ()  # masked, safe to show and store
    bank_reference: str | None = None
    error_code: str | None = None
    error_description: str | None = None
    created_at: float = 0.0
    authorized_at: float | None = None
    captured_at: float | None = None
    order_id: str | None = None  # the order it pays (Razorpay's checkout flow), if any
    email: str | None = None  # the customer's, as given at creation
    contact: str | None = None
    notes: tuple[tuple[str, str | int | float], ...] = ()  # the merchant's key-value pairs
    description: str | None = None
    fee: int | None = None  # paise, GST included; set at capture
    tax: int | None = None  # paise of GST within ``fee``

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def international(self) -> bool:
        """Razorpay's ``international``; ours: a payment not in INR (we have no BIN table)."""
        return self.currency != "INR"

    @property
    def refundable(self) -> int:
        """Paise that may still be refunded (only captured money is refundable)."""
        if self.status not in (S.CAPTURED, S.PARTIALLY_REFUNDED):
            return 0
        return self.amount.paise - self.amount_refunded

    @property
    def api_status(self) -> str:
        """The status Razorpay shows: a partly refunded payment is still ``captured``."""
        return S.CAPTURED.value if self.status is S.PARTIALLY_REFUNDED else self.status.value

    @property
    def refund_status(self) -> str | None:
        """Razorpay's ``refund_status``: ``None``, ``"partial"`` or ``"full"``."""
        if self.amount_refunded == 0:
            return None
        return "full" if self.amount_refunded == self.amount.paise else "partial"

    def to_json(self) -> dict[str, object]:
        """The API representation, shaped like Razorpay's payment entity."""
        return {
            "id": self.id,
            "entity": "payment",
            "amount": self.amount.paise,
            "currency": self.currency,
            "status": self.api_status,
            "order_id": self.order_id,
            "international": self.international,
            "method": self.method,
            "amount_refunded": self.amount_refunded,
            "refund_status": self.refund_status,
            "captured": self.status in (S.CAPTURED, S.PARTIALLY_REFUNDED)
            or (self.status is S.REFUNDED and self.captured_at is not None),
            "description": self.description,
            **method_fields(self.method, self.method_details, international=self.international),
            "email": self.email,
            "contact": self.contact,
            "notes": dict(self.notes),
            "fee": self.fee,
            "tax": self.tax,
            "auto_capture": self.auto_capture,
            "bank_reference": self.bank_reference,
            "error_code": self.error_code,
            "error_description": self.error_description,
            **self._error_details(),
            "created_at": int(self.created_at),
        }

    def _error_details(self) -> dict[str, str | None]:
        """Razorpay's ``error_source``, ``error_step``, ``error_reason`` of a failed payment:
        what the API's error contract says about this failure (one mapping for both)."""
        if self.error_code is None:
            return dict.fromkeys(_ERROR_DETAILS)
        failure = RazorlabError(self.error_description or "", code=self.error_code)
        failure.metadata = {"payment_id": self.id}  # type: ignore[attr-defined]
        error = razorpay_error(failure)[1]["error"]
        return {key: error[key.removeprefix("error_")] for key in _ERROR_DETAILS}


_ERROR_DETAILS = ("error_source", "error_step", "error_reason")


def _move(payment: Payment, to: PaymentStatus, action: str) -> None:
    if to not in TRANSITIONS[payment.status]:
        raise IllegalTransition(
            f"cannot {action} payment {payment.id}: it is {payment.status.value}",
            field="status",
        )


def authorize(payment: Payment, *, at: float, bank_reference: str) -> Payment:
    """The bank reserved the money."""
    _move(payment, S.AUTHORIZED, "authorize")
    return replace(payment, status=S.AUTHORIZED, authorized_at=at, bank_reference=bank_reference)


def fail(payment: Payment, *, code: str, description: str) -> Payment:
    """The bank declined (or never took) the money; final."""
    _move(payment, S.FAILED, "fail")
    return replace(payment, status=S.FAILED, error_code=code, error_description=description)


def capture(payment: Payment, *, at: float) -> Payment:
    """The merchant keeps the authorized amount (Razorpay captures the full amount).

    The gateway's ``fee`` and ``tax`` are charged now (:func:`razorlab.fees.fee_and_tax`).
    Refused after :data:`CAPTURE_WINDOW_S`: Razorpay auto-refunds an authorization not
    captured within 3 days, so a later capture must not take money already promised back.
    """
    _move(payment, S.CAPTURED, "capture")
    if payment.authorized_at is not None and at - payment.authorized_at > CAPTURE_WINDOW_S:
        raise CaptureWindowExpired(
            f"payment {payment.id} was authorized more than 3 days ago and can no longer be "
            "captured; it will be auto-refunded",
            field="id",
        )
    fee, tax = fee_and_tax(payment.amount)
    return replace(payment, status=S.CAPTURED, captured_at=at, fee=fee.paise, tax=tax.paise)


def refund(payment: Payment, amount: Money) -> Payment:
    """Return ``amount`` of captured money; several partial refunds may follow each other."""
    if amount.currency != payment.currency:
        raise RefundTooLarge(
            f"refund currency {amount.currency} differs from payment's {payment.currency}",
            field="currency",
        )
    if amount.paise <= 0:
        raise RefundTooLarge("refund amount must be positive", field="amount")
    if payment.status not in (S.CAPTURED, S.PARTIALLY_REFUNDED):
        _move(payment, S.PARTIALLY_REFUNDED, "refund")  # raises with the right message
    if amount.paise > payment.refundable:
        raise RefundTooLarge(
            f"refund of {amount.paise} paise exceeds the {payment.refundable} paise "
            f"still refundable on {payment.id}",
            field="amount",
        )
    refunded = payment.amount_refunded + amount.paise
    to = S.REFUNDED if refunded == payment.amount.paise else S.PARTIALLY_REFUNDED
    _move(payment, to, "refund")
    return replace(payment, status=to, amount_refunded=refunded)


def auto_refund(payment: Payment) -> Payment:
    """Give back an authorization the merchant never captured (the 3-day sweeper)."""
    if payment.status is not S.AUTHORIZED:
        raise IllegalTransition(
            f"only authorized payments are auto-refunded; {payment.id} is {payment.status.value}",
            field="status",
        )
    return replace(payment, status=S.REFUNDED, amount_refunded=payment.amount.paise)


def release_refund(payment: Payment, paise: int) -> Payment:
    """Give back ``paise`` reserved by a refund the bank refused (a correction, not a move).

    The payment becomes what it would be had the refund never been asked for:
    ``captured`` when nothing stays refunded, else ``partially_refunded``.
    """
    if payment.captured_at is None or not 0 < paise <= payment.amount_refunded:
        raise IllegalTransition(
            f"payment {payment.id} has no refund of {paise} paise to release", field="amount"
        )
    refunded = payment.amount_refunded - paise
    return replace(
        payment, status=S.PARTIALLY_REFUNDED if refunded else S.CAPTURED, amount_refunded=refunded
    )


def late_authorize(payment: Payment, *, at: float, bank_reference: str) -> Payment:
    """The bank confirmed, late, a payment we failed for want of a record (a correction).

    Only a ``failed`` payment whose error is :data:`LATE_AUTHORIZABLE_CODE` qualifies. It
    is authorized ``at`` the confirmation, so the capture window (and the auto-refund)
    counts from then; it is never auto-captured, since the customer was told it failed.
    """
    if payment.status is not S.FAILED or payment.error_code != LATE_AUTHORIZABLE_CODE:
        raise IllegalTransition(
            f"only a payment failed with {LATE_AUTHORIZABLE_CODE} can be authorized late; "
            f"{payment.id} is {payment.status.value}",
            field="status",
        )
    return replace(
        payment, status=S.AUTHORIZED, authorized_at=at, bank_reference=bank_reference,
        error_code=None, error_description=None,
    )  # fmt: skip
