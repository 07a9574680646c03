"""Razorpay's error contract: no input gets a 5xx or plain text; every error has the same shape."""

import asyncio
import base64
import json
import string
from urllib.parse import quote, urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from razorlab.errors import NotFoundError, ValidationError
from razorlab.payments.api import create_app
from razorlab.payments.bank import SimulatedBank
from razorlab.payments.error_contract import ERROR_FIELDS, razorpay_error
from razorlab.payments.gateway import Gateway
from tests import payments_support as support
from tests.payments_support import basic_auth

sdk_server = support.sdk_server  # the shared fixture (SQLite and PostgreSQL)
UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


async def _open(clock):
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=5)
    merchant, secret = await gw.create_merchant("Acme")
    client = TestClient(TestServer(create_app(gw)))
    await client.start_server()
    return client, gw, merchant, secret


async def _close(client, gw):
    await client.close()
    await gw.close()


def _assert_contract(status, body, what):
    assert status < 500, f"{what}: {status} {body}"
    if status >= 300:
        assert isinstance(body, dict) and set(body) == {"error"}, f"{what}: {body}"
        error = body["error"]
        assert tuple(error) == ERROR_FIELDS, f"{what}: {error}"
        assert error["code"] in ("BAD_REQUEST_ERROR", "GATEWAY_ERROR"), f"{what}: {error}"
        assert isinstance(error["description"], str) and error["description"], what
        assert isinstance(error["reason"], str) and isinstance(error["metadata"], dict), what


@pytest.fixture
async def api(clock):
    client, gw, merchant, secret = await _open(clock)
    yield client, gw, merchant, basic_auth(merchant.key_id, secret)
    await _close(client, gw)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/payments?from=-1e20",
        "/v1/payments?to=1e23",
        "/v1/payments?skip=1e30",
        "/v1/payments?skip=99999999999999999999999",
        "/v1/payments?from=-5",
        "/v1/payments?to=%EF%BC%91",  # a full-width digit: int() would accept it
        "/v1/refunds?count=1e3",
    ],
)
async def test_out_of_range_queries_are_400_not_500(api, path):
    client, _, _, acme = api
    resp = await client.get(path, headers=acme)
    body = await resp.json()
    _assert_contract(resp.status, body, path)
    assert resp.status == 400 and body["error"]["reason"] == "input_validation_failed"


async def test_a_merchant_id_is_not_a_payment_and_exists_or_not_alike(api):
    client, _, merchant, acme = api
    real = await client.get(f"/v1/payments/{merchant.id}", headers=acme)
    made_up = await client.get("/v1/payments/mer_doesnotexist", headers=acme)
    assert real.status == made_up.status == 400  # Razorpay's status for an unknown id
    real_body, made_up_body = await real.json(), await made_up.json()
    _assert_contract(400, real_body, "merchant id")
    assert real_body == made_up_body, "the answer does not tell whether the id exists"
    error = real_body["error"]
    assert (error["code"], error["description"], error["reason"], error["field"]) == (
        "BAD_REQUEST_ERROR",
        "The id provided does not exist",
        "input_validation_failed",
        "id",
    )


async def test_the_auth_scheme_is_case_insensitive(clock):
    client, gw, merchant, secret = await _open(clock)
    try:
        for scheme in ("basic", "BASIC", "bAsIc"):
            resp = await client.get(
                "/v1/payments", headers=basic_auth(merchant.key_id, secret, scheme)
            )
            assert resp.status == 200, scheme
    finally:
        await _close(client, gw)


@pytest.mark.parametrize(
    "method, path, status",
    [("DELETE", "/v1/payments", 405), ("PUT", "/v1/refunds", 405), ("GET", "/v9/x", 404)],
)
async def test_protocol_errors_use_the_contract(api, method, path, status):
    client, _, _, acme = api
    resp = await client.request(method, path, headers=acme)
    assert resp.status == status and resp.content_type == "application/json"
    _assert_contract(resp.status, await resp.json(), path)


