"""Crashes and lost replies never charge twice or lose a charge: reconciliation asks the bank."""

import pytest

from razorlab.payments.bank import BankProfile, SimulatedBank
from razorlab.payments.gateway import Gateway, SimulatedCrash, crash_at
from razorlab.payments.payment import PaymentStatus
from razorlab.payments.reconcile import Reconciler
from razorlab.rand import py_random

S = PaymentStatus
UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}
BANK_STATUS = {  # our status -> the bank ledger status it must match
    S.AUTHORIZED: "authorized",
    S.CAPTURED: "captured",
    S.FAILED: "declined",
}


@pytest.fixture
async def gateway(clock):
    profile = BankProfile(decline_rate=0.2, timeout_rate=0.1, pending_rate=0.1, timeout_s=0.0)
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock, profile, seed=3), seed=3)
    yield gw
    await gw.close()


async def test_crashes_between_bank_and_persist_are_resolved_to_match_the_bank(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    chaos = py_random(11, "crashes")

    def fault(point):
        if chaos.random() < 0.3:
            raise SimulatedCrash(point)

    gateway.fault = fault
    crashed = 0
    for i in range(120):
        body = {**UPI, "auto_capture": i % 2 == 0}
        try:
            await gateway.create_payment(merchant.id, body, f"key-{i}")
        except SimulatedCrash:
            crashed += 1
        clock.advance(1)
    gateway.fault = None
    assert crashed > 20
    clock.advance(200)  # past the grace period and every pending charge's resolution
    report = await Reconciler(gateway).run_once()
    assert report.examined > crashed  # crashes, timeouts and pendings
    again = await Reconciler(gateway).run_once()
    assert again.examined == 0

    payments = await gateway.store.fetchall("SELECT id FROM payments")
    assert len(payments) == 120
    for (pid,) in payments:
        p = await gateway.store.payment(pid)
        assert p.status is not S.CREATED, f"{pid} was left unresolved"
        record = gateway.bank.status(pid)
        assert gateway.bank.charges_for(pid) <= 1, f"{pid} was charged twice"
        if record is None:
            assert p.status is S.FAILED and p.error_code == "BANK_NO_RECORD"
        else:
            assert BANK_STATUS[p.status] == record.status, pid
    stuck = await gateway.store.fetchone(
        "SELECT COUNT(*) FROM idempotency_keys WHERE state = 'in_progress' AND payment_id IS NOT NULL"
    )
    assert stuck == (0,), "a key orphaned by a crash was not completed"


@pytest.mark.parametrize(
    "point, status, final",
    [("after_bank", 201, "authorized"), ("after_intent", 400, "bank_no_record")],
)
async def test_a_retry_after_a_crash_replays_the_reconciled_answer(
    gateway, clock, point, status, final
):
    merchant, _ = await gateway.create_merchant("Acme")

    gateway.fault = crash_at(point)
    body = {**UPI, "vpa": "success@razorpay"}
    with pytest.raises(SimulatedCrash):
        await gateway.create_payment(merchant.id, body, "order-9")
    gateway.fault = None
    busy = await gateway.create_payment(merchant.id, body, "order-9")
    assert busy.status == 409  # outcome unknown yet: the retry must wait, not charge again
    clock.advance(60)
    await Reconciler(gateway).run_once()
    replay = await gateway.create_payment(merchant.id, body, "order-9")
    assert replay.status == status
    assert final in (replay.body.get("status"), replay.body.get("error", {}).get("reason"))
    if point == "after_intent":  # the bank never saw it: a gateway-side failure, not a decline
        assert replay.body["error"]["code"] == "GATEWAY_ERROR"
    assert gateway.bank.calls["charge"] == (1 if point == "after_bank" else 0)


async def test_a_timeout_is_not_a_failure(clock):
    bank = SimulatedBank(clock, BankProfile(timeout_s=0.0))
    gw = await Gateway.open(clock=clock, bank=bank, seed=1)
    merchant, _ = await gw.create_merchant("Acme")
    response = await gw.create_payment(merchant.id, {**UPI, "amount": 5300})  # magic: timeout
    assert response.status == 201 and response.body["status"] == "created"
    clock.advance(60)
    await Reconciler(gw).run_once()
    payment = await gw.get_payment(merchant.id, response.body["id"])
    assert payment.status is S.AUTHORIZED  # the bank had taken the money
    await gw.close()


async def test_pending_stays_pending_until_the_bank_decides(clock):
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=1)
    merchant, _ = await gw.create_merchant("Acme")
    response = await gw.create_payment(merchant.id, {**UPI, "amount": 5400})  # magic: pending
    clock.advance(40)
    assert (await Reconciler(gw).run_once()).still_pending == 1
    clock.advance(60)
    assert (await Reconciler(gw).run_once()).authorized == 1
    assert (await gw.get_payment(merchant.id, response.body["id"])).status is S.AUTHORIZED
    await gw.close()


def test_a_crash_point_must_be_one_the_gateway_has():
    with pytest.raises(ValueError, match="after_bank"):
        crash_at("after_bnak")
