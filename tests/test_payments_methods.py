"""Untrusted request bodies become a PaymentRequest or a ValidationError naming the field."""

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.errors import ValidationError
from razorlab.payments.bank import DECLINE_CARD, SUCCESS_CARD
from razorlab.payments.methods import Card, Upi, luhn_valid, parse_payment_request

CARD = {"number": SUCCESS_CARD, "expiry_month": 12, "expiry_year": 2030}


def _body(**overrides):
    return {"amount": 49_900, "currency": "INR", "method": "card", "card": CARD, **overrides}


def test_luhn_accepts_test_cards_and_rejects_a_single_digit_typo():
    assert luhn_valid(SUCCESS_CARD) and luhn_valid(DECLINE_CARD)
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("41111111x1111111")


def test_a_valid_card_is_parsed_and_masked():
    req = parse_payment_request(_body(), now=EPOCH_2026)
    assert isinstance(req.method, Card) and req.method.network == "visa"
    assert dict(req.method.details()) == {"card_network": "visa", "card_last4": "1111"}
    assert SUCCESS_CARD not in repr(req.method)


@pytest.mark.parametrize(
    "body, field",
    [
        (_body(card={**CARD, "number": "4111111111111112"}), "card.number"),
        (_body(card={**CARD, "expiry_year": 2025}), "card.expiry_year"),  # expired in 2025
        (_body(card={**CARD, "expiry_month": 13}), "card.expiry_month"),
        (_body(method="upi", vpa="not-a-vpa"), "vpa"),
        (_body(method="upi", vpa="good@razorpay", amount=10_000_001), "amount"),  # > ₹1 lakh
        (_body(method="netbanking", bank="NOPE"), "bank"),
        (_body(method="upi", vpa="good@razorpay", currency="USD"), "currency"),
        (_body(method="cash"), "method"),
        (_body(amount=49_900.0), "amount"),
        (_body(amount=99), "amount"),
        (_body(amount=True), "amount"),
        (_body(currency="XYZ"), "currency"),
        (_body(auto_capture="yes"), "auto_capture"),
        (_body(surprise=1), "surprise"),
        ({"currency": "INR", "method": "card"}, "amount"),
    ],
)
def test_bad_input_names_the_field(body, field):
    with pytest.raises(ValidationError) as err:
        parse_payment_request(body, now=EPOCH_2026)
    assert err.value.field == field


def test_a_card_is_valid_until_the_end_of_its_expiry_month():
    body = _body(card={**CARD, "expiry_month": 1, "expiry_year": 2026})
    assert parse_payment_request(body, now=EPOCH_2026 + 30 * 86_400).method.expiry_month == 1
    with pytest.raises(ValidationError):
        parse_payment_request(body, now=EPOCH_2026 + 31 * 86_400)


def test_upi_route_is_the_psp_handle():
    req = parse_payment_request(_body(method="upi", vpa="asha.k@OKHDFC", card=None), now=0)
    assert isinstance(req.method, Upi) and req.method.route == "upi:okhdfc"
