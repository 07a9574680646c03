"""Group commit: transactions share COMMITs, yet each stays atomic and gets its own answer."""

import asyncio
import sqlite3

import pytest

from razorlab.sqlite import GroupCommitter, open_database, write_transaction

SCHEMA = "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0));"


async def _committer(path=":memory:"):
    db = await open_database(path, SCHEMA)
    return db, GroupCommitter(db, asyncio.Lock())


def _put(k: str, v: int):
    def work(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t VALUES (?, 1)", (k,))
        conn.execute("UPDATE t SET v = ? WHERE k = ?", (v, k))  # CHECK fails for v < 0
        return v * 10

    return work


async def _rows(db) -> dict[str, int]:
    return dict(await db.execute_fetchall("SELECT k, v FROM t"))


async def test_each_transaction_commits_alone_or_not_at_all_while_sharing_commits():
    db, gc = await _committer()
    results = await asyncio.gather(
        *(gc.run(_put(f"k{i}", -1 if i == 3 else i)) for i in range(20)), return_exceptions=True
    )
    assert isinstance(results[3], sqlite3.IntegrityError)
    assert [r for i, r in enumerate(results) if i != 3] == [i * 10 for i in range(20) if i != 3]
    assert await _rows(db) == {f"k{i}": i for i in range(20) if i != 3}, "k3's insert undone"
    assert gc.batches < gc.completed == 19
    await db.close()


async def test_a_cancelled_caller_does_not_strand_the_others(tmp_path):
    db, gc = await _committer(str(tmp_path / "g.db"))
    first = asyncio.ensure_future(gc.run(_put("a", 1)))
    second = asyncio.ensure_future(gc.run(_put("b", 2)))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == 20
    await gc.drain()
    assert await _rows(db) == {"a": 1, "b": 2}, "the cancelled caller's work was already queued"
    await db.close()


async def test_interactive_transactions_and_groups_share_the_write_lock():
    db, gc = await _committer()
    async with write_transaction(db, gc.lock):
        queued = asyncio.ensure_future(gc.run(_put("g", 5)))
        await asyncio.sleep(0.01)
        assert not queued.done(), "the group waits for the open transaction"
        await db.execute("INSERT INTO t VALUES ('i', 1)")
    assert await queued == 50
    assert await _rows(db) == {"i": 1, "g": 5}
    await db.close()


async def test_a_failed_commit_fails_every_caller_of_the_group():
    db, gc = await _committer()
    await db.close()  # the group cannot even begin
    with pytest.raises(ValueError):
        await gc.run(_put("x", 1))
