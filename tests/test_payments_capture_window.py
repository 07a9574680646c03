"""A capture after the 3-day window is refused at request time, before the sweeper has run."""

import pytest

from razorlab.payments.payment import CAPTURE_WINDOW_S, PaymentStatus
from razorlab.payments.sweeper import AutoRefundSweeper
from tests import payments_support as support
from tests.payments_support import UPI, two_merchants
from tests.payments_support import call as _call

razorpay = pytest.importorskip("razorpay")
from razorpay.errors import BadRequestError  # noqa: E402

sdk_server, sdk = support.sdk_server, support.sdk  # the shared fixtures
CAPTURE = {"amount": 49_900, "currency": "INR"}


async def test_a_late_capture_is_a_bad_request_and_captures_nothing(clock):
    async with two_merchants(clock, seed=6) as (client, gw, acme, _):
        pid = (await (await client.post("/v1/payments", json=UPI, headers=acme)).json())["id"]
        clock.advance(CAPTURE_WINDOW_S + 1)  # the sweeper has not run
        resp = await client.post(f"/v1/payments/{pid}/capture", json=CAPTURE, headers=acme)
        error = (await resp.json())["error"]
        assert resp.status == 400 and (error["code"], error["reason"]) == (
            "BAD_REQUEST_ERROR",
            "capture_window_expired",
        )
        assert "more than 3 days ago" in error["description"]
        payment = await gw.store.payment(pid)
        assert payment.status is PaymentStatus.AUTHORIZED and gw.bank.calls["capture"] == 0
        assert (
            await gw.store.fetchall("SELECT 1 FROM outbox WHERE event = 'payment.captured'") == []
        )
        [refunded] = await AutoRefundSweeper(gw).sweep_once()  # the sweeper's, as promised
        assert refunded.id == pid and refunded.status is PaymentStatus.REFUNDED


async def test_the_sdk_raises_bad_request_error_after_the_window_only(sdk, clock):
    client, gw = sdk
    on_time = (await _call(client.post, "/v1/payments", UPI))["id"]
    late = (await _call(client.post, "/v1/payments", UPI))["id"]
    clock.advance(CAPTURE_WINDOW_S)  # the last moment of the window: still capturable
    captured = await _call(client.payment.capture, on_time, 49_900, {"currency": "INR"})
    assert captured["status"] == "captured"
    clock.advance(1)
    with pytest.raises(BadRequestError, match="can no longer be captured"):
        await _call(client.payment.capture, late, 49_900, {"currency": "INR"})
    assert (await _call(client.payment.fetch, late))["status"] == "authorized"
