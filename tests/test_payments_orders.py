"""Orders and checkout, driven by the official ``razorpay`` SDK as a shop's server would.

The shop's server uses ``client.order.*`` and ``client.utility.verify_payment_signature``;
the customer's browser (Checkout.js) is played by SDK calls with ``use_public_auth=True``,
which sends the key id alone — as Checkout.js authenticates.
"""

import pytest
import requests

from razorlab.payments.bank import DECLINE_CARD, SUCCESS_CARD
from razorlab.payments.orders import checkout_signature
from razorlab.payments.sdk import checkout_pay, checkout_step
from tests import payments_support as support
from tests.payments_support import UPI, call

razorpay = pytest.importorskip("razorpay")
from razorpay.errors import BadRequestError, SignatureVerificationError  # noqa: E402

sdk_server = support.sdk_server  # the shared fixture
ORDER = {"amount": 49_900, "currency": "INR", "receipt": "rcpt-1", "notes": {"sku": "kurta"}}
CARD = {"method": "card", "card": {"number": SUCCESS_CARD, "expiry_month": 12,
                                   "expiry_year": 2099}}  # fmt: skip
PUBLIC = {"use_public_auth": True}  # the SDK sends (key_id, "") — what Checkout.js has


async def _count(gw, table):
    return (await gw.store.fetchone(f"SELECT COUNT(*) FROM {table}"))[0]


async def test_card_checkout_signs_the_payment_and_pays_the_order(sdk_server):
    shop = sdk_server.client()
    order = await call(shop.order.create, dict(ORDER))
    oid = order["id"]
    assert oid.startswith("order_") and len(oid) == len("order_") + 14
    assert (order["status"], order["amount_due"], order["attempts"]) == ("created", 49_900, 0)

    started = await call(checkout_pay, shop, oid, CARD)
    assert started["next"][0]["action"] == "otp_submit"
    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["attempts"], order["amount_paid"]) == ("attempted", 1, 0)

    result = await call(checkout_step, shop, started, {"otp": "123456"})
    assert result["razorpay_order_id"] == oid
    assert await call(shop.utility.verify_payment_signature, result) is True
    tampered = {**result, "razorpay_signature": result["razorpay_signature"][:-1] + "0"}
    if tampered == result:
        tampered["razorpay_signature"] = result["razorpay_signature"][:-1] + "1"
    with pytest.raises(SignatureVerificationError):
        shop.utility.verify_payment_signature(tampered)
    with pytest.raises(SignatureVerificationError):  # a signature for another order
        shop.utility.verify_payment_signature({**result, "razorpay_order_id": "order_x"})

    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["amount_paid"], order["amount_due"]) == ("paid", 49_900, 0)
    payments = await call(shop.order.payments, oid)
    assert payments["count"] == 1
    paid = payments["items"][0]
    assert (paid["id"], paid["order_id"], paid["status"], paid["amount"]) == (
        result["razorpay_payment_id"], oid, "captured", 49_900,
    )  # fmt: skip

    before = await _count(sdk_server.gw, "payments")
    with pytest.raises(BadRequestError, match="already paid"):
        await call(checkout_pay, shop, oid, CARD)
    with pytest.raises(BadRequestError, match="already paid"):
        await call(shop.post, "/v1/payments", {**UPI, "order_id": oid})
    assert await _count(sdk_server.gw, "payments") == before


async def test_upi_collect_decline_then_approval_and_manual_capture(sdk_server):
    shop = sdk_server.client()
    oid = (await call(shop.order.create, {**ORDER, "payment_capture": 0}))["id"]
    upi = {"method": "upi", "vpa": "payer@okbank"}
    started = await call(checkout_pay, shop, oid, upi)
    assert started["next"][0]["action"] == "upi_collect"
    with pytest.raises(BadRequestError, match="declined the UPI collect"):
        await call(checkout_step, shop, started, {"approve": False})
    assert sdk_server.gw.bank.calls["charge"] == 0, "a declined collect never reaches the bank"

    result = await call(
        checkout_step, shop, await call(checkout_pay, shop, oid, upi), {"approve": True}
    )
    assert await call(shop.utility.verify_payment_signature, result) is True
    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["attempts"], order["amount_paid"]) == ("attempted", 2, 0)
    pid = result["razorpay_payment_id"]
    await call(shop.payment.capture, pid, 49_900, {"currency": "INR"})
    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["amount_paid"]) == ("paid", 49_900)
    statuses = [p["status"] for p in (await call(shop.order.payments, oid))["items"]]
    assert statuses == ["failed", "captured"]


