"""The payment entity carries Razorpay's fields, seen through the official SDK.

``email``, ``contact``, ``notes`` and ``description`` given at creation come back on
``payment.fetch``; ``fee`` and ``tax`` are null until capture and then the flat MDR plus GST
of :mod:`razorlab.fees` (checked on amounts whose roundings go each way, and against
settlement's own numbers); the method fields are null where the method has none; and the
card number is nowhere — not in the stored row, the entity or a webhook body. Bad customer
fields are a ``BAD_REQUEST_ERROR`` naming the field, with nothing stored. Both backends
(``sdk_server`` runs on SQLite and PostgreSQL).
"""

import json

import pytest
import requests

from razorlab.fees import fee_and_tax
from razorlab.money import Money
from razorlab.payments.bank import SUCCESS_CARD
from razorlab.payments.fleet import _decode, _encode
from razorlab.payments.payment import Payment, authorize, capture
from razorlab.settlement.settlement import Entry, settle
from tests import payments_support as support
from tests.payments_support import UPI, call

razorpay = pytest.importorskip("razorpay")

sdk_server = support.sdk_server  # the shared fixture (SQLite and PostgreSQL)
CUSTOMER = {"email": "gaurav.kumar@example.com", "contact": "+919000090000",
            "notes": {"shipping": "express", "cart": 3}, "description": "Blue mug"}  # fmt: skip
CARD = {"number": SUCCESS_CARD, "name": "A Customer", "expiry_month": "12",
        "expiry_year": "30", "cvv": "123"}  # fmt: skip
#: amount -> (fee, tax) in paise: MDR 2% and GST 18% on it, each rounded half-up
FEES = {
    100: (2, 0),  # the minimum: GST 0.36 paise rounds down to 0
    125: (4, 1),  # MDR 2.5 rounds up to 3; GST 0.54 rounds up to 1
    1_250: (30, 5),  # GST on 25 paise is exactly 4.5: half-up gives 5
    2_775: (66, 10),  # MDR 55.5 rounds up to 56; GST 10.08 rounds down to 10
    10_000: (236, 36),
    49_900: (1_178, 180),  # GST 179.64 rounds up
    1_000_000_000: (23_600_000, 3_600_000),  # the largest payment
}


@pytest.mark.parametrize("amount", sorted(FEES))
def test_fee_and_tax_are_mdr_plus_gst_rounded_half_up_as_settlement_does(amount):
    fee, tax = fee_and_tax(Money(amount))
    assert (fee.paise, tax.paise) == FEES[amount]
    (row,) = settle([Entry("pay_1", "mer_1", "payment", amount, at=0.0)]).itertuples()
    assert (row.fee + row.gst, row.gst) == FEES[amount], "the fee settlement deducts"


def test_fee_is_set_by_capture_only_and_survives_the_fleet_cache():
    created = Payment("pay_x", "mer_x", Money(10_000), "upi", notes=(("k", "v"),))
    authorized = authorize(created, at=1.0, bank_reference="ref")
    assert (authorized.fee, authorized.tax) == (None, None)
    captured = capture(authorized, at=2.0)
    assert (captured.fee, captured.tax) == (236, 36)
    assert _decode(json.loads(json.dumps(_encode(captured)))) == captured


async def _s2s_card(shop, **extra):
    order = await call(shop.order.create, {"amount": 49_900, "currency": "INR",
                                           "payment_capture": 0})  # fmt: skip
    body = {"amount": 49_900, "currency": "INR", "order_id": order["id"], "method": "card",
            "card": dict(CARD), **CUSTOMER, **extra}  # fmt: skip
    return await call(shop.payment.createPaymentJson, body)


