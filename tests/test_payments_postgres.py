"""The gateway on PostgreSQL: SQL made portable, an outbox shared by two dispatchers, and a
server that goes away (typed 503, nothing acknowledged lost). The gateway's behaviour on both
stores is covered by the payments tests that use the ``open_gateway``/``payment_db`` fixtures."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from razorlab.errors import RazorlabError
from razorlab.infra.backends import BackendUnavailable
from razorlab.infra.backends.postgres_payments import postgres_sql
from razorlab.infra.services import free_port, start_postgres, stop_postgres
from razorlab.payments.bank import SUCCESS_CARD, SimulatedBank
from razorlab.payments.checkout import Checkout
from razorlab.payments.gateway import Gateway
from razorlab.payments.payment import PaymentStatus
from razorlab.payments.store import PaymentStore
from razorlab.payments.webhooks import EVENT_ID_HEADER, WebhookDispatcher

UPI = {"amount": 20_000, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


def test_placeholders_are_numbered_outside_string_literals():
    sql = "SELECT ? FROM t WHERE a = '?' AND b = ? AND c = 'it''s ?'"
    assert postgres_sql(sql) == "SELECT $1 FROM t WHERE a = '?' AND b = $2 AND c = 'it''s ?'"


async def test_a_statement_can_wait_on_the_previous_one_changing_a_row(open_gateway, clock):
    gw = await open_gateway(clock=clock, seed=1)
    merchant, _ = await gw.create_merchant("Acme")
    update = "UPDATE merchants SET name = ? WHERE id = ?"
    for target, name in ((merchant.id, "Acme Ltd"), ("mer_nobody", "Nobody")):
        async with gw.store.transaction() as db:
            await db.execute(update, (name, target))
            await gw.store.add_event_tx(db, merchant.id, f"evt_{name[:4]}", "x", {}, 0.0,
                                        when=PaymentStore.PREVIOUS_CHANGED)  # fmt: skip
        assert db.rowcounts == ([1, 1] if target == merchant.id else [0, 0])
    rows = await gw.store.fetchall("SELECT event_id FROM outbox")
    assert rows == [("evt_Acme",)]  # queued only after the update that changed a row
    await gw.close()


async def test_two_dispatchers_on_one_outbox_deliver_each_event_once(payment_db, clock, tmp_path):
    """Two dispatchers, each with its own store (connection pool, or SQLite connection), as
    two processes would have. Dispatcher A holds its first batch until B has delivered, so
    their claims overlap in time: B must find rows A has not taken."""
    options = payment_db or {"path": str(tmp_path / "pay.db")}
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=31, **options)
    other = await Gateway.open(clock=clock, seed=32, **options)
    for name in ("Acme", "Bolt"):
        merchant, _ = await gw.create_merchant(name, webhook_url=f"https://{name}.test/hook")
        for _ in range(6):
            await gw.create_payment(merchant.id, {**UPI, "auto_capture": True})
    received: list[str] = []
    a_holds, b_delivered = asyncio.Event(), asyncio.Event()

    def receiver(name: str):
        async def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
            if name == "A":
                a_holds.set()
                await b_delivered.wait()
            received.append(headers[EVENT_ID_HEADER])
            if name == "B":
                b_delivered.set()
            await asyncio.sleep(0)  # let the other dispatcher run between deliveries
            return 200

        return transport

    a = WebhookDispatcher(gw.store, clock, receiver("A"))
    b = WebhookDispatcher(other.store, clock, receiver("B"))
    first = asyncio.create_task(a.deliver_due(limit=3))
    await a_holds.wait()  # A has claimed its first batches and holds them
    reports = [await b.deliver_due(limit=3), await first]
    stored = await gw.store.fetchall("SELECT event_id, state, attempts FROM outbox")
    assert len(stored) == 24  # authorized + captured, 12 payments
    assert sorted(received) == sorted(event_id for event_id, _, _ in stored)  # each once
    assert {(state, attempts) for _, state, attempts in stored} == {("delivered", 1)}
    assert all(report.delivered > 0 for report in reports)
    assert sum(report.delivered for report in reports) == 24
    await other.close()
    await gw.close()


async def test_an_unreachable_server_is_a_typed_503(clock):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/razorlab"
    with pytest.raises(BackendUnavailable) as info:
        await Gateway.open(url, clock=clock)
    assert info.value.http_status == 503


async def test_a_crash_of_the_server_loses_no_acknowledged_payment(private_postgres, clock):
    directory, port, url = private_postgres
    gw = await Gateway.open(url, clock=clock, bank=SimulatedBank(clock), seed=41)
    merchant, _ = await gw.create_merchant("Acme")
    acknowledged = {}
    for i in range(20):
        reply = await gw.create_payment(merchant.id, {**UPI, "auto_capture": i % 2 == 0})
        assert reply.status == 201
        acknowledged[reply.body["id"]] = reply.body["status"]
    assert stop_postgres(directory, immediate=True), "crashed (no clean shutdown)"
    refused = await gw.create_payment(merchant.id, UPI, idempotency_key="during-the-crash")
    assert refused.status == 503, refused.body
    with pytest.raises(BackendUnavailable, match="postgresql"):
        await gw.store.count_payments()
    start_postgres(directory, port=port)
    stored = None
    for _ in range(10):  # each pooled connection the crash broke fails once, then reconnects
        with contextlib.suppress(BackendUnavailable):
            stored = await gw.store.fetchall("SELECT id, status FROM payments")
            break
    assert dict(stored) == acknowledged  # every acknowledged payment, as acknowledged
    assert await gw.keys.count() == 0  # the refused request claimed no key
    assert {PaymentStatus(s) for s in acknowledged.values()} == {
        PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED,
    }  # fmt: skip
    outbox = await gw.store.fetchall("SELECT body FROM outbox")
    assert len(outbox) == 30 and all(json.loads(b)["entity"] == "event" for (b,) in outbox)
    await gw.close()


@pytest.fixture
async def two_gateways(payment_db, clock, tmp_path):
    """Two gateways on one database and one bank, as two processes would be (SQLite: a file)."""
    options, bank = payment_db or {"path": str(tmp_path / "pay.db")}, SimulatedBank(clock)
    gateways = [await Gateway.open(clock=clock, bank=bank, seed=s, **options) for s in (51, 52)]
    yield gateways
    for gw in gateways:
        await gw.close()


async def test_two_processes_paying_one_order_never_overpay_it(two_gateways):
    first, second = two_gateways
    merchant, _ = await first.create_merchant("Acme")
    order = await first.create_order(merchant.id, {"amount": 20_000, "currency": "INR"})
    pay = {**UPI, "order_id": order.id, "auto_capture": True}
    replies = await asyncio.gather(
        *(gw.create_payment(merchant.id, pay) for gw in two_gateways for _ in range(4))
    )
    captured = [r for r in replies if r.status == 201 and r.body["status"] == "captured"]
    assert len(captured) == 1, [(r.status, r.body.get("status")) for r in replies]
    stored = await second.store.order(order.id)
    assert (stored.amount_paid, stored.status.value) == (20_000, "paid")
    paid = await first.store.fetchall("SELECT body FROM outbox WHERE event = 'order.paid'")
    assert len(paid) == 1  # announced by the one capture that completed the order


async def test_two_processes_refunding_one_payment_never_exceed_the_capture(two_gateways):
    first, second = two_gateways
    merchant, _ = await first.create_merchant("Acme")
    reply = await first.create_payment(merchant.id, {**UPI, "auto_capture": True})
    pid = reply.body["id"]
    results = await asyncio.gather(
        *(gw.refund(merchant.id, pid, 3_000) for gw in two_gateways for _ in range(5)),
        return_exceptions=True,
    )
    refunds = [r[0] for r in results if isinstance(r, tuple)]
    assert refunds and all(isinstance(r, tuple | RazorlabError) for r in results), results
    (total,) = await second.store.fetchone("SELECT SUM(amount) FROM refunds")
    payment = await second.store.payment(pid)
    assert total == payment.amount_refunded == sum(r["amount"] for r in refunds) <= 20_000
    assert first.bank.calls["refund"] == len(refunds)  # the bank paid exactly those


@pytest.mark.parametrize("payment_db", ["postgres"], indirect=True)
async def test_a_schema_from_an_older_razorlab_gets_the_columns_it_lacks(payment_db, clock):
    """A database made before a column existed keeps working after an upgrade (the SQLite
    store migrates its file the same way): its rows stay, the new column is added."""
    old = await Gateway.open(clock=clock, seed=61, **payment_db)
    merchant, _ = await old.create_merchant("Acme")
    paid = (await old.create_payment(merchant.id, {**UPI, "auto_capture": True})).body["id"]
    await old.store.fetchall("ALTER TABLE payments DROP COLUMN email")  # as it was
    await old.close()
    new = await Gateway.open(clock=clock, seed=62, **payment_db)
    try:
        assert (await new.store.payment(paid)).status is PaymentStatus.CAPTURED
        order = await new.create_order(merchant.id, {"amount": 20_000, "currency": "INR"})
        card = {"number": SUCCESS_CARD, "expiry_month": 12, "expiry_year": 2099}
        started = await Checkout(new).pay(merchant.id, order.id, {"method": "card", "card": card})
        assert started.status == 200, started.body  # its insert names the new column
    finally:
        await new.close()
