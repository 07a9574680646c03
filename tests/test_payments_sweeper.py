"""Authorizations never captured are auto-refunded after 3 days, exactly once."""

import pytest

from razorlab.errors import ConflictError
from razorlab.payments.bank import SimulatedBank
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import PaymentStatus
from razorlab.payments.sweeper import AUTO_REFUND_AFTER_S, AutoRefundSweeper

UPI = {"amount": 20_000, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


@pytest.fixture
async def gateway(clock):
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=5)
    yield gw
    await gw.close()


async def test_uncaptured_authorizations_are_refunded_after_3_days(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    kept = (await gateway.create_payment(merchant.id, UPI)).body["id"]
    forgotten = (await gateway.create_payment(merchant.id, UPI)).body["id"]
    auto = (await gateway.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    await gateway.capture(merchant.id, kept)
    sweeper = AutoRefundSweeper(gateway)
    clock.advance(AUTO_REFUND_AFTER_S - 1)
    assert await sweeper.sweep_once() == []
    clock.advance(2)
    [refunded] = await sweeper.sweep_once()
    assert refunded.id == forgotten and refunded.status is PaymentStatus.REFUNDED
    assert gateway.bank.status(forgotten).status == "refunded"
    for pid in (kept, auto):
        assert (await gateway.get_payment(merchant.id, pid)).status is PaymentStatus.CAPTURED
    assert await sweeper.sweep_once() == []  # nothing is refunded twice


async def test_a_capture_racing_the_sweeper_has_one_winner(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    pid = (await gateway.create_payment(merchant.id, UPI)).body["id"]
    stale = await gateway.store.payment(pid)
    await gateway.capture(merchant.id, pid)
    with pytest.raises(ConflictError):
        await gateway.auto_refund(stale)  # the sweeper read 'authorized' before the capture
    assert gateway.bank.status(pid).refunded == 0


async def test_run_sweeps_on_the_clock(gateway, clock):
    merchant, _ = await gateway.create_merchant("Acme")
    await gateway.create_payment(merchant.id, UPI)
    clock.advance(AUTO_REFUND_AFTER_S + 1)
    sweeper = AutoRefundSweeper(gateway)
    await sweeper.run(interval_s=0, sweeps=1)
    assert sweeper.refunded == 1
