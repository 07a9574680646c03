"""Refunds that fail: pending → failed, the money back on the payment, ``refund.failed`` once.

The trigger is documented with the other test instruments: a payment made with
``REFUND_FAIL_CARD`` is charged normally, and the bank refuses every refund of it.
"""

import json

import pytest

from razorlab.payments.bank import REFUND_FAIL_CARD, SimulatedBank
from razorlab.payments.gateway import SimulatedCrash
from razorlab.payments.payment import PaymentStatus
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.sweeper import AUTO_REFUND_AFTER_S, AutoRefundSweeper
from tests import payments_support as support
from tests.payments_support import call as _call

razorpay = pytest.importorskip("razorpay")

sdk_server, sdk = support.sdk_server, support.sdk  # the shared fixtures

CARD = {
    "amount": 49_900, "currency": "INR", "method": "card",
    "card": {"number": REFUND_FAIL_CARD, "expiry_month": 12, "expiry_year": 2030},
}  # fmt: skip


async def _events(gw, name: str) -> list[dict]:
    rows = await gw.store.fetchall("SELECT body FROM outbox WHERE event = ? ORDER BY id", (name,))
    return [json.loads(body) for (body,) in rows]


def test_the_refund_failure_card_is_documented_with_the_other_test_instruments():
    from razorlab.payments.bank import test_instruments_table

    table = test_instruments_table()
    row = table[table["trigger"] == f"card {REFUND_FAIL_CARD}"]
    assert list(row["outcome"]) == ["success"] and "refunds fail" in row["reason"].item()


async def test_a_refused_refund_fails_and_gives_the_money_back_over_the_sdk(sdk):
    client, gw = sdk
    pid = (await _call(client.post, "/v1/payments", CARD))["id"]
    await _call(client.payment.capture, pid, 49_900, {"currency": "INR"})
    key = {"headers": {"X-Refund-Idempotency": "return-fails"}}
    refund = await _call(client.payment.refund, pid, {"amount": 49_900}, **key)
    assert (refund["status"], refund["amount"], refund["payment_id"]) == ("failed", 49_900, pid)
    payment = await _call(client.payment.fetch, pid)
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == (
        "captured",
        0,
        None,
    ), "the failed refund's money is refundable again"
    assert (await _call(client.refund.fetch, refund["id"]))["status"] == "failed"

    retried = await _call(client.payment.refund, pid, {"amount": 49_900}, **key)
    assert retried == refund and gw.bank.calls["refund"] == 1, "a retry returns the failure"
    again = await _call(client.payment.refund, pid, {"amount": 100})  # a new key asks again
    assert again["status"] == "failed" and gw.bank.calls["refund"] == 2
    assert gw.bank.status(pid).refunded == 0, "the bank paid nothing out"

    [failed, _] = await _events(gw, "refund.failed")
    assert failed["contains"] == ["refund", "payment"] == list(failed["payload"])
    entity = failed["payload"]["refund"]["entity"]
    assert (entity["id"], entity["status"], entity["amount"]) == (refund["id"], "failed", 49_900)
    assert failed["payload"]["payment"]["entity"]["amount_refunded"] == 0
    assert [e["payload"]["refund"]["entity"]["status"] for e in await _events(gw, "refund.created")
            ] == ["pending", "pending"]  # fmt: skip
    assert await _events(gw, "refund.processed") == []


async def test_only_refunds_of_the_refund_failure_card_fail(sdk):
    client, gw = sdk
    upi = await _call(client.post, "/v1/payments", {**support.UPI, "auto_capture": True})
    await _call(client.payment.refund, upi["id"], {"amount": 900})  # an ordinary card pays
    pid = (await _call(client.post, "/v1/payments", {**CARD, "amount": 10_000}))["id"]
    await _call(client.payment.capture, pid, 10_000, {"currency": "INR"})
    await _call(client.payment.refund, pid, {"amount": 4_000})
    payment = await _call(client.payment.fetch, pid)
    assert (payment["amount_refunded"], payment["refund_status"]) == (0, None)
    paid = await _call(client.payment.fetch, upi["id"])
    assert (paid["amount_refunded"], paid["refund_status"]) == (900, "partial")


async def test_refund_failed_is_announced_once_when_the_reconciler_resends(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=4)
    try:
        merchant, _ = await gw.create_merchant("Acme")
        pid = (await gw.create_payment(merchant.id, {**CARD, "auto_capture": True})).body["id"]
        bank_refund = gw.bank.refund

        def crash_after_the_bank_answered(*args):
            bank_refund(*args)
            raise SimulatedCrash("after_bank")

        gw.bank.refund = crash_after_the_bank_answered
        with pytest.raises(SimulatedCrash):
            await gw.refund(merchant.id, pid, 20_000, idempotency_key="k-1")
        del gw.bank.refund  # the process restarts with a healthy bank link
        stuck = await gw.store.payment(pid)
        assert (stuck.amount_refunded, await gw.store.pending_refunds()) == (
            20_000,
            [((await gw.store.refund_by_key(merchant.id, "k-1"))[0], pid, 20_000)],
        ), "the crash left the refund pending with its money reserved"

        assert (await Reconciler(gw).run_once()).refunds_resent == 1
        assert (await Reconciler(gw).run_once()).refunds_resent == 0
        [rid] = [r[0] for r in await gw.store.fetchall("SELECT id FROM refunds")]
        await gw.resend_refund(rid, pid)  # a stray re-send changes nothing
        assert len(await _events(gw, "refund.failed")) == 1
        after = await gw.store.payment(pid)
        assert (after.status, after.amount_refunded) == (PaymentStatus.CAPTURED, 0)
        replay, _ = await gw.refund(merchant.id, pid, 20_000, idempotency_key="k-1")
        assert (replay["id"], replay["status"]) == (rid, "failed")
        assert gw.bank.calls["refund"] == 2 and gw.bank.status(pid).refunded == 0
    finally:
        await gw.close()


async def test_the_auto_refund_of_an_uncaptured_authorization_never_fails(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=4)
    try:
        merchant, _ = await gw.create_merchant("Acme")
        pid = (await gw.create_payment(merchant.id, CARD)).body["id"]
        clock.advance(AUTO_REFUND_AFTER_S + 1)
        [refunded] = await AutoRefundSweeper(gw).sweep_once()
        assert refunded.id == pid
        assert refunded.status is PaymentStatus.REFUNDED  # releasing a hold moves no money
        assert [r[0] for r in await gw.store.fetchall("SELECT status FROM refunds")] == [
            "processed"
        ]
        assert await _events(gw, "refund.failed") == []
    finally:
        await gw.close()