def test_engine_errors_map_to_razorpay_codes_and_reasons():
    status, body = razorpay_error(NotFoundError("no payment pay_x", field="id"))
    assert (status, body["error"]["code"], body["error"]["reason"]) == (
        404,
        "BAD_REQUEST_ERROR",
        "not_found",
    )
    status, body = razorpay_error(ValidationError("amount must be positive", field="amount"))
    assert (status, body["error"]["reason"], body["error"]["field"]) == (
        400,
        "input_validation_failed",
        "amount",
    )


# ----- the property: random requests never get a 5xx or a non-contract body -----------------
SEGMENTS = ["v1", "payments", "refunds", "refund", "capture", "pay_x", "rfnd_x", "mer_x", "",
            "..", "%", "0", "-1", "v2", "orders", "order_x", "checkout", "pay", "otp_submit",
            "upi_collect"]  # fmt: skip
ROUTES = ["/v1/payments/{}", "/v1/payments", "/v1/payments/{}/capture", "/v1/payments/{}/refund",
          "/v1/payments/{}/refunds", "/v1/payments/{}/refunds/{}", "/v1/refunds",
          "/v1/refunds/{}", "/v1/orders", "/v1/orders/{}", "/v1/orders/{}/payments",
          "/v1/checkout/{}/pay", "/v1/checkout/payments/{}/otp_submit",
          "/v1/checkout/payments/{}/upi_collect"]  # fmt: skip
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
QUERY_KEYS = ["from", "to", "count", "skip", "x"]
QUERY_VALUES = ["-1e20", "1e23", "1e30", "1", "-1", "0", "100", "101", "nan", "", "٣", "9" * 30]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip
FIELDS = ["amount", "currency", "method", "vpa", "speed", "notes", "receipt", "card", "order_id",
          "partial_payment", "payment_capture", "otp", "approve"]  # fmt: skip
BODIES = st.one_of(
    st.none(),
    st.binary(max_size=64),
    JSON_VALUES.map(json.dumps),
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5).map(json.dumps),
)
HEADER_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_:=", max_size=40)


@st.composite
def requests(draw, pids):
    if draw(st.integers(0, 3)):  # mostly a real route with a real, foreign or made-up id
        made_up = ["pay_x", "rfnd_x", "order_x"]
        ids = st.one_of(st.sampled_from([*pids, *made_up]), st.sampled_from(pids),
                        st.text(max_size=12))  # fmt: skip
        template = draw(st.sampled_from(ROUTES))
        path = template.format(*(quote(draw(ids), safe="") for _ in range(2)))
    else:
        segments = draw(st.lists(st.sampled_from(SEGMENTS + pids), min_size=1, max_size=5))
        if draw(st.booleans()):
            segments = ["v1", *segments]
        path = "/" + "/".join(quote(s, safe="") for s in segments).lstrip("/")  # not "//host"
    query = draw(st.lists(st.tuples(st.sampled_from(QUERY_KEYS), st.sampled_from(QUERY_VALUES)),
                          max_size=3))  # fmt: skip
    headers = {}
    auth = draw(
        st.sampled_from(["good", "good", "good", "good", "lower", "public", "none", "junk"])
    )
    if auth == "junk":
        headers["Authorization"] = draw(HEADER_TEXT)
    headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain", ""]))
    for name in ("Idempotency-Key", "X-Refund-Idempotency"):
        if draw(st.booleans()):
            headers[name] = draw(HEADER_TEXT)
    return path + ("?" + urlencode(query) if query else ""), auth, headers, draw(BODIES)


async def _open_checkout(client, gw, merchant):
    """An order and a card checkout on it waiting for its OTP: (order id, payment id)."""
    order = await gw.create_order(merchant.id, {"amount": 100_000, "currency": "INR"})
    form = {"method": "card", "card": {"number": "4111111111111111", "expiry_month": 12,
                                       "expiry_year": 2099}}  # fmt: skip
    resp = await client.post(f"/v1/checkout/{order.id}/pay", json=form,
                             headers=basic_auth(merchant.key_id, ""))  # fmt: skip
    return order.id, (await resp.json())["razorpay_payment_id"]