async def test_a_declined_card_leaves_the_order_payable(sdk_server):
    shop = sdk_server.client()
    oid = (await call(shop.order.create, dict(ORDER)))["id"]
    declined = {**CARD, "card": {**CARD["card"], "number": DECLINE_CARD}}
    with pytest.raises(BadRequestError):
        await call(
            checkout_step, shop, await call(checkout_pay, shop, oid, declined), {"otp": "123456"}
        )
    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["attempts"], order["amount_due"]) == ("attempted", 1, 49_900)


async def test_the_customer_cannot_change_the_amount_and_steps_cannot_repeat(sdk_server):
    shop = sdk_server.client()
    oid = (await call(shop.order.create, dict(ORDER)))["id"]
    with pytest.raises(BadRequestError, match="amount comes from the order"):
        await call(checkout_pay, shop, oid, {**CARD, "amount": 100})
    assert (await call(shop.order.fetch, oid))["attempts"] == 0, "nothing stored"
    started = await call(checkout_pay, shop, oid, CARD)
    with pytest.raises(BadRequestError, match="otp"):
        await call(checkout_step, shop, started, {"otp": "12"})
    with pytest.raises(BadRequestError, match="not waiting for upi_collect"):
        await call(shop.post, started["next"][0]["url"].replace("otp_submit", "upi_collect"),
                   {"approve": True}, **PUBLIC)  # fmt: skip
    await call(checkout_step, shop, started, {"otp": "123456"})
    with pytest.raises(BadRequestError, match="not waiting"):
        await call(checkout_step, shop, started, {"otp": "123456"})


async def test_two_open_checkouts_cannot_both_pay_one_order(sdk_server):
    shop = sdk_server.client()
    oid = (await call(shop.order.create, dict(ORDER)))["id"]
    first, second = [await call(checkout_pay, shop, oid, CARD) for _ in range(2)]
    await call(checkout_step, shop, first, {"otp": "123456"})
    with pytest.raises(BadRequestError, match="paid by another payment"):
        await call(checkout_step, shop, second, {"otp": "123456"})
    assert sdk_server.gw.bank.calls["charge"] == 1, "the second card was never charged"
    order = await call(shop.order.fetch, oid)
    assert (order["status"], order["amount_paid"], order["attempts"]) == ("paid", 49_900, 2)


async def test_server_payments_must_match_the_order_and_partial_payments_add_up(sdk_server):
    shop = sdk_server.client()
    oid = (await call(shop.order.create, dict(ORDER)))["id"]
    for wrong in ({"amount": 10_000}, {"currency": "USD", "method": "card", "card": CARD["card"]}):
        with pytest.raises(BadRequestError):
            await call(shop.post, "/v1/payments", {**UPI, "order_id": oid, **wrong})
    assert await call(shop.order.payments, oid) == {"entity": "collection", "count": 0,
                                                     "items": []}  # fmt: skip
    payment = await call(shop.post, "/v1/payments", {**UPI, "order_id": oid})
    assert (payment["order_id"], payment["status"]) == (oid, "authorized")

    partial = await call(shop.order.create, {**ORDER, "amount": 10_000, "partial_payment": True})
    first = {**UPI, "order_id": partial["id"], "amount": 4_000, "auto_capture": True}
    await call(shop.post, "/v1/payments", first)
    order = await call(shop.order.fetch, partial["id"])
    assert (order["status"], order["amount_paid"], order["amount_due"]) == ("attempted", 4_000,
                                                                           6_000)  # fmt: skip
    with pytest.raises(BadRequestError, match="at most"):
        await call(checkout_pay, shop, partial["id"], {**CARD, "amount": 6_100})
    started = await call(checkout_pay, shop, partial["id"], {**CARD, "amount": 6_000})
    await call(checkout_step, shop, started, {"otp": "123456"})
    assert (await call(shop.order.fetch, partial["id"]))["status"] == "paid"


