"""The booking HTTP API: list → hold → pay → cancel, the gateway's JSON error contract for
every bad input (never a 5xx, nothing stored), and concurrent clients that never share a seat."""

import asyncio
from collections import Counter

import pytest
from aiohttp.test_utils import TestClient, TestServer

from razorlab.clock import ManualClock
from razorlab.social.booking import BookingService, PaymentResult, SqliteSeatStore
from razorlab.social.booking.api import MAX_BODY_BYTES, create_app
from razorlab.social.booking.simulation import popular_show


class InstantPayments:
    """Answers at once; declines users whose id starts with "broke"."""

    def __init__(self):
        self.captured, self.refunds, self.charges = {}, {}, {}

    async def charge(self, key, amount):
        if key not in self.charges:
            self.charges[key] = PaymentResult(True, f"pay_{len(self.charges) + 1}")
            self.captured[self.charges[key].payment_id] = amount
        return self.charges[key]

    async def refund(self, payment_id, amount):
        self.refunds[payment_id] = amount

    async def lookup(self, key):
        return self.charges.get(key)


@pytest.fixture
async def api(tmp_path):
    store = await SqliteSeatStore.open(str(tmp_path / "tickets.db"))
    await store.add_show(popular_show("s1"))
    clock = ManualClock()
    client = TestClient(
        TestServer(create_app(BookingService(store, InstantPayments(), clock), ["s1"]))
    )
    await client.start_server()
    yield client, store
    await client.close()
    await store.close()


async def test_list_hold_pay_and_cancel(api):
    client, _ = api
    shows = await (await client.get("/v1/shows")).json()
    assert [s["show_id"] for s in shows["items"]] == ["s1"]
    held = await client.post(
        "/v1/holds", json={"show_id": "s1", "seat_ids": ["A1"], "user_id": "amy"}
    )
    hold = await held.json()
    assert held.status == 201 and hold["status"] == "held"
    seat_map = await (await client.get("/v1/shows/s1")).json()
    assert [s["free"] for s in seat_map["seats"] if s["seat_id"] == "A1"] == [False]
    paid = await client.post(f"/v1/holds/{hold['token']}/pay", json={"user_id": "amy"})
    assert (paid.status, (await paid.json())["outcome"]) == (200, "confirmed")
    other = await (
        await client.post("/v1/holds", json={"show_id": "s1", "seat_ids": ["B2"], "user_id": "bob"})
    ).json()
    cancelled = await client.delete(f"/v1/holds/{other['token']}", params={"user_id": "bob"})
    assert (await cancelled.json())["status"] == "released"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": "A1", "user_id": "amy"}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": ["A1"] * 11, "user_id": "amy"}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": ["A1", "A1"], "user_id": "amy"}, 400, "DUPLICATE_SEAT"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": ["Z99"], "user_id": "amy"}, 400, "SEAT_NOT_FOUND"),
        ("post", "/v1/holds", {"show_id": "nope", "seat_ids": ["A1"], "user_id": "amy"}, 404, "SHOW_NOT_FOUND"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": [["A1"]], "user_id": "amy"}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": ["A1"], "user_id": ["amy"]}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds", {"show_id": "s1", "seat_ids": ["A1"], "user_id": "x" * 65}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds", [1, 2], 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds/abc/pay", {"user_id": "amy"}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds/99999999999999999999/pay", {"user_id": "amy"}, 400, "BAD_REQUEST_ERROR"),
        ("post", "/v1/holds/7/pay", {"user_id": "amy"}, 404, "HOLD_NOT_FOUND"),
        ("delete", "/v1/holds/7", None, 400, "BAD_REQUEST_ERROR"),
        ("put", "/v1/holds", {}, 405, "METHOD_NOT_ALLOWED"),
        ("get", "/v1/nothing", None, 404, "NOT_FOUND"),
    ],
)  # fmt: skip
async def test_bad_requests_get_the_json_error_contract_and_store_nothing(
    api, method, path, body, status, code
):
    client, store = api
    response = await getattr(client, method)(path, json=body)
    error = (await response.json())["error"]
    assert (response.status, error["code"]) == (status, code), error
    assert set(error) == {"code", "description", "field"}
    assert await store.claims("s1") == []


async def test_malformed_oversized_and_non_json_bodies_are_4xx(api):
    client, _ = api
    headers = {"Content-Type": "application/json"}
    cases = [
        (await client.post("/v1/holds", data="{", headers=headers), 400),
        (await client.post("/v1/holds", data="[" * 30_000 + "]" * 30_000, headers=headers), 413),
        (await client.post("/v1/holds", data="x" * (MAX_BODY_BYTES + 1), headers=headers), 413),
        (await client.post("/v1/holds", data="[" * 2_000 + "]" * 2_000, headers=headers), 400),
        (await client.post("/v1/holds", data="show_id=s1"), 415),
    ]
    for response, status in cases:
        assert response.status == status and "error" in await response.json()


async def test_only_the_holder_can_pay_or_cancel(api):
    client, _ = api
    hold = await (
        await client.post("/v1/holds", json={"show_id": "s1", "seat_ids": ["A1"], "user_id": "amy"})
    ).json()
    paid = await client.post(f"/v1/holds/{hold['token']}/pay", json={"user_id": "eve"})
    cancelled = await client.delete(f"/v1/holds/{hold['token']}", params={"user_id": "eve"})
    assert (paid.status, cancelled.status) == (403, 403)


async def test_concurrent_clients_never_share_a_seat(api):
    client, store = api
    wanted = [["A1", "A2"], ["A2", "A3"], ["A3"], ["A1"], ["A4"]]

    async def user(i):
        held = await client.post(
            "/v1/holds", json={"show_id": "s1", "seat_ids": wanted[i % 5], "user_id": f"u{i}"}
        )
        body = await held.json()
        if held.status != 201:
            return body["error"]["code"]
        paid = await client.post(f"/v1/holds/{body['token']}/pay", json={"user_id": f"u{i}"})
        return (await paid.json())["outcome"]

    outcomes = Counter(await asyncio.gather(*(user(i) for i in range(60))))
    assert set(outcomes) <= {"confirmed", "SEATS_UNAVAILABLE"} and outcomes["confirmed"] >= 2
    sold = Counter(c.seat_id for c in await store.claims("s1"))
    assert max(sold.values()) == 1, "no seat sold twice"
