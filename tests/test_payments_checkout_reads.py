"""How often a card checkout reads the database: the hot path's round trips, counted.

Every read is a hop to the database thread; the OTP step reads the payment and, in
the order's queue, the order — once: the ``order.paid`` event reuses that read.
"""

import json

import pytest

from razorlab.payments.bank import SUCCESS_CARD, SimulatedBank
from razorlab.payments.checkout import Checkout
from razorlab.payments.gateway import Gateway

CARD = {"method": "card", "card": {"number": SUCCESS_CARD, "expiry_month": 12,
                                   "expiry_year": 2099}}  # fmt: skip


@pytest.fixture
async def gw(clock):
    gateway = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=11)
    yield gateway
    await gateway.close()


async def test_the_otp_step_reads_the_order_once_and_announces_it_paid(gw, monkeypatch):
    merchant, _ = await gw.create_merchant("Acme")
    order = await gw.create_order(merchant.id, {"amount": 49_900, "currency": "INR",
                                                "notes": {"sku": "kurta"}})  # fmt: skip
    checkout = Checkout(gw)
    started = await checkout.pay(merchant.id, order.id, CARD)
    pid = started.body["razorpay_payment_id"]
    reads: list[str] = []
    real_order = gw.store.order

    async def counted(order_id: str):
        reads.append(order_id)
        return await real_order(order_id)

    monkeypatch.setattr(gw.store, "order", counted)
    done = await checkout.otp_submit(merchant.id, pid, {"otp": "123456"})
    assert done.status == 200 and done.body["razorpay_order_id"] == order.id
    assert reads == [order.id]
    (row,) = await gw.store.fetchall("SELECT body FROM outbox WHERE event = 'order.paid'")
    announced = json.loads(row[0])["payload"]["order"]["entity"]
    assert (announced["status"], announced["amount_paid"], announced["amount_due"]) == (
        "paid", 49_900, 0,
    )  # fmt: skip
    assert (announced["attempts"], announced["notes"]) == (1, {"sku": "kurta"})
    assert announced == {**(await gw.get_order(merchant.id, order.id)).to_json()}
