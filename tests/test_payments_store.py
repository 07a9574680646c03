"""The store: WAL on disk, atomic batches, group commit that isolates a failing transaction."""

import asyncio

import pytest

from razorlab.money import Money
from razorlab.payments.payment import Payment, authorize
from razorlab.payments.store import ConcurrentUpdate, PaymentStore

MERCHANT = "INSERT INTO merchants VALUES (?, 'n', ?, 'h', NULL, 's', 0)"


async def test_a_file_database_runs_in_wal_mode(tmp_path):
    store = await PaymentStore.open(str(tmp_path / "pay.db"))
    assert await store.fetchone("PRAGMA journal_mode") == ("wal",)
    await store.close()


async def test_group_commit_keeps_transactions_atomic_and_independent():
    store = await PaymentStore.open()

    async def insert(i: int, fail: bool) -> None:
        async with store.transaction() as tx:
            await tx.execute(MERCHANT, (f"m{i}", f"k{i}"))
            if fail:  # a second statement that misses its expected row count
                await tx.execute("DELETE FROM merchants WHERE id = 'nobody'", expect_rows=1,
                                 error=ConcurrentUpdate("lost the race"))  # fmt: skip

    results = await asyncio.gather(
        *(insert(i, fail=i == 7) for i in range(40)), return_exceptions=True
    )
    assert [i for i, r in enumerate(results) if isinstance(r, ConcurrentUpdate)] == [7]
    rows = {r[0] for r in await store.fetchall("SELECT id FROM merchants")}
    assert rows == {f"m{i}" for i in range(40)} - {"m7"}, "m7 rolled back alone"
    assert store.committer.batches < store.committer.completed, "transactions shared commits"
    await store.close()


async def test_conditional_update_refuses_a_stale_writer():
    store = await PaymentStore.open()
    async with store.transaction() as tx:
        await tx.execute(MERCHANT, ("m", "k"))
    created = Payment(id="pay_1", merchant_id="m", amount=Money(10_000), method="upi")
    async with store.transaction() as tx:
        await store.insert_payment_tx(tx, created)
    done = authorize(created, at=1.0, bank_reference="B")
    async with store.transaction() as tx:
        await store.update_payment_tx(tx, created, done)
    with pytest.raises(ConcurrentUpdate):
        async with store.transaction() as tx:
            await store.update_payment_tx(tx, created, done)  # still thinks it is 'created'
    assert (await store.payment("pay_1")).status.value == "authorized"
    await store.close()


async def test_reads_do_not_queue_behind_the_write_lock():
    store = await PaymentStore.open()
    async with store.transaction() as tx:
        await tx.execute(MERCHANT, ("m", "k"))
    async with store._lock:  # as the group committer holds it while writes keep coming
        assert await store.fetchall("SELECT id FROM merchants") == [("m",)]
    await store.close()


async def test_a_read_waits_for_an_open_interactive_transaction():
    store = await PaymentStore.open()
    async with store.interactive_transaction() as db:
        await db.execute(MERCHANT, ("m", "k"))  # not committed yet
        read = asyncio.create_task(store.fetchall("SELECT id FROM merchants"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not read.done()  # it would otherwise see the uncommitted row
    assert await read == [("m",)]  # ... and now sees the committed one
    await store.close()


async def test_signing_keys_are_remembered_after_the_first_read():
    store = await PaymentStore.open()
    assert await store.key_secret("m") is None  # unknown: not remembered
    async with store.transaction() as tx:
        await tx.execute(MERCHANT, ("m", "k"))
        await tx.execute("INSERT INTO signing_keys VALUES ('m', 'secret')")
    assert await store.key_secret("m") == "secret"
    reads: list[str] = []
    real = store.fetchall

    async def counting(sql: str, params: tuple = ()) -> list[tuple]:
        reads.append(sql)
        return await real(sql, params)

    store.fetchall = counting
    assert await store.key_secret("m") == "secret"
    assert reads == []  # the row never changes: no second read
    await store.close()
