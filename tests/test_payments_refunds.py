"""Refunds as Razorpay has them: one refund per idempotency key, queued, never over the capture."""

import asyncio

import pytest

from tests.payments_support import two_merchants

UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}
CAPTURE = {"amount": 49_900, "currency": "INR"}
REFUND_FIELDS = {"id", "entity", "amount", "currency", "payment_id", "notes", "receipt", "status",
                 "speed_requested", "created_at"}  # fmt: skip


@pytest.fixture
async def api(clock, payment_db):
    async with two_merchants(clock, seed=3, **payment_db) as setup:
        yield setup


async def _captured(client, headers):
    pid = (await (await client.post("/v1/payments", json=UPI, headers=headers)).json())["id"]
    resp = await client.post(f"/v1/payments/{pid}/capture", json=CAPTURE, headers=headers)
    assert resp.status == 200, await resp.text()
    return pid


async def _refunded_paise(gw):
    (total,) = await gw.store.fetchone("SELECT COALESCE(SUM(amount), 0) FROM refunds")
    return total


async def test_refund_entity_and_payment_keep_razorpays_shape(api):
    client, gw, acme, _ = api
    pid = await _captured(client, acme)
    body = {"amount": 10_000, "speed": "optimum", "notes": {"reason": "size"}, "receipt": "R-1"}
    resp = await client.post(f"/v1/payments/{pid}/refund", json=body, headers=acme)
    refund = await resp.json()
    assert resp.status == 201 and set(refund) >= REFUND_FIELDS, refund
    assert refund["id"].startswith("rfnd_") and refund["entity"] == "refund"
    assert (refund["amount"], refund["currency"], refund["payment_id"]) == (10_000, "INR", pid)
    assert (refund["notes"], refund["receipt"], refund["speed_requested"]) == (
        {"reason": "size"},
        "R-1",
        "optimum",
    )
    payment = await (await client.get(f"/v1/payments/{pid}", headers=acme)).json()
    assert (payment["status"], payment["refund_status"], payment["amount_refunded"]) == (
        "captured",
        "partial",
        10_000,
    ), "a partly refunded payment stays captured, as in Razorpay"
    await client.post(f"/v1/payments/{pid}/refund", json={}, headers=acme)  # the rest
    payment = await (await client.get(f"/v1/payments/{pid}", headers=acme)).json()
    assert (payment["status"], payment["refund_status"], payment["amount_refunded"]) == (
        "refunded",
        "full",
        49_900,
    )


