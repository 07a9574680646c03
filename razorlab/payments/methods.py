"""How the customer pays: card, UPI or netbanking, validated before anything is stored.

Scenario: ``POST /v1/payments`` arrives with JSON from the internet. Everything in it
is untrusted: the amount may be a float, the card number may have a typo, the card may
have expired last month, the VPA may be ``"; DROP TABLE"``. This module turns a dict
into a :class:`PaymentRequest` or raises a :class:`~razorlab.errors.ValidationError`
naming the field, so a bad request stores nothing and costs no bank call.

Design note: a card number is checked with the Luhn checksum (ISO/IEC 7812), which
catches every single-digit typo and most swaps of adjacent digits. The full number
goes to the bank and nowhere else: what we store and show is the masked
``method_details`` (network and last 4 digits), as PCI DSS expects of a gateway
that does not run a vault. :func:`method_fields` shows them as Razorpay's payment entity
does: ``card_id`` and a ``card`` object (``last4``, ``network``, ``type``, ``issuer``…),
``bank``, ``wallet`` and ``vpa``, each null where the method has none. Where we simplify:
without a BIN table we know neither the card's ``type`` (debit/credit) nor its ``issuer``
(both null); a card is ``international`` when the payment is not in INR; the cardholder's
name is not kept; razorlab has no wallets (``wallet`` is always null). Each method names its *route* (card network, UPI handle,
netbanking bank): that is the unit a circuit breaker protects, since one bank being
down should not stop payments through the others.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.payments.notes import parse_contact, parse_description, parse_email, parse_notes

__all__ = [
    "Card",
    "Upi",
    "Netbanking",
    "PaymentMethod",
    "PaymentRequest",
    "parse_payment_request",
    "luhn_valid",
    "MIN_AMOUNT_PAISE",
    "MAX_AMOUNT_PAISE",
    "UPI_MAX_PAISE",
    "NETBANKING_BANKS",
    "CARD_NETWORK_NAMES",
    "method_fields",
]

MIN_AMOUNT_PAISE = 100  # ₹1, Razorpay's minimum payment
MAX_AMOUNT_PAISE = 1_000_000_000  # ₹1 crore, our per-payment ceiling
UPI_MAX_PAISE = 10_000_000  # ₹1 lakh, NPCI's general per-transaction UPI limit
VPA_PATTERN = re.compile(r"^[a-zA-Z0-9.\-_]{2,256}@[a-zA-Z]{2,64}$")  # common practice, not NPCI's
NETBANKING_BANKS = {
    "HDFC": "HDFC Bank",
    "ICIC": "ICICI Bank",
    "SBIN": "State Bank of India",
    "UTIB": "Axis Bank",
    "KKBK": "Kotak Mahindra Bank",
}
_NETWORKS = (  # (prefix pattern, network) — first match wins
    (re.compile(r"^3[47]"), "amex"),
    (re.compile(r"^4"), "visa"),
    (re.compile(r"^(5[1-5]|2[2-7])"), "mastercard"),
    (re.compile(r"^(60|65|81|82|508)"), "rupay"),
)
#: our network code -> the name Razorpay's card entity shows
CARD_NETWORK_NAMES = {
    "amex": "American Express", "visa": "Visa", "mastercard": "MasterCard", "rupay": "RuPay",
    "unknown": "Unknown",
}  # fmt: skip
_TOP_LEVEL_FIELDS = {
    "amount", "currency", "method", "card", "vpa", "bank", "auto_capture", "order_id",
    "email", "contact", "notes", "description",
}  # fmt: skip


def luhn_valid(number: str) -> bool:
    """The Luhn checksum: double every second digit from the right; the sum ends in 0."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class Card:
    number: str
    expiry_month: int
    expiry_year: int
    network: str

    name = "card"

    @property
    def route(self) -> str:
        return f"card:{self.network}"

    def details(self) -> tuple[tuple[str, str], ...]:
        return (("card_network", self.network), ("card_last4", self.number[-4:]))

    def __repr__(self) -> str:  # never let the full number reach a log line
        return f"Card({self.network} ****{self.number[-4:]}, {self.expiry_month:02d}/{self.expiry_year})"


@dataclass(frozen=True, slots=True)
class Upi:
    vpa: str

    name = "upi"

    @property
    def route(self) -> str:
        return f"upi:{self.vpa.rsplit('@', 1)[1].lower()}"

    def details(self) -> tuple[tuple[str, str], ...]:
        return (("vpa", self.vpa),)


@dataclass(frozen=True, slots=True)
class Netbanking:
    bank: str

    name = "netbanking"

    @property
    def route(self) -> str:
        return f"netbanking:{self.bank}"

    def details(self) -> tuple[tuple[str, str], ...]:
        return (("bank", self.bank),)