@pytest.fixture(scope="module")
def served():
    """One gateway with a captured payment, an order and a checkout awaiting its OTP, served
    on a loop the property test drives."""
    from razorlab.clock import ManualClock

    loop = asyncio.new_event_loop()
    client, gw, merchant, secret = loop.run_until_complete(_open(ManualClock()))
    good = basic_auth(merchant.key_id, secret)
    pid = loop.run_until_complete(gw.create_payment(merchant.id, UPI)).body["id"]
    loop.run_until_complete(gw.capture(merchant.id, pid))
    oid, waiting = loop.run_until_complete(_open_checkout(client, gw, merchant))
    yield loop, client, good, merchant, secret, [pid, oid, waiting]
    loop.run_until_complete(_close(client, gw))
    loop.close()


def test_no_request_gets_a_5xx_or_a_body_outside_the_contract(served):
    loop, client, good, merchant, secret, ids = served
    pid = ids[0]

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests([merchant.id, *ids, f"{pid[:-1]}0"]))  # ours, real ones, a near miss
    def check(request):
        target, auth, headers, body = request
        if auth == "good":
            headers = {**headers, **good}
        elif auth == "lower":
            headers = {**headers, **basic_auth(merchant.key_id, secret, "basic")}
        elif auth == "public":  # the key id alone, as Checkout.js sends it
            headers = {**headers, **basic_auth(merchant.key_id, "")}

        async def send(method):
            resp = await client.request(
                method, URL(target, encoded=True), headers=headers, data=body
            )
            return resp.status, resp.content_type, await resp.text()

        for method in METHODS:  # every method on every drawn request
            status, content_type, text = loop.run_until_complete(send(method))
            what = f"{method} {target} {headers} {body!r}"
            assert status < 500, f"{what}: {status} {text}"
            if status >= 300:
                assert content_type == "application/json", f"{what}: {content_type} {text}"
                if method != "HEAD":  # a HEAD answer has headers only
                    _assert_contract(status, json.loads(text), what)

    check()


async def _raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Send bytes no HTTP library would (a header that is not UTF-8); status and JSON back."""
    target = URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    await writer.drain()
    reply = await reader.read()
    writer.close()
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def test_text_no_database_can_store_is_a_400_on_both_stores(sdk_server):
    """PostgreSQL's text refuses NUL and neither store can encode an unpaired surrogate: such
    text in a body, a path id, an idempotency header or the credentials is refused up front
    (found by schemathesis: a receipt with NUL was a 500 on PostgreSQL)."""
    auth = "Basic " + base64.b64encode(f"{sdk_server.key_id}:{sdk_server.secret}".encode()).decode()
    bodies = ['{"amount": 100, "currency": "INR", "receipt": "a\\u0000b"}',
              '{"amount": 100, "currency": "INR", "notes": {"k": "\\ud800"}}',
              '{"amount": 100, "currency": "INR", "notes": {"\\u0000": "v"}}']  # fmt: skip
    for body in bodies:
        status, reply = await _raw_request(sdk_server.url, (
            f"POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\n").encode(), body.encode())  # fmt: skip
        _assert_contract(status, reply, body)
        assert status == 400 and reply["error"]["field"] in ("receipt", "notes"), reply
    status, reply = await _raw_request(
        sdk_server.url,
        (f"GET /v1/payments/pay_%00 HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n").encode(),
    )
    assert (status, reply["error"]["field"]) == (400, "id"), reply
    head = (
        f"POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
        "Content-Type: application/json\r\nIdempotency-Key: k\xff\r\n"
    ).encode("latin-1")
    status, reply = await _raw_request(sdk_server.url, head, json.dumps(UPI).encode())
    assert (status, reply["error"]["field"]) == (400, "Idempotency-Key"), reply
    nul_key = "Basic " + base64.b64encode(b"rzp\x00:secret").decode()
    status, reply = await _raw_request(
        sdk_server.url,
        (f"GET /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: {nul_key}\r\n").encode(),
    )
    assert status == 401, reply
    assert await sdk_server.gw.store.count_payments() == 0
    assert not await sdk_server.gw.store.fetchall("SELECT id FROM orders"), "nothing stored"