async def test_same_refund_key_returns_the_same_refund_and_pays_once(api):
    client, gw, acme, _ = api
    pid = await _captured(client, acme)
    headers = {**acme, "X-Refund-Idempotency": "return-77"}
    first = await client.post(f"/v1/payments/{pid}/refund", json={"amount": 500}, headers=headers)
    again = await asyncio.gather(
        *(
            client.post(f"/v1/payments/{pid}/refund", json={"amount": 500}, headers=headers)
            for _ in range(5)
        )
    )
    first_body = await first.json()
    assert [await r.json() for r in again] == [first_body] * 5, "a retry gets the first refund"
    assert await _refunded_paise(gw) == 500 and gw.bank.calls["refund"] == 1, "one payout"
    changed = await client.post(f"/v1/payments/{pid}/refund", json={"amount": 600}, headers=headers)
    error = (await changed.json())["error"]
    assert changed.status == 400 and (error["code"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        "idempotency_key_reused",
    )
    other_pid = await _captured(client, acme)  # the key belongs to the merchant, not a payment
    reused = await client.post(
        f"/v1/payments/{other_pid}/refund", json={"amount": 500}, headers=headers
    )
    assert reused.status == 400 and await _refunded_paise(gw) == 500


async def test_fifty_concurrent_refunds_queue_and_never_exceed_the_capture(api):
    client, gw, acme, _ = api
    pid = await _captured(client, acme)
    replies = await asyncio.gather(
        *(
            client.post(f"/v1/payments/{pid}/refund", json={"amount": 1_000}, headers=acme)
            for _ in range(50)
        )
    )
    statuses = [r.status for r in replies]
    assert statuses.count(201) == 49, "every refund succeeds while money is refundable"
    assert statuses.count(400) == 1 and 409 not in statuses, statuses
    assert await _refunded_paise(gw) == 49_000 <= UPI["amount"]
    payment = await (await client.get(f"/v1/payments/{pid}", headers=acme)).json()
    assert payment["amount_refunded"] == 49_000 and payment["refund_status"] == "partial"
    assert gw._queues == {}, "the per-payment queue is dropped when idle"


async def test_refunds_can_be_fetched_and_listed_by_their_merchant_only(api):
    client, gw, acme, other = api
    pid = await _captured(client, acme)
    ids = []
    for amount in (100, 200, 300):
        resp = await client.post(
            f"/v1/payments/{pid}/refund", json={"amount": amount}, headers=acme
        )
        ids.append((await resp.json())["id"])
    one = await (await client.get(f"/v1/refunds/{ids[0]}", headers=acme)).json()
    assert (one["id"], one["amount"], one["status"]) == (ids[0], 100, "processed")
    nested = await client.get(f"/v1/payments/{pid}/refunds/{ids[1]}", headers=acme)
    assert (await nested.json())["amount"] == 200
    page = await (await client.get(f"/v1/payments/{pid}/refunds", headers=acme)).json()
    assert page["entity"] == "collection" and {r["id"] for r in page["items"]} == set(ids)
    assert (await (await client.get("/v1/refunds?count=2", headers=acme)).json())["count"] == 2
    for path in (f"/v1/refunds/{ids[0]}", f"/v1/payments/{pid}/refunds",
                 f"/v1/payments/{pid}/refunds/{ids[0]}", "/v1/refunds/rfnd_doesnotexist00",
                 f"/v1/payments/{pid}/refunds/rfnd_doesnotexist00"):  # fmt: skip
        resp = await client.get(path, headers=other if "doesnotexist" not in path else acme)
        error = (await resp.json())["error"]
        assert resp.status == 400, path  # Razorpay: "The id provided does not exist", no 404
        assert (error["code"], error["description"]) == (
            "BAD_REQUEST_ERROR",
            "The id provided does not exist",
        ), path
    assert await _refunded_paise(gw) == 600 and gw.bank.calls["refund"] == 3, "nothing added"
    assert (await (await client.get("/v1/refunds", headers=other)).json())["count"] == 0


BAD_REFUNDS = [
    ("float amount", {"amount": 10.5}),
    ("string amount", {"amount": "100"}),
    ("negative amount", {"amount": -1}),
    ("too much", {"amount": 49_901}),
    ("bad speed", {"speed": "instant"}),
    ("notes not an object", {"notes": "hi"}),
    ("long receipt", {"receipt": "r" * 41}),
    ("unknown field", {"amount": 100, "reverse_all": True}),
    ("array body", [1]),
]


@pytest.mark.parametrize("name, body", BAD_REFUNDS, ids=[b[0] for b in BAD_REFUNDS])
async def test_bad_refunds_are_400_and_store_nothing(api, name, body):
    client, gw, acme, _ = api
    pid = await _captured(client, acme)
    resp = await client.post(f"/v1/payments/{pid}/refund", json=body, headers=acme)
    error = (await resp.json())["error"]
    assert resp.status == 400 and error["code"] == "BAD_REQUEST_ERROR", (name, error)
    assert await _refunded_paise(gw) == 0 and gw.bank.calls["refund"] == 0


@pytest.mark.parametrize(
    "body, field",
    [({}, "amount"), ({"currency": "INR"}, "amount"), ({"amount": 1, "currency": "INR"}, "amount"),
     ({"amount": 49_900}, "currency"), ({"amount": 49_900, "currency": "USD"}, "currency"),
     ({"amount": True, "currency": "INR"}, "amount")],
)  # fmt: skip
async def test_capture_needs_the_authorised_amount_and_currency(api, body, field):
    client, gw, acme, _ = api
    pid = (await (await client.post("/v1/payments", json=UPI, headers=acme)).json())["id"]
    resp = await client.post(f"/v1/payments/{pid}/capture", json=body, headers=acme)
    error = (await resp.json())["error"]
    assert resp.status == 400 and (error["code"], error["field"]) == ("BAD_REQUEST_ERROR", field)
    assert (await gw.get_payment((await gw.store.payment(pid)).merchant_id, pid)).status.value == (
        "authorized"
    ), "a refused capture changes nothing"


async def test_a_database_from_before_refund_keys_is_migrated_on_open(tmp_path):
    import sqlite3

    from razorlab.payments.store import PaymentStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the refunds table as razorlab first shipped it
        db.execute(
            "CREATE TABLE refunds (id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, "
            "amount INTEGER NOT NULL CHECK (amount > 0), status TEXT NOT NULL, "
            "created_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO refunds VALUES ('rfnd_old', 'pay_old', 100, 'processed', 1.0)")
    store = await PaymentStore.open(str(path))
    try:
        columns = {row[1] for row in await store.fetchall("PRAGMA table_info(refunds)")}
        assert {"merchant_id", "speed", "notes", "receipt", "idem_key"} <= columns
        assert await store.fetchone("SELECT speed FROM refunds") == ("normal",)
    finally:
        await store.close()