PaymentMethod = Card | Upi | Netbanking


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A validated create-payment request (``order_id``: the order it pays, if any).

    ``email``, ``contact``, ``notes`` (as pairs, in the order given) and ``description``
    are kept on the payment, as Razorpay's payment entity shows them.
    """

    amount: Money
    method: PaymentMethod
    auto_capture: bool = False
    order_id: str | None = None
    email: str | None = None
    contact: str | None = None
    notes: tuple[tuple[str, str | int | float], ...] = ()
    description: str | None = None


def _int_field(obj: dict, key: str, field: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer", field=field)
    return value


def _parse_card(raw: object, now: float) -> Card:
    if not isinstance(raw, dict):
        raise ValidationError("card must be an object with number and expiry", field="card")
    number = raw.get("number")
    if not isinstance(number, str):
        raise ValidationError("card.number must be a string of digits", field="card.number")
    number = number.replace(" ", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise ValidationError("card.number must have 12 to 19 digits", field="card.number")
    if not luhn_valid(number):
        raise ValidationError("card.number fails the Luhn check (typo?)", field="card.number")
    month = _int_field(raw, "expiry_month", "card.expiry_month")
    year = _int_field(raw, "expiry_year", "card.expiry_year")
    if not 1 <= month <= 12:
        raise ValidationError("card.expiry_month must be 1..12", field="card.expiry_month")
    if not 2000 <= year <= 2100:
        raise ValidationError("card.expiry_year must be a 4-digit year", field="card.expiry_year")
    last_day = calendar.monthrange(year, month)[1]
    expires = datetime(year, month, last_day, 23, 59, 59, tzinfo=timezone.utc).timestamp()
    if expires < now:
        raise ValidationError(f"card expired {month:02d}/{year}", field="card.expiry_year")
    network = next((n for pattern, n in _NETWORKS if pattern.match(number)), "unknown")
    return Card(number, month, year, network)


def _parse_method(body: dict, now: float) -> PaymentMethod:
    method = body.get("method")
    if method == "card":
        return _parse_card(body.get("card"), now)
    if method == "upi":
        vpa = body.get("vpa")
        if not isinstance(vpa, str) or not VPA_PATTERN.match(vpa):
            raise ValidationError("vpa must look like name@handle", field="vpa")
        return Upi(vpa)
    if method == "netbanking":
        bank = body.get("bank")
        if not isinstance(bank, str) or bank not in NETBANKING_BANKS:  # {} or [] is unhashable
            raise ValidationError(f"bank must be one of {sorted(NETBANKING_BANKS)}", field="bank")
        return Netbanking(bank)
    raise ValidationError("method must be one of card, upi, netbanking", field="method")


def parse_payment_request(body: object, *, now: float) -> PaymentRequest:
    """Validate an untrusted create-payment body; raise ``ValidationError`` naming the field.

    ``now`` (clock seconds) decides whether a card has expired.
    """
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field=None)
    unknown = sorted(set(body) - _TOP_LEVEL_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    for required in ("amount", "currency", "method"):
        if required not in body:
            raise ValidationError(f"{required} is required", field=required)
    amount = Money.from_paise(
        body["amount"], body["currency"], minimum=MIN_AMOUNT_PAISE, maximum=MAX_AMOUNT_PAISE
    )
    method = _parse_method(body, now)
    if not isinstance(method, Card) and amount.currency != "INR":
        raise ValidationError(f"{method.name} payments must be in INR", field="currency")
    if isinstance(method, Upi) and amount.paise > UPI_MAX_PAISE:
        raise ValidationError(
            f"UPI payments are limited to {UPI_MAX_PAISE} paise (₹1 lakh)", field="amount"
        )
    auto_capture = body.get("auto_capture", False)
    if not isinstance(auto_capture, bool):
        raise ValidationError("auto_capture must be true or false", field="auto_capture")
    order_id = body.get("order_id")
    if order_id is not None and not isinstance(order_id, str):
        raise ValidationError("order_id must be an order's id", field="order_id")
    return PaymentRequest(
        amount, method, auto_capture, order_id, parse_email(body.get("email")),
        parse_contact(body.get("contact")), tuple(parse_notes(body.get("notes")).items()),
        parse_description(body.get("description")),
    )  # fmt: skip


def method_fields(
    method: str, details: tuple[tuple[str, str], ...], *, international: bool
) -> dict[str, object]:
    """A payment's method as Razorpay's entity shows it: ``card_id`` (and ``card`` for a
    card payment), ``bank``, ``wallet``, ``vpa`` — null where the method has none."""
    known = dict(details)
    fields: dict[str, object] = {"card_id": known.get("card_id")}
    if method == "card":
        fields["card"] = {
            "id": known.get("card_id"), "entity": "card", "last4": known.get("card_last4"),
            "network": CARD_NETWORK_NAMES.get(known.get("card_network", ""), "Unknown"),
            "type": None, "issuer": None, "international": international, "emi": False,
        }  # fmt: skip
    return {**fields, "bank": known.get("bank"), "wallet": None, "vpa": known.get("vpa")}
