"""The HTTP API: Razorpay-shaped endpoints; every bad request is a JSON 4xx and stores nothing."""

import base64
import json

import pytest

from razorlab.infra.ratelimit import RateLimiter
from razorlab.payments.api import MAX_BODY_BYTES
from razorlab.payments.bank import SUCCESS_CARD
from tests.payments_support import basic_auth, two_merchants

UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


@pytest.fixture
async def api(clock):
    limiter = RateLimiter(clock, rate_per_s=1, burst=50)
    async with two_merchants(clock, seed=2, limiter=limiter) as setup:
        yield setup


async def _stored(gw):
    (payments,) = await gw.store.fetchone("SELECT COUNT(*) FROM payments")
    (keys,) = await gw.store.fetchone("SELECT COUNT(*) FROM idempotency_keys")
    return payments + keys + gw.bank.calls["charge"]


async def test_create_get_capture_refund_list(api):
    client, gw, acme, other = api
    resp = await client.post("/v1/payments", json=UPI, headers=acme)
    assert resp.status == 201
    payment = await resp.json()
    assert {k: payment[k] for k in ("status", "amount", "currency")} == {
        "status": "authorized",
        "amount": 49_900,
        "currency": "INR",
    }
    pid = payment["id"]
    assert (await (await client.get(f"/v1/payments/{pid}", headers=acme)).json())["id"] == pid
    capture = {"amount": 49_900, "currency": "INR"}  # Razorpay names the authorised amount
    resp = await client.post(f"/v1/payments/{pid}/capture", json=capture, headers=acme)
    assert resp.status == 200 and (await resp.json())["status"] == "captured"
    resp = await client.post(f"/v1/payments/{pid}/refund", json={"amount": 900}, headers=acme)
    assert resp.status == 201 and (await resp.json())["amount"] == 900
    resp = await client.post(f"/v1/payments/{pid}/refund", headers=acme)  # the rest
    assert (await resp.json())["amount"] == 49_000
    resp = await client.post(f"/v1/payments/{pid}/refund", json={"amount": 1}, headers=acme)
    error = (await resp.json())["error"]
    assert resp.status == 400 and (error["code"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        "invalid_payment_state",
    )
    got = await (await client.get(f"/v1/payments/{pid}", headers=acme)).json()
    assert got["status"] == "refunded"  # no stale cached status after capture and refunds
    await client.post("/v1/payments", json=UPI, headers=acme)
    await client.post("/v1/payments", json=UPI, headers=other)
    page = await (await client.get("/v1/payments?count=1&skip=0", headers=acme)).json()
    assert page["count"] == 1
    everything = await (await client.get("/v1/payments?count=100", headers=acme)).json()
    assert everything["count"] == 2  # only Acme's own payments


async def test_idempotency_key_header_replays(api):
    client, gw, acme, _ = api
    headers = {**acme, "Idempotency-Key": "order-77"}
    first = await client.post("/v1/payments", json=UPI, headers=headers)
    again = await client.post("/v1/payments", json=UPI, headers=headers)
    assert await first.json() == await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    reused = await client.post("/v1/payments", json={**UPI, "amount": 100}, headers=headers)
    assert reused.status == 422 and gw.bank.calls["charge"] == 1
    assert (await reused.json())["error"]["reason"] == "idempotency_key_reused"


CARD = {"number": SUCCESS_CARD, "expiry_month": 12, "expiry_year": 2030}
BAD_BODIES = [
    ("missing amount", {"currency": "INR", "method": "upi", "vpa": "a@razorpay"}, 400),
    ("missing method", {"amount": 100, "currency": "INR"}, 400),
    ("float amount", {**UPI, "amount": 499.0}, 400),
    ("negative amount", {**UPI, "amount": -100}, 400),
    ("zero amount", {**UPI, "amount": 0}, 400),
    ("huge amount", {**UPI, "amount": 10**30}, 400),
    ("string amount", {**UPI, "amount": "49900"}, 400),
    ("NaN amount", '{"amount": NaN, "currency": "INR", "method": "upi"}', 400),
    ("bad currency", {**UPI, "currency": "RUPEES"}, 400),
    ("lowercase currency", {**UPI, "currency": "inr"}, 400),
    ("bad VPA", {**UPI, "vpa": "nobody"}, 400),
    ("Luhn typo", {**UPI, "method": "card", "card": {**CARD, "number": "4111111111111121"}}, 400),
    ("JSON array", "[1, 2]", 400),
    ("malformed JSON", '{"amount": 100,', 400),
    ("empty body", "", 400),
    ("oversized body", json.dumps({**UPI, "vpa": "a" * MAX_BODY_BYTES}), 413),
]


@pytest.mark.parametrize("name, body, status", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_input_is_rejected_and_nothing_is_stored(api, name, body, status):
    client, gw, acme, _ = api
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {**acme, "Content-Type": "application/json", "Idempotency-Key": "k-" + name}
    resp = await client.post("/v1/payments", data=data, headers=headers)
    assert resp.status == status, name
    error = (await resp.json())["error"]
    assert set(error) >= {"code", "description", "field"} and error["description"]
    assert set(error) == {"code", "description", "source", "step", "reason", "metadata", "field"}
    assert error["code"] == "BAD_REQUEST_ERROR", error
    assert await _stored(gw) == 0, f"{name}: something was stored or charged"


async def test_wrong_content_type_is_415(api):
    client, gw, acme, _ = api
    resp = await client.post("/v1/payments", data=json.dumps(UPI), headers=acme)  # no type
    assert resp.status == 415
    form = await client.post("/v1/payments", data={"amount": "100"}, headers=acme)
    assert form.status == 415 and await _stored(gw) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!notbase64"},
        basic_auth("rzp_test_unknown", "secret"),
    ],
)
async def test_bad_credentials_are_401(api, headers):
    client, gw, _, _ = api
    resp = await client.post("/v1/payments", json=UPI, headers=headers)
    error = (await resp.json())["error"]
    assert resp.status == 401 and (error["code"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        "unauthorized",
    )
    assert await _stored(gw) == 0


async def test_right_key_wrong_secret_is_401(api):
    client, gw, acme, _ = api
    key_id = base64.b64decode(acme["Authorization"][6:]).decode().split(":")[0]
    resp = await client.get("/v1/payments", headers=basic_auth(key_id, "wrong"))
    assert resp.status == 401


async def test_another_merchants_payment_does_not_exist_as_with_razorpay(api):
    client, gw, acme, other = api
    pid = (await (await client.post("/v1/payments", json=UPI, headers=acme)).json())["id"]
    before = (await _stored(gw), dict(gw.bank.calls))
    for method, path in [
        ("GET", f"/v1/payments/{pid}"),
        ("POST", f"/v1/payments/{pid}/capture"),
        ("POST", f"/v1/payments/{pid}/refund"),
        ("POST", f"/v1/payments/{pid}/refunds"),
        ("GET", f"/v1/payments/{pid}/refunds"),
    ]:
        for headers, who in ((other, "another merchant's"), (acme, "made-up")):
            target = path if who != "made-up" else path.replace(pid, "pay_doesnotexist00")
            resp = await client.request(method, target, headers=headers)
            error = (await resp.json())["error"]
            assert resp.status == 400, (who, path)  # Razorpay's answer: not a 404
            assert (error["code"], error["description"], error["field"]) == (
                "BAD_REQUEST_ERROR",
                "The id provided does not exist",
                "id",
            ), (who, path)
    assert (await _stored(gw), dict(gw.bank.calls)) == before, "nothing stored or sent"
    assert (await gw.store.payment(pid)).status.value == "authorized"
    assert (await (await client.get(f"/v1/payments/{pid}", headers=acme)).json())["id"] == pid


@pytest.mark.parametrize("query", ["count=0", "count=101", "count=x", "skip=-1", "from=abc"])
async def test_bad_list_parameters_are_400(api, query):
    client, _, acme, _ = api
    resp = await client.get(f"/v1/payments?{query}", headers=acme)
    assert resp.status == 400


async def test_rate_limit_is_429_with_retry_after(api):
    client, gw, acme, _ = api
    statuses = []
    for _ in range(52):
        statuses.append((await client.post("/v1/payments", json=UPI, headers=acme)).status)
    assert statuses[:50] == [201] * 50 and statuses[50:] == [429, 429]
    resp = await client.post("/v1/payments", json=UPI, headers=acme)
    assert resp.headers["Retry-After"] == "1"
    error = (await resp.json())["error"]
    assert (error["code"], error["reason"]) == ("BAD_REQUEST_ERROR", "rate_limit_exceeded")
    assert await gw.store.count_payments() == 50


async def test_unknown_route_is_a_json_404(api):
    client, _, acme, _ = api
    resp = await client.get("/v2/nothing", headers=acme)
    assert resp.status == 404 and "error" in await resp.json()


async def test_open_breaker_is_503_and_saves_no_key(api, clock):
    client, gw, acme, _ = api
    breaker = gw.breakers.get("upi:razorpay")
    for _ in range(100):
        breaker.record_failure()
    headers = {**acme, "Idempotency-Key": "during-outage"}
    resp = await client.post("/v1/payments", json=UPI, headers=headers)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) == 60
    assert await gw.keys.count() == 0 and gw.bank.calls["charge"] == 0
    clock.advance(61)
    retry = await client.post("/v1/payments", json=UPI, headers=headers)
    assert retry.status == 201  # the key was free to use once the bank recovered


async def test_public_key_ids_are_remembered_unknown_ones_are_not(api):
    client, gw, acme, _ = api
    key_id = base64.b64decode(acme["Authorization"].split()[1]).decode().partition(":")[0]
    lookups: list[str] = []
    real = gw.store.merchant_by_key_id

    async def counting(looked_up: str):
        lookups.append(looked_up)
        return await real(looked_up)

    gw.store.merchant_by_key_id = counting
    for _ in range(2):  # checkout authenticates with the key id alone
        resp = await client.post("/v1/checkout/order_none/pay", json={},
                                 headers=basic_auth(key_id, ""))  # fmt: skip
        assert resp.status == 400  # past auth: the order is unknown
    assert lookups == [key_id]  # merchants never change: asked once
    for _ in range(2):
        resp = await client.post("/v1/checkout/order_none/pay", json={},
                                 headers=basic_auth("rzp_test_nobody", ""))  # fmt: skip
        assert resp.status == 401
    assert lookups == [key_id, "rzp_test_nobody", "rzp_test_nobody"]  # a miss is asked again
    resp = await client.get("/v1/payments", headers=basic_auth(key_id, ""))
    assert resp.status == 401  # a remembered public key id does not open the secret routes
