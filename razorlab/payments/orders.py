"""Razorpay orders: what the merchant expects to be paid, and the signature that proves it was.

Scenario: a shop's server creates an order for ₹499 (``POST /v1/orders``), hands its id
to the customer's browser, and the browser pays it through checkout. The browser then
tells the shop "paid: ``pay_…``" — but the browser is the customer's, so the shop trusts
only the ``razorpay_signature`` that comes with it: a hex HMAC-SHA256 of
``order_id + "|" + payment_id`` under the shop's key secret, which only Razorpay and the
shop know (Razorpay docs, "Payment Gateway → Integration Steps → Verify Payment
Signature"; the official SDK's ``utility.verify_payment_signature`` computes the same).
Because the order fixes the amount on the server, a customer who edits the page cannot
pay ₹1 for a ₹499 order.

What we match (Razorpay API reference, Orders): ``amount`` in paise, at least 100;
``currency``; ``receipt`` of at most 40 characters; ``notes`` of at most 15 pairs;
``partial_payment``; ids ``order_`` + 14 characters; the entity's ``amount_paid``,
``amount_due``, ``attempts`` and ``status`` moving ``created`` → ``attempted`` (a payment
was attempted, whatever its outcome) → ``paid`` (captured payments cover the amount;
with auto-capture that is at authorization). ``PATCH`` changes ``notes`` only.

Where we simplify: ``currency`` is INR only (Razorpay accepts others on accounts enabled
for international payments); ``first_payment_min_amount``, offers and the ``receipt``
filter of the list are not modelled; ``payment_capture`` (Razorpay's older per-order
capture switch, now an account setting) decides auto-capture of checkout payments and
defaults to on; the order entity always shows ``partial_payment``; empty ``notes`` are
``{}`` (Razorpay sends ``[]``); an intent undone before the bank call (a half-open
breaker out of probes) still counts in ``attempts``. The capture that leaves an order ``paid`` is announced by an
``order.paid`` webhook (payment and order entities), written by the gateway in the same
transaction.
Invariant, held by the store's conditional updates:
``0 <= amount_paid <= amount``, and a ``paid`` order takes no new payment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.payments.methods import MAX_AMOUNT_PAISE, MIN_AMOUNT_PAISE
from razorlab.payments.notes import parse_notes, parse_receipt

__all__ = [
    "Order",
    "OrderStatus",
    "OrderRequest",
    "OrderAlreadyPaid",
    "ORDER_COLUMNS",
    "ORDER_CURRENCIES",
    "order_from_row",
    "parse_order_request",
    "parse_order_edit",
    "checkout_signature",
]

ORDER_CURRENCIES = ("INR",)
ORDER_COLUMNS = (
    "id, merchant_id, amount, currency, receipt, notes, partial_payment, payment_capture, "
    "status, amount_paid, attempts, created_at"
)
_FIELDS = frozenset({"amount", "currency", "receipt", "notes", "partial_payment",
                     "payment_capture"})  # fmt: skip


class OrderStatus(str, Enum):
    """Razorpay's order statuses (the string is what the API returns)."""

    CREATED = "created"
    ATTEMPTED = "attempted"
    PAID = "paid"


