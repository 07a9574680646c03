"""The official ``razorpay`` SDK, pointed at a local razorlab server, works as with Razorpay.

The SDK (PyPI ``razorpay``) takes ``base_url`` as a client option (``Client._set_base_url``)
and prefixes every path with ``/v1``; it raises ``BadRequestError`` when the error body's
``code`` is ``BAD_REQUEST_ERROR`` — and ``ServerError`` for any other code, which is why
razorlab's error contract matters.
"""

import pytest

from tests import payments_support as support
from tests.payments_support import UPI
from tests.payments_support import call as _call

razorpay = pytest.importorskip("razorpay")
from razorpay.errors import BadRequestError  # noqa: E402

sdk_server, sdk = support.sdk_server, support.sdk  # the shared fixtures


async def test_capture_refund_retry_and_fetch_through_the_sdk(sdk):
    client, gw = sdk
    # razorlab's teaching shortcut creates the payment (Razorpay would use an order + checkout)
    payment = await _call(client.post, "/v1/payments", UPI)
    pid = payment["id"]
    captured = await _call(client.payment.capture, pid, 49_900, {"currency": "INR"})
    assert (captured["id"], captured["status"], captured["captured"]) == (pid, "captured", True)

    key = {"headers": {"X-Refund-Idempotency": "return-1"}}
    body = {"amount": 9_900, "speed": "normal", "notes": {"why": "size"}, "receipt": "R-9"}
    refund = await _call(client.payment.refund, pid, dict(body), **key)
    retried = await _call(client.payment.refund, pid, dict(body), **key)
    assert retried == refund and refund["id"].startswith("rfnd_"), "same key, same refund"
    assert gw.bank.calls["refund"] == 1, "the retry paid nothing"

    assert (await _call(client.refund.fetch, refund["id"]))["amount"] == 9_900
    assert (await _call(client.payment.fetch_refund_id, pid, refund["id"]))["id"] == refund["id"]
    second = await _call(client.payment.refund, pid, {"amount": 100})
    many = await _call(client.payment.fetch_multiple_refund, pid)
    assert many["count"] == 2 and {r["id"] for r in many["items"]} == {refund["id"], second["id"]}
    assert (await _call(client.refund.all, {"count": 1}))["count"] == 1
    fetched = await _call(client.payment.fetch, pid)
    assert (fetched["status"], fetched["refund_status"], fetched["amount_refunded"]) == (
        "captured",
        "partial",
        10_000,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda c, pid: c.payment.capture(pid, 1, {"currency": "INR"}),  # not the authorised amount
        lambda c, pid: c.payment.capture(pid, 49_900, {"currency": "USD"}),
        lambda c, pid: c.payment.fetch("pay_doesnotexist"),
        lambda c, pid: c.refund.fetch("rfnd_doesnotexist"),
        lambda c, pid: c.payment.refund(pid, {"amount": 100}),  # not captured yet
        lambda c, pid: c.post("/v1/payments", {**UPI, "amount": 5_100}),  # insufficient funds
        lambda c, pid: c.post("/v1/payments", {**UPI, "amount": -1}),
    ],
    ids=["capture-amount", "capture-currency", "no-payment", "no-refund", "refund-uncaptured",
         "declined", "bad-amount"],
)  # fmt: skip
async def test_client_mistakes_raise_bad_request_error(sdk, call):
    client, gw = sdk
    pid = (await _call(client.post, "/v1/payments", UPI))["id"]
    with pytest.raises(BadRequestError):
        await _call(call, client, pid)
    assert (await gw.store.payment(pid)).status.value == "authorized"


async def test_wrong_secret_is_a_bad_request_not_a_server_error(sdk):
    client, _ = sdk
    client.auth = (client.auth[0], "wrong")
    with pytest.raises(BadRequestError, match="wrong"):
        await _call(client.payment.all)


@pytest.mark.parametrize("whose", ["made-up", "other-merchant"])
async def test_an_id_that_is_not_yours_does_not_exist_as_with_razorpay(sdk_server, whose):
    client, gw = sdk_server.client(), sdk_server.gw
    pid = (await _call(client.post, "/v1/payments", UPI))["id"]
    await _call(client.payment.capture, pid, 49_900, {"currency": "INR"})
    rid = (await _call(client.payment.refund, pid, {"amount": 100}))["id"]
    caller = await sdk_server.other_merchant() if whose == "other-merchant" else client
    if whose == "made-up":
        pid, rid = "pay_unknown", "rfnd_unknown"
    calls = [
        lambda: caller.payment.fetch(pid),
        lambda: caller.payment.capture(pid, 49_900, {"currency": "INR"}),
        lambda: caller.payment.refund(pid, {"amount": 100}),
        lambda: caller.payment.fetch_multiple_refund(pid),
        lambda: caller.refund.fetch(rid),
    ]
    for fn in calls:
        with pytest.raises(BadRequestError, match="^The id provided does not exist$"):
            await _call(fn)
    assert (gw.bank.calls["capture"], gw.bank.calls["refund"]) == (1, 1), "nothing sent"
    (refunds,) = await gw.store.fetchone("SELECT COUNT(*) FROM refunds")
    assert refunds == 1 and await gw.store.count_payments() == 1, "nothing stored"