async def test_a_card_payment_shows_razorpays_fields_and_never_the_pan(sdk_server):
    shop = sdk_server.client()
    pid = (await _s2s_card(shop))["razorpay_payment_id"]
    await call(shop.payment.otpSubmit, pid, {"otp": "123456"})
    authorized = await call(shop.payment.fetch, pid)
    assert authorized["status"] == "authorized"
    assert {k: authorized[k] for k in CUSTOMER} == CUSTOMER
    assert (authorized["fee"], authorized["tax"]) == (None, None), "no fee before capture"
    card = authorized["card"]
    assert authorized["card_id"] == card["id"] and card["id"].startswith("card_")
    assert (card["entity"], card["last4"], card["network"]) == ("card", "1111", "Visa")
    assert (card["type"], card["issuer"], card["international"]) == (None, None, False)
    assert (authorized["bank"], authorized["wallet"], authorized["vpa"]) == (None, None, None)
    assert authorized["international"] is False

    captured = await call(shop.payment.capture, pid, 49_900, {"currency": "INR"})
    fetched = await call(shop.payment.fetch, pid)
    assert (captured["fee"], captured["tax"]) == (fetched["fee"], fetched["tax"]) == FEES[49_900]
    row = await sdk_server.gw.store.fetchall("SELECT * FROM payments WHERE id = ?", (pid,))
    events = await sdk_server.gw.store.fetchall("SELECT body FROM outbox")
    for text in (str(row), json.dumps(fetched), str(events)):
        assert SUCCESS_CARD not in text and SUCCESS_CARD[:6] + "******" not in text
    assert "1111" in str(row), "the last four digits are kept"


@pytest.mark.parametrize("amount", [100, 125, 1_250, 2_775])
async def test_an_auto_captured_payment_is_charged_its_fee(sdk_server, amount):
    shop = sdk_server.client()
    created = await call(shop.post, "/v1/payments", {**UPI, "amount": amount,
                                                     "auto_capture": True})  # fmt: skip
    fetched = await call(shop.payment.fetch, created["id"])
    assert fetched["status"] == "captured"
    assert (fetched["fee"], fetched["tax"]) == FEES[amount]


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (UPI, {"card_id": None, "bank": None, "wallet": None, "vpa": "success@razorpay"}),
        ({"amount": 49_900, "currency": "INR", "method": "netbanking", "bank": "HDFC"},
         {"card_id": None, "bank": "HDFC", "wallet": None, "vpa": None}),
    ],
)  # fmt: skip
async def test_method_fields_are_null_where_the_method_has_none(sdk_server, body, shown):
    shop = sdk_server.client()
    created = await call(shop.post, "/v1/payments", body)
    fetched = await call(shop.payment.fetch, created["id"])
    assert {k: fetched[k] for k in shown} == shown and "card" not in fetched
    assert (fetched["email"], fetched["contact"], fetched["notes"]) == (None, None, {})
    assert (fetched["fee"], fetched["tax"]) == (None, None), "authorized, not captured"


BAD = [
    ("email", "not-an-email"), ("email", "a@b"), ("email", "x" * 250 + "@example.com"),
    ("email", 42), ("contact", "12345"), ("contact", "+91 90000 90000"),
    ("contact", "9" * 16), ("notes", {f"k{i}": "v" for i in range(16)}),
    ("notes", {"k": "v" * 257}), ("notes", {"k": {"nested": 1}}), ("notes", "text"),
    ("description", "d" * 256),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), BAD)
async def test_bad_customer_fields_are_refused_naming_the_field(sdk_server, field, value):
    auth = (sdk_server.key_id, sdk_server.secret)
    shop = sdk_server.client()
    order = await call(shop.order.create, {"amount": 49_900, "currency": "INR"})
    s2s = {"amount": 49_900, "currency": "INR", "order_id": order["id"], "method": "card",
           "card": dict(CARD), **CUSTOMER}  # fmt: skip
    for path, body in (("/v1/payments", UPI), ("/v1/payments/create/json", s2s)):
        response = await call(requests.post, f"{sdk_server.url}{path}",
                              json={**body, field: value}, auth=auth, timeout=30)  # fmt: skip
        error = response.json()["error"]
        assert (response.status_code, error["code"], error["field"]) == (
            400, "BAD_REQUEST_ERROR", field,
        ), path  # fmt: skip
    assert await sdk_server.gw.store.count_payments() == 0, "nothing stored"


async def test_s2s_still_requires_email_and_contact(sdk_server):
    shop = sdk_server.client()
    for missing in ("email", "contact"):
        with pytest.raises(razorpay.errors.BadRequestError, match=f"{missing} is required"):
            await _s2s_card(shop, **{missing: None})
    assert await sdk_server.gw.store.count_payments() == 0
