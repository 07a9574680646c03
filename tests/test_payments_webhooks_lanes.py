"""Webhooks to real receivers on 127.0.0.1: Razorpay's format checked with the official SDK,
de-duplication by ``X-Razorpay-Event-Id`` across a retry, and per-merchant lanes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from razorlab.payments.api import start_server
from razorlab.payments.bank import SUCCESS_CARD, SimulatedBank
from razorlab.payments.sdk import call as sdk_call
from razorlab.payments.sdk import checkout_pay, checkout_step, sdk_client
from razorlab.payments.webhooks import (
    EVENT_ID_HEADER,
    LANE_CONCURRENCY,
    SIGNATURE_HEADER,
    HttpTransport,
    RecordingEndpoint,
    WebhookDispatcher,
)

razorpay = pytest.importorskip("razorpay")
from tests import payments_support as support  # noqa: E402  (needs razorpay)

sdk_server = support.sdk_server  # the shared fixture

UPI = {"amount": 20_000, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


@dataclass
class Receiver:
    """A merchant's webhook endpoint: verifies with the SDK, acts once per event id.

    ``slow`` makes it act, then hang until ``release`` — past the dispatcher's timeout, so
    the gateway sees no answer although the merchant did the work (the classic duplicate).
    """

    utility: object
    url: str = ""
    secret: str = ""
    slow: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    processed: list[tuple[str, dict]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            self.utility.verify_webhook_signature(
                raw.decode(), request.headers[SIGNATURE_HEADER], self.secret
            )
        except razorpay.errors.SignatureVerificationError:
            self.rejected += 1
            return web.Response(status=400)
        event_id = request.headers[EVENT_ID_HEADER]
        if event_id in {seen for seen, _ in self.processed}:
            self.duplicates.append(event_id)
            return web.Response(status=200)
        self.processed.append((event_id, json.loads(raw)))
        if self.slow:
            await self.release.wait()
        return web.Response(status=200)


@pytest.fixture
async def gateway(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=21)
    yield gw
    await gw.close()


@pytest.fixture
async def receivers():
    """``await make()`` → a started :class:`Receiver`; all are released and stopped after."""
    client = sdk_client("http://127.0.0.1:9", "rzp_test_unused", "unused")
    started: list[tuple[Receiver, web.AppRunner]] = []

    async def make() -> Receiver:
        rx = Receiver(client.utility)
        app = web.Application()
        app.router.add_post("/hook", rx.handle)
        runner, url = await start_server(app, "127.0.0.1", 0)
        rx.url = url + "/hook"
        started.append((rx, runner))
        return rx

    yield make
    for rx, runner in started:
        rx.release.set()
        await runner.cleanup()
    client.session.close()


@pytest.fixture
async def http():
    """``http(**options)`` → an :class:`HttpTransport`; every one is closed after the test."""
    made: list[HttpTransport] = []

    def make(**options) -> HttpTransport:
        made.append(HttpTransport(**options))
        return made[-1]

    yield make
    for transport in made:
        await transport.close()


async def merchant_for(gateway, rx: Receiver, name: str):
    merchant, _ = await gateway.create_merchant(name, webhook_url=rx.url)
    rx.secret = merchant.webhook_secret
    return merchant


async def test_bodies_and_headers_are_razorpays_and_the_sdk_verifies_them(
    gateway, clock, receivers, http
):
    rx = await receivers()
    merchant = await merchant_for(gateway, rx, "Acme")
    pid = (await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    await gateway.refund(merchant.id, pid, 5_000)
    report = await WebhookDispatcher(gateway.store, clock, http()).deliver_due()
    assert (report.delivered, rx.rejected, rx.duplicates) == (4, 0, [])
    by_event = {body["event"]: body for _, body in rx.processed}
    assert set(by_event) == {
        "payment.authorized",
        "payment.captured",
        "refund.created",
        "refund.processed",
    }
    for body in by_event.values():
        assert list(body) == ["entity", "account_id", "event", "contains", "payload", "created_at"]
        assert body["entity"] == "event"
        assert body["account_id"] == "acc_" + merchant.id.removeprefix("mer_")
        assert body["contains"] == list(body["payload"])
        assert body["payload"]["payment"]["entity"]["id"] == pid
    assert by_event["refund.processed"]["contains"] == ["refund", "payment"]
    assert len({event_id for event_id, _ in rx.processed}) == 4  # one id per event
    with pytest.raises(razorpay.errors.SignatureVerificationError):
        rx.utility.verify_webhook_signature('{"entity":"event"}', "0" * 64, rx.secret)


async def test_a_slow_merchant_holds_up_only_its_own_lane_and_retries_keep_the_id(
    gateway, clock, receivers, http
):
    slow_rx, fast_rx = await receivers(), await receivers()
    slow_rx.slow = True
    slow = await merchant_for(gateway, slow_rx, "Slow")
    fast = await merchant_for(gateway, fast_rx, "Fast")
    await gateway.create_payment(slow.id, UPI)  # the slow merchant's event is first in line
    await gateway.create_payment(fast.id, UPI)
    finished: list[tuple[str, int]] = []  # (receiver url, status) as deliveries complete
    pooled = http(timeout_s=2.0)

    async def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
        status = await pooled(url, body, headers)
        finished.append((url, status))
        return status

    dispatcher = WebhookDispatcher(gateway.store, clock, transport)
    assert len(await dispatcher.poll()) == 2  # one lane per merchant
    slow_lane = dispatcher.lanes[slow.id]
    await dispatcher.lanes[fast.id]
    await gateway.create_payment(fast.id, UPI)  # more work for the fast merchant meanwhile
    started = await dispatcher.poll()
    assert started and dispatcher.lanes[slow.id] is slow_lane  # the busy lane is not doubled
    await asyncio.gather(*started)
    assert finished == [(fast_rx.url, 200), (fast_rx.url, 200)]  # before the slow one answered
    assert len(fast_rx.processed) == 2

    assert dict(await slow_lane) == {"retrying": 1}  # the slow endpoint timed out: status 0
    assert len(slow_rx.processed) == 1  # ... after the merchant had acted on the event
    assert finished[-1] == (slow_rx.url, 0)
    slow_rx.slow = False
    assert (await dispatcher.deliver_due()).delivered == 0  # backing off on its own lane
    clock.advance(30)
    assert (await dispatcher.deliver_due()).delivered == 1
    first_id = slow_rx.processed[0][0]
    assert slow_rx.duplicates == [first_id]  # same X-Razorpay-Event-Id: acted on once
    assert len(slow_rx.processed) == 1
    rows = await gateway.store.fetchall(
        "SELECT state, attempts, event_id FROM outbox WHERE merchant_id = ?", (slow.id,)
    )
    assert rows == [("delivered", 2, first_id)]


async def test_paying_an_order_through_checkout_announces_order_paid_once(sdk_server):
    shop, gw = sdk_server.client(), sdk_server.gw
    card = {"method": "card", "card": {"number": SUCCESS_CARD, "expiry_month": 12,
                                       "expiry_year": 2099}}  # fmt: skip
    oid = (await sdk_call(shop.order.create, {"amount": 49_900, "currency": "INR"}))["id"]
    first, second = [await sdk_call(checkout_pay, shop, oid, card) for _ in range(2)]
    result = await sdk_call(checkout_step, shop, first, {"otp": "123456"})
    with pytest.raises(razorpay.errors.BadRequestError):  # rejected: rolled back, not announced
        await sdk_call(checkout_step, shop, second, {"otp": "123456"})
    with pytest.raises(razorpay.errors.BadRequestError, match="already paid"):
        await sdk_call(checkout_pay, shop, oid, card)
    rows = await gw.store.fetchall("SELECT body FROM outbox WHERE event = 'order.paid'")
    assert len(rows) == 1
    body = json.loads(rows[0][0])
    assert body["contains"] == ["payment", "order"] == list(body["payload"])
    payment, order = (body["payload"][name]["entity"] for name in ("payment", "order"))
    assert (payment["id"], payment["order_id"], payment["status"]) == (
        result["razorpay_payment_id"], oid, "captured",
    )  # fmt: skip
    assert (order["id"], order["status"], order["amount_due"]) == (oid, "paid", 0)
    assert payment["amount"] == order["amount"] == order["amount_paid"] == 49_900


async def test_only_the_payment_that_completes_a_partial_order_announces_it(sdk_server):
    shop, gw = sdk_server.client(), sdk_server.gw
    order = {"amount": 10_000, "currency": "INR", "partial_payment": True}
    oid = (await sdk_call(shop.order.create, order))["id"]
    upi = {**UPI, "order_id": oid, "auto_capture": True}
    await sdk_call(shop.post, "/v1/payments", {**upi, "amount": 4_000})
    query = "SELECT body FROM outbox WHERE event = 'order.paid'"
    assert await gw.store.fetchall(query) == []
    last = await sdk_call(shop.post, "/v1/payments", {**upi, "amount": 6_000})
    (row,) = await gw.store.fetchall(query)
    payload = json.loads(row[0])["payload"]
    assert payload["payment"]["entity"]["id"] == last["id"]
    order = payload["order"]["entity"]
    assert (order["amount_paid"], order["amount_due"], order["status"]) == (10_000, 0, "paid")


async def test_one_pooled_connection_carries_many_deliveries(gateway, clock, http):
    peers: list[object] = []  # the client's (host, port) as the receiver saw each delivery

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner, url = await start_server(app, "127.0.0.1", 0)
    try:
        merchant, _ = await gateway.create_merchant("Acme", webhook_url=url + "/hook")
        for _ in range(3):
            await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})
        transport = http()
        report = await WebhookDispatcher(gateway.store, clock, transport).deliver_due()
        assert report.delivered == len(peers) == 6
        assert len(set(peers)) <= LANE_CONCURRENCY  # reused connections, not one per event
        await transport.close()  # a later delivery opens a new session
        assert await transport(url + "/hook", b"{}", {"Content-Type": "application/json"}) == 200
    finally:
        await runner.cleanup()


async def test_a_lane_delivers_every_due_row_not_one_batch_per_poll(gateway, clock):
    merchant, _ = await gateway.create_merchant("Busy", webhook_url="https://busy.test/hook")
    for _ in range(4):
        await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})
    endpoint = RecordingEndpoint(fail_first=1)
    report = await WebhookDispatcher(gateway.store, clock, endpoint).deliver_due(limit=3)
    assert (report.delivered, report.retrying) == (7, 1)  # 8 rows, batches of 3, one round
    states = await gateway.store.fetchall(
        "SELECT state, attempts, COUNT(*) FROM outbox GROUP BY state, attempts ORDER BY state"
    )
    assert states == [("delivered", 1, 7), ("pending", 1, 1)]  # every outcome committed


async def test_stopping_run_closes_the_transport_it_made(gateway, clock):
    closed: list[str] = []

    class Tracked(HttpTransport):
        async def close(self) -> None:
            closed.append("closed")
            await super().close()

    dispatcher = WebhookDispatcher(gateway.store, clock)
    assert isinstance(dispatcher.transport, HttpTransport)
    dispatcher.transport = dispatcher._own_transport = Tracked()
    running = asyncio.create_task(dispatcher.run())  # waits on the manual clock after a poll
    await asyncio.sleep(0)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert closed == ["closed"]
