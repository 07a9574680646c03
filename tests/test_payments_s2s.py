"""Razorpay's server-to-server checkout, driven by the official SDK against a local server.

The documented integration: ``order.create`` → ``payment.createPaymentJson`` (the card
waits for its OTP) → ``payment.otpSubmit`` → ``utility.verify_payment_signature`` →
``payment.capture`` → ``payment.refund``; and UPI collect with ``payment.createUpi``, whose
test payers answer on the gateway's clock (a ManualClock here: the test advances it, then
polls the payment as the merchant's server would).
"""

import asyncio

import pytest
import requests

from razorlab.payments.bank import OTP_ATTEMPTS, SUCCESS_CARD, TEST_PAYER_ANSWERS_AFTER_S
from tests import payments_support as support
from tests.payments_support import call

razorpay = pytest.importorskip("razorpay")
from razorpay.errors import BadRequestError  # noqa: E402

sdk_server = support.sdk_server  # the shared fixture (SQLite and PostgreSQL)
ORDER = {"amount": 49_900, "currency": "INR", "receipt": "rcpt-s2s"}
CUSTOMER = {"amount": 49_900, "currency": "INR", "email": "a@shop.test",
            "contact": "9000090000"}  # fmt: skip
CARD = {"number": SUCCESS_CARD, "name": "A Customer", "expiry_month": "12",
        "expiry_year": "30", "cvv": "123"}  # fmt: skip
POLLS = 500  # payment fetches before giving up on a collect's outcome


async def _order(shop, **extra):
    return (await call(shop.order.create, {**ORDER, **extra}))["id"]


async def _card_payment(shop, oid):
    body = {**CUSTOMER, "order_id": oid, "method": "card", "card": dict(CARD)}
    return await call(shop.payment.createPaymentJson, body)


async def _collect(shop, oid, vpa, minutes=5):
    body = {**CUSTOMER, "order_id": oid, "method": "upi", "vpa": vpa,
            "upi": {"flow": "collect", "expiry_time": minutes}}  # fmt: skip
    return await call(shop.payment.createUpi, body)


async def _poll(shop, pid):
    """Fetch the payment until it leaves ``created`` (the collect's timer has run)."""
    for _ in range(POLLS):
        payment = await call(shop.payment.fetch, pid)
        if payment["status"] != "created":
            return payment
        await asyncio.sleep(0.01)
    raise AssertionError(f"{pid} stayed created")


async def test_card_otp_signature_capture_refund_through_the_sdk(sdk_server):
    shop = sdk_server.client()
    oid = await _order(shop, payment_capture=0)
    started = await _card_payment(shop, oid)
    pid = started["razorpay_payment_id"]
    assert [(n["action"], n["method"]) for n in started["next"]] == [
        ("otp_submit", "post"), ("otp_resend", "post"),
    ]  # fmt: skip
    assert started["next"][0]["url"].endswith(f"/v1/payments/{pid}/otp/submit")
    assert (await call(shop.payment.fetch, pid))["status"] == "created"
    assert await call(shop.payment.otpResend, pid) == started
    (row,) = await sdk_server.gw.store.fetchall("SELECT * FROM payments WHERE id = ?", (pid,))
    assert SUCCESS_CARD not in str(row), "the card waits at the ACS, not in the payment row"

    signed = await call(shop.payment.otpSubmit, pid, {"otp": "123456"})
    assert set(signed) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}
    assert (signed["razorpay_payment_id"], signed["razorpay_order_id"]) == (pid, oid)
    assert await call(shop.utility.verify_payment_signature, signed) is True
    assert (await call(shop.payment.fetch, pid))["status"] == "authorized"
    captured = await call(shop.payment.capture, pid, 49_900, {"currency": "INR"})
    assert captured["status"] == "captured"
    assert (await call(shop.order.fetch, oid))["status"] == "paid"
    refund = await call(shop.payment.refund, pid, {"amount": 10_000})
    assert (await call(shop.refund.fetch, refund["id"]))["amount"] == 10_000
    payment = await call(shop.payment.fetch, pid)
    assert (payment["status"], payment["refund_status"]) == ("captured", "partial")
    with pytest.raises(BadRequestError, match="not waiting"):
        await call(shop.payment.otpSubmit, pid, {"otp": "123456"})


