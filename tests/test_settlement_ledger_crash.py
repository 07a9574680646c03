"""A process killed mid-batch leaves a consistent database: the batch is all or nothing."""

import pytest

from razorlab.clock import ManualClock
from razorlab.settlement import Ledger, Transfer


async def open_funded(path):
    led = await Ledger.open(path, clock=ManualClock())
    await led.create_account("bank", "bank")
    await led.create_account("merchant", "merchant")
    await led.transfer(Transfer("seed", "bank", "merchant", 500))
    return led


async def test_connection_lost_mid_transaction_keeps_nothing_of_the_batch(tmp_path):
    path = str(tmp_path / "ledger.db")
    led = await open_funded(path)
    # Do what a batch does, but "die" after the journal insert, before the counters are updated.
    await led._db.execute("BEGIN IMMEDIATE")
    await led._db.executemany(
        "INSERT INTO transfers (id, debit_account, credit_account, amount, currency, ledger, "
        "flags, pending_id, timeout_s, code, timestamp) VALUES (?,?,?,?,'INR',1,0,'',0,'',0)",
        [(f"half{i}", "bank", "merchant", 10) for i in range(100)],
    )
    await led.close()  # the connection goes away without COMMIT, like a killed process
    reopened = await Ledger.open(path, clock=ManualClock())
    assert await reopened.verify() == [], "the database is consistent after the crash"
    assert [t.id for t in await reopened.journal()] == ["seed"], "no half batch survives"
    await reopened.close()


async def test_error_inside_a_batch_rolls_it_back(tmp_path, monkeypatch):
    path = str(tmp_path / "ledger.db")
    led = await open_funded(path)
    real = led._db.executemany
    calls = []

    async def failing(sql, rows):
        calls.append(sql)
        if sql.startswith("UPDATE accounts"):
            raise OSError("disk full")
        return await real(sql, rows)

    monkeypatch.setattr(led._db, "executemany", failing)
    with pytest.raises(OSError):
        await led.create_transfers([Transfer(f"b{i}", "bank", "merchant", 1) for i in range(10)])
    monkeypatch.undo()
    assert len(calls) == 3, "the failure came after the journal insert"
    assert await led.verify() == []
    assert len(await led.journal()) == 1
    results = await led.create_transfers([Transfer("b0", "bank", "merchant", 1)])
    assert results[0].status == "ok", "the failed batch's ids are free to retry"
    await led.close()