class OrderAlreadyPaid(ValidationError):
    """The order is paid (or this payment would pay more than is due): Razorpay answers 400."""

    code = "ORDER_ALREADY_PAID"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated create-order body."""

    amount: Money
    receipt: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    partial_payment: bool = False
    payment_capture: bool = True


@dataclass(frozen=True, slots=True)
class Order:
    """One order. ``amount_paid`` counts captured paise; timestamps are clock seconds."""

    id: str
    merchant_id: str
    amount: Money
    receipt: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    partial_payment: bool = False
    payment_capture: bool = True
    status: OrderStatus = OrderStatus.CREATED
    amount_paid: int = 0
    attempts: int = 0
    created_at: float = 0.0

    @property
    def amount_due(self) -> int:
        return self.amount.paise - self.amount_paid

    def check_payable(self, paise: int, currency: str) -> None:
        """Refuse a payment the order cannot take (paid, wrong amount or currency)."""
        if self.status is OrderStatus.PAID:
            raise OrderAlreadyPaid(f"order {self.id} is already paid", field="order_id")
        if currency != self.amount.currency:
            raise ValidationError(
                f"currency must be the order's, {self.amount.currency}", field="currency"
            )
        fits = paise <= self.amount_due if self.partial_payment else paise == self.amount_due
        if not fits:
            want = "at most" if self.partial_payment else "exactly"
            raise ValidationError(
                f"amount must be {want} the order's amount due, {self.amount_due} paise",
                field="amount",
            )

    def row(self) -> tuple:
        return (
            self.id, self.merchant_id, self.amount.paise, self.amount.currency, self.receipt,
            json.dumps(self.notes), int(self.partial_payment), int(self.payment_capture),
            self.status.value, self.amount_paid, self.attempts, self.created_at,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The API representation, shaped like Razorpay's order entity."""
        return {
            "id": self.id,
            "entity": "order",
            "amount": self.amount.paise,
            "amount_paid": self.amount_paid,
            "amount_due": self.amount_due,
            "currency": self.amount.currency,
            "receipt": self.receipt,
            "offer_id": None,
            "status": self.status.value,
            "attempts": self.attempts,
            "notes": self.notes,
            "partial_payment": self.partial_payment,
            "created_at": int(self.created_at),
        }


def order_from_row(row: tuple) -> Order:
    """An :class:`Order` from a row of :data:`ORDER_COLUMNS`."""
    oid, merchant_id, paise, currency, receipt, notes, partial, capture = row[:8]
    status, amount_paid, attempts, created_at = row[8:]
    return Order(
        oid, merchant_id, Money(paise, currency), receipt, json.loads(notes), bool(partial),
        bool(capture), OrderStatus(status), amount_paid, attempts, created_at,
    )  # fmt: skip


def _flag(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value in (0, 1) and not isinstance(value, float):  # Razorpay accepts 0/1 and booleans
        return bool(value)
    raise ValidationError(f"{name} must be true or false (or 1/0)", field=name)


def parse_order_request(body: object) -> OrderRequest:
    """Validate an untrusted create-order body; raise ``ValidationError`` naming the field."""
    if not isinstance(body, dict):
        raise ValidationError("the order body must be a JSON object", field=None)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!s:.40}", field=unknown[0][:40])
    for required in ("amount", "currency"):
        if required not in body:
            raise ValidationError(f"{required} is required", field=required)
    if body["currency"] not in ORDER_CURRENCIES:
        raise ValidationError(
            f"currency must be one of {', '.join(ORDER_CURRENCIES)}", field="currency"
        )
    amount = Money.from_paise(
        body["amount"], body["currency"], minimum=MIN_AMOUNT_PAISE, maximum=MAX_AMOUNT_PAISE
    )
    return OrderRequest(
        amount, parse_receipt(body.get("receipt")), parse_notes(body.get("notes")),
        _flag(body, "partial_payment", False), _flag(body, "payment_capture", True),
    )  # fmt: skip


def parse_order_edit(order: Order, body: object) -> Order:
    """``PATCH /v1/orders/{id}``: Razorpay lets a merchant change ``notes`` only."""
    if not isinstance(body, dict) or set(body) != {"notes"}:
        raise ValidationError('the update body is {"notes": {...}}', field="notes")
    return replace(order, notes=parse_notes(body["notes"]))


def checkout_signature(order_id: str, payment_id: str, key_secret: str) -> str:
    """``razorpay_signature``: hex HMAC-SHA256 of ``order_id|payment_id`` under the secret."""
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(key_secret.encode(), message, hashlib.sha256).hexdigest()
