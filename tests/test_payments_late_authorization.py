"""Late authorisation: a payment failed as "never received" becomes authorized when the bank
confirms it late — announced once, capturable within the window, else auto-refunded."""

import json

import pytest

from razorlab.money import Money
from razorlab.payments.bank import (
    LATE_CONFIRM_AFTER_S,
    LATE_CONFIRM_AMOUNT,
    BankProfile,
    SimulatedBank,
)
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import (
    CAPTURE_WINDOW_S,
    IllegalTransition,
    Payment,
    PaymentStatus,
    fail,
    late_authorize,
)
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.sweeper import AutoRefundSweeper

S = PaymentStatus
LATE = {"amount": LATE_CONFIRM_AMOUNT, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}


@pytest.fixture
async def gateway(clock):
    bank = SimulatedBank(clock, BankProfile(timeout_s=0.0))
    gw = await Gateway.open(clock=clock, bank=bank, seed=2)
    yield gw
    await gw.close()


async def _events(gw, pid: str) -> list[str]:
    rows = await gw.store.fetchall("SELECT body FROM outbox ORDER BY id")
    bodies = [json.loads(body) for (body,) in rows]
    return [b["event"] for b in bodies if b["payload"]["payment"]["entity"]["id"] == pid]


async def _failed_then_confirmed(gw, clock, merchant_id: str, key: str) -> str:
    response = await gw.create_payment(merchant_id, LATE, key)
    assert response.status == 201 and response.body["status"] == "created"  # a timeout
    clock.advance(60)
    assert (await Reconciler(gw).run_once()).failed == 1  # the bank has no record yet
    pid = response.body["id"]
    assert (await gw.store.payment(pid)).error_code == "BANK_NO_RECORD"
    clock.advance(LATE_CONFIRM_AFTER_S)
    assert (await Reconciler(gw).run_once()).late_authorized == 1
    return pid


async def test_a_late_confirmation_authorizes_the_failed_payment_once(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    pid = await _failed_then_confirmed(gateway, clock, merchant.id, "late-1")
    payment = await gateway.get_payment(merchant.id, pid)
    assert (payment.status, payment.error_code, payment.authorized_at) == (
        S.AUTHORIZED,
        None,
        clock.now(),
    )
    assert payment.bank_reference == gateway.bank.status(pid).reference
    assert (await Reconciler(gateway).run_once()).late_authorized == 0
    assert await _events(gateway, pid) == ["payment.failed", "payment.authorized"]
    captured = await gateway.capture(merchant.id, pid)  # within the window: the merchant's
    assert captured.status is S.CAPTURED and gateway.bank.status(pid).status == "captured"
    assert gateway.bank.charges_for(pid) == 1, "confirmed, never charged again"


async def test_an_uncaptured_late_authorization_is_auto_refunded_by_the_window(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    pid = await _failed_then_confirmed(gateway, clock, merchant.id, "late-2")
    sweeper = AutoRefundSweeper(gateway)
    clock.advance(CAPTURE_WINDOW_S)  # the window counts from the late confirmation
    assert await sweeper.sweep_once() == []
    clock.advance(1)
    [refunded] = await sweeper.sweep_once()
    assert refunded.id == pid and refunded.status is S.REFUNDED
    assert gateway.bank.status(pid).status == "refunded"
    assert (await _events(gateway, pid))[-2:] == ["refund.created", "refund.processed"]


def test_only_a_never_received_failure_can_be_authorized_late():
    p = Payment(id="pay_x", merchant_id="mer_x", amount=Money(10_000), method="upi")
    declined = fail(p, code="INSUFFICIENT_FUNDS", description="no money")
    with pytest.raises(IllegalTransition):
        late_authorize(declined, at=1.0, bank_reference="B")
    unknown = fail(p, code="BANK_NO_RECORD", description="never received")
    assert late_authorize(unknown, at=1.0, bank_reference="B").status is S.AUTHORIZED
    with pytest.raises(IllegalTransition):
        late_authorize(p, at=1.0, bank_reference="B")