async def test_three_wrong_otps_fail_the_payment(sdk_server):
    shop = sdk_server.client()
    oid = await _order(shop)
    pid = (await _card_payment(shop, oid))["razorpay_payment_id"]
    wrong = await call(requests.post, f"{sdk_server.url}/v1/payments/{pid}/otp/submit",
                       json={"otp": "111111"}, auth=(sdk_server.key_id, sdk_server.secret),
                       timeout=30)  # fmt: skip
    error = wrong.json()["error"]
    assert (wrong.status_code, error["code"], error["reason"], error["field"]) == (
        400, "BAD_REQUEST_ERROR", "incorrect_otp", "otp",
    )  # fmt: skip
    assert (error["source"], error["step"]) == ("customer", "payment_authentication")
    for left in range(OTP_ATTEMPTS - 2, 0, -1):  # BadRequestError: code BAD_REQUEST_ERROR
        with pytest.raises(BadRequestError, match=f"incorrect; {left} attempt"):
            await call(shop.payment.otpSubmit, pid, {"otp": "654321"})
        assert (await call(shop.payment.fetch, pid))["status"] == "created"
    with pytest.raises(BadRequestError, match="wrong OTP"):
        await call(shop.payment.otpSubmit, pid, {"otp": "000000"})
    failed = await call(shop.payment.fetch, pid)
    assert (failed["status"], failed["error_code"], failed["error_reason"]) == (
        "failed", "AUTHENTICATION_FAILED", "authentication_failed",
    )  # fmt: skip
    assert (failed["error_source"], failed["error_step"]) == ("customer", "payment_authentication")
    events = await sdk_server.gw.store.fetchall(
        "SELECT event FROM outbox WHERE body LIKE ?", (f"%{pid}%",)
    )
    assert [e for (e,) in events] == ["payment.failed"]
    assert sdk_server.gw.bank.calls["charge"] == 0, "an unauthenticated card is never charged"
    with pytest.raises(BadRequestError, match="not waiting"):  # the right OTP comes too late
        await call(shop.payment.otpSubmit, pid, {"otp": "123456"})
    assert (await call(shop.order.fetch, oid))["status"] == "attempted", "still payable"


async def test_bad_s2s_bodies_store_nothing(sdk_server):
    shop = sdk_server.client()
    oid = await _order(shop)
    good = {**CUSTOMER, "order_id": oid, "method": "card", "card": dict(CARD)}
    for bad, field in (
        ({**good, "amount": 100}, "amount"), ({**good, "card": {**CARD, "cvv": "1"}}, "cvv"),
        ({k: v for k, v in good.items() if k != "email"}, "email"),
        ({**good, "method": "upi"}, "method"), ({**good, "order_id": "order_x"}, "does not exist"),
    ):  # fmt: skip
        with pytest.raises(BadRequestError, match=field):
            await call(shop.payment.createPaymentJson, bad)
    assert (await call(shop.order.fetch, oid))["attempts"] == 0
    with pytest.raises(BadRequestError, match="expiry_time"):
        await _collect(shop, oid, "success@razorpay", minutes=0)
    valid = await call(shop.payment.validateVpa, {"vpa": "success@razorpay"})
    assert (valid["vpa"], valid["success"]) == ("success@razorpay", True)
    assert (await call(shop.payment.validateVpa, {"vpa": "failure@razorpay"}))["success"] is False


async def test_upi_collect_success_payer_approves_when_the_clock_advances(sdk_server, clock):
    shop = sdk_server.client()
    oid = await _order(shop, payment_capture=0)
    started = await _collect(shop, oid, "success@razorpay")
    pid = started["razorpay_payment_id"]
    assert started["next"] == [{"action": "poll", "url": f"/v1/payments/{pid}", "method": "get"}]
    assert (await call(shop.payment.fetch, pid))["status"] == "created"
    clock.advance(TEST_PAYER_ANSWERS_AFTER_S)
    payment = await _poll(shop, pid)
    assert (payment["status"], payment["vpa"], payment["error_code"]) == (
        "authorized", "success@razorpay", None,
    )  # fmt: skip
    await call(shop.payment.capture, pid, 49_900, {"currency": "INR"})
    assert (await call(shop.order.fetch, oid))["status"] == "paid"


async def test_upi_collect_failure_payer_fails_with_razorpays_error_fields(sdk_server, clock):
    shop = sdk_server.client()
    pid = (await _collect(shop, await _order(shop), "failure@razorpay"))["razorpay_payment_id"]
    clock.advance(TEST_PAYER_ANSWERS_AFTER_S)
    payment = await _poll(shop, pid)
    assert payment["status"] == "failed"
    assert (payment["error_code"], payment["error_reason"]) == ("PAYMENT_DECLINED",
                                                                "payment_failed")  # fmt: skip
    for name in ("error_description", "error_source", "error_step"):
        assert payment[name], name


async def test_an_unanswered_collect_expires_with_npci_u69(sdk_server, clock):
    shop = sdk_server.client()
    oid = await _order(shop)
    pid = (await _collect(shop, oid, "payer@okbank", minutes=2))["razorpay_payment_id"]
    clock.advance(60)
    assert (await call(shop.payment.fetch, pid))["status"] == "created", "not yet expired"
    assert sdk_server.gw.bank.status(pid).status == "pending", "the reconciler leaves it"
    clock.advance(60)
    payment = await _poll(shop, pid)
    assert (payment["status"], payment["error_code"]) == ("failed", "UPI_COLLECT_EXPIRED")
    assert "U69" in payment["error_description"]
    assert sdk_server.gw.bank.calls["charge"] == 0
    assert (await call(shop.order.fetch, oid))["status"] == "attempted", "still payable"