async def test_list_and_edit_orders(sdk_server, clock):
    shop = sdk_server.client()
    ids = []
    for i in range(3):
        ids.append((await call(shop.order.create, {**ORDER, "receipt": f"r{i}"}))["id"])
        clock.advance(10)
    page = await call(shop.order.all, {"count": 2})
    assert [o["id"] for o in page["items"]] == ids[:0:-1], "newest first"
    assert [o["id"] for o in (await call(shop.order.all, {"skip": 2}))["items"]] == ids[:1]
    edited = await call(shop.order.edit, ids[0], {"notes": {"gift": "yes"}})
    assert edited["notes"] == {"gift": "yes"} == (await call(shop.order.fetch, ids[0]))["notes"]
    with pytest.raises(BadRequestError):
        await call(shop.order.edit, ids[0], {"amount": 1})
    assert (await call(shop.order.fetch, ids[0]))["amount"] == ORDER["amount"]


@pytest.mark.parametrize(
    "change, field",
    [({"amount": 99}, "amount"), ({"currency": "USD"}, "currency"),
     ({"receipt": "r" * 41}, "receipt"),
     ({"notes": {f"k{i}": "v" for i in range(16)}}, "notes"),
     ({"partial_payment": "yes"}, "partial_payment"), ({"tip": 1}, "tip")],
    ids=["amount-99", "usd", "receipt-41", "notes-16", "partial-flag", "unknown-field"],
)  # fmt: skip
async def test_bad_orders_get_razorpays_400_and_store_nothing(sdk_server, change, field):
    shop = sdk_server.client()
    with pytest.raises(BadRequestError):
        await call(shop.order.create, {**ORDER, **change})
    session = sdk_server.sessions[0]
    resp = await call(session.post, f"{sdk_server.url}/v1/orders", json={**ORDER, **change},
                      auth=(sdk_server.key_id, sdk_server.secret))  # fmt: skip
    error = resp.json()["error"]
    assert resp.status_code == 400 and error["code"] == "BAD_REQUEST_ERROR"
    assert (error["field"], error["reason"]) == (field, "input_validation_failed")
    assert await _count(sdk_server.gw, "orders") == 0


@pytest.mark.parametrize("whose", ["made-up", "other-merchant"])
async def test_an_order_that_is_not_yours_does_not_exist(sdk_server, whose):
    shop = sdk_server.client()
    oid = "order_doesnotexist000"
    if whose == "other-merchant":
        other = await sdk_server.other_merchant()
        oid = (await call(other.order.create, dict(ORDER)))["id"]
    calls = [
        lambda: shop.order.fetch(oid),
        lambda: shop.order.payments(oid),
        lambda: shop.order.edit(oid, {"notes": {"a": "b"}}),
        lambda: checkout_pay(shop, oid, CARD),
        lambda: shop.post("/v1/payments", {**UPI, "order_id": oid}),
    ]
    for fn in calls:
        with pytest.raises(BadRequestError, match="^The id provided does not exist$"):
            await call(fn)
    resp = await call(sdk_server.sessions[0].get, f"{sdk_server.url}/v1/orders/{oid}",
                      auth=(sdk_server.key_id, sdk_server.secret))  # fmt: skip
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "id"
    assert await _count(sdk_server.gw, "payments") == 0


async def test_the_key_id_alone_opens_checkout_and_nothing_else(sdk_server):
    public = sdk_server.client(secret="")
    with pytest.raises(BadRequestError, match="wrong"):
        await call(public.order.all)
    assert public.auth[1] == ""
    shop = sdk_server.client()
    oid = (await call(shop.order.create, dict(ORDER)))["id"]
    started = await call(checkout_pay, public, oid, CARD)  # the key id alone pays
    result = await call(checkout_step, public, started, {"otp": "123456"})
    secret = sdk_server.secret
    assert result["razorpay_signature"] == checkout_signature(oid, started["razorpay_payment_id"],
                                                              secret)  # fmt: skip
    url = f"{sdk_server.url}/v1/checkout/{oid}/pay"
    resp = await call(requests.post, url, json=CARD, auth=("rzp_test_nobody", ""))
    assert resp.status_code == 401
