"""Webhooks: an outbox row per state change, signed over the raw body, retried with backoff."""

import json

import pytest

from razorlab.errors import RazorlabError
from razorlab.payments.bank import SimulatedBank
from razorlab.payments.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    RecordingEndpoint,
    WebhookDispatcher,
    sign,
    verify_signature,
)

UPI = {"amount": 20_000, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


def test_headers_are_razorpays():
    assert (SIGNATURE_HEADER, EVENT_ID_HEADER) == ("X-Razorpay-Signature", "X-Razorpay-Event-Id")


def test_signature_is_hmac_sha256_hex_of_the_raw_body():
    # RFC 4231 test case 2: HMAC-SHA256(key="Jefe", "what do ya want for nothing?")
    body = b"what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(body, "Jefe") == expected
    assert verify_signature(body, expected, "Jefe")
    assert not verify_signature(body + b" ", expected, "Jefe")
    assert not verify_signature(body, expected, "jefe")
    assert not verify_signature(body, None, "Jefe")


@pytest.fixture
async def gateway(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=9)
    yield gw
    await gw.close()


async def test_state_changes_are_delivered_signed_and_retried(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme", webhook_url="https://acme.test/hook")
    pid = (await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    await gateway.refund(merchant.id, pid, 5_000)
    endpoint = RecordingEndpoint(fail_first=1)
    dispatcher = WebhookDispatcher(gateway.store, clock, endpoint)
    first = await dispatcher.deliver_due()
    assert (first.delivered, first.retrying) == (3, 1)  # the first attempt got a 503
    assert (await dispatcher.deliver_due()).delivered == 0  # backoff: not due yet
    clock.advance(30)
    assert (await dispatcher.deliver_due()).delivered == 1
    events = [json.loads(body)["event"] for _, body, _ in endpoint.received]
    assert sorted(events) == [
        "payment.authorized",
        "payment.captured",
        "refund.created",
        "refund.processed",
    ]
    for url, body, headers in endpoint.received:
        assert url == "https://acme.test/hook"
        assert verify_signature(body, headers[SIGNATURE_HEADER], merchant.webhook_secret)
    assert len({headers[EVENT_ID_HEADER] for _, _, headers in endpoint.received}) == 4


async def test_every_retry_of_an_event_carries_its_event_id(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme", webhook_url="https://acme.test/hook")
    await gateway.create_payment(merchant.id, UPI)
    attempts: list[str] = []

    async def flaky(url: str, body: bytes, headers: dict[str, str]) -> int:
        attempts.append(headers[EVENT_ID_HEADER])
        return 200 if len(attempts) == 3 else 503

    dispatcher = WebhookDispatcher(gateway.store, clock, flaky)
    for wait in (0, 30, 60):
        clock.advance(wait)
        await dispatcher.deliver_due()
    assert len(attempts) == 3 and len(set(attempts)) == 1
    assert attempts[0].startswith("evt_")


async def test_an_endpoint_down_for_a_day_is_given_up(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme", webhook_url="https://acme.test/hook")
    await gateway.create_payment(merchant.id, UPI)
    dispatcher = WebhookDispatcher(gateway.store, clock, RecordingEndpoint(fail_first=10**6))
    dead = 0
    for _ in range(40):
        dead += (await dispatcher.deliver_due()).dead
        clock.advance(3600)
    assert dead == 1


async def test_a_failed_bank_call_changes_nothing_and_announces_nothing_twice(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    await gateway.create_payment(merchant.id, {**UPI, "amount": 5100})
    rows = await gateway.store.fetchall("SELECT event FROM outbox")
    assert rows == [("payment.failed",)]
    report = await WebhookDispatcher(gateway.store, clock, RecordingEndpoint()).deliver_due()
    assert report.skipped == 1  # no webhook URL configured


async def _events(gateway) -> list[dict]:
    rows = await gateway.store.fetchall("SELECT body FROM outbox ORDER BY id")
    return [json.loads(body) for (body,) in rows]


async def test_a_refund_is_announced_created_then_processed_refund_first(gateway):
    merchant, _ = await gateway.create_merchant("Acme")
    pid = (await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    before = len(await _events(gateway))
    refund, _ = await gateway.refund(merchant.id, pid, 5_000)
    created, processed = (await _events(gateway))[before:]
    assert (created["event"], processed["event"]) == ("refund.created", "refund.processed")
    for body, status in ((created, "pending"), (processed, "processed")):
        assert body["contains"] == ["refund", "payment"] == list(body["payload"])
        entity = body["payload"]["refund"]["entity"]
        assert (entity["id"], entity["amount"], entity["status"]) == (refund["id"], 5_000, status)
        assert entity["payment_id"] == body["payload"]["payment"]["entity"]["id"] == pid
        assert body["payload"]["payment"]["entity"]["amount_refunded"] == 5_000
    assert refund["status"] == "processed"
    await gateway.resend_refund(refund["id"], pid)  # the reconciler re-sends: announced once
    assert len(await _events(gateway)) == before + 2


async def test_a_rejected_refund_announces_nothing(gateway):
    merchant, _ = await gateway.create_merchant("Acme")
    pid = (await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    before = await _events(gateway)
    for amount in (UPI["amount"] + 1, 0, "100"):
        with pytest.raises(RazorlabError):
            await gateway.refund(merchant.id, pid, amount)
    assert await _events(gateway) == before
