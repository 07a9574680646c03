"""The PostgreSQL ledger: the SQLite ledger's outcomes, safe concurrent writers, durable commits.

The rule tests (tests/test_settlement_ledger_rules.py) already run on both backends; here one
mixed scenario is replayed on both and compared result by result, row by row; four
connections write crossing transfers at once; and a private server is crashed and restarted.
"""

import asyncio
import contextlib
import os

import asyncpg
import pytest

from razorlab.clock import ManualClock
from razorlab.infra.backends import BackendUnavailable
from razorlab.infra.backends.postgres_ledger import PostgresLedger
from razorlab.infra.services import free_port, start_postgres, stop_postgres
from razorlab.rand import rng
from razorlab.settlement import AccountFlags, Ledger, Transfer, TransferFlags

F = TransferFlags
LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


def scenario() -> list[list[Transfer]]:
    """Batches touching every rule: plain, a fast-path batch, two-phase, expiry, chains, errors."""
    g = rng(7, "pg-ledger-scenario")
    big = [Transfer(f"b{i}", "bank", f"w{i % 5}", int(a)) for i, a in
           enumerate(g.integers(1, 1_000, 300))]  # fmt: skip
    spend = [Transfer(f"s{i}", f"w{i % 5}", f"w{(i + 2) % 5}", int(a)) for i, a in
             enumerate(g.integers(1, 20_000, 60))]  # fmt: skip
    return [
        big,
        spend,
        [Transfer("h1", "w0", "m", 500, flags=F.PENDING, timeout_s=30),
         Transfer("h2", "w1", "m", 700, flags=F.PENDING),
         Transfer("h3", "w2", "m", 900, flags=F.PENDING, timeout_s=10)],
        [Transfer("c1", pending_id="h1", amount=200, flags=F.POST_PENDING),
         Transfer("v2", pending_id="h2", flags=F.VOID_PENDING),
         Transfer("c1", pending_id="h1", amount=200, flags=F.POST_PENDING),
         Transfer("b0", "bank", "w0", 1)],
        [Transfer("l1", "bank", "m", 5, flags=F.LINKED),
         Transfer("l2", "w3", "m", 10**9)],
        [Transfer("l3", "bank", "m", 5, flags=F.LINKED), Transfer("l4", "m", "bank", 3)],
        [Transfer("x", "bank", "ghost", 1), Transfer("y", "bank", "m", 0),
         Transfer("z", "bank", "bank", 1), Transfer("late", pending_id="h3",
                                                    flags=F.POST_PENDING)],
    ]  # fmt: skip


async def replay(ledger) -> tuple:
    await ledger.create_account("bank", "bank")
    await ledger.create_account("m", "merchant")
    for i in range(5):
        await ledger.create_account(f"w{i}", "customer", flags=LIMITED)
    outcomes = []
    for i, batch in enumerate(scenario()):
        if i == 6:
            ledger.clock.advance(20)  # h3 (10 s) times out, h1 was posted in time
        for r in await ledger.create_transfers(batch):
            outcomes.append((r.id, r.status, type(r.error).__name__, str(r.error or "")))
    outcomes.append(("expired later", await ledger.expire_pending()))
    journal = await ledger.journal()
    problems = await ledger.verify()
    balance_at = await ledger.balance_at("w0", ledger.clock.now() - 20)
    return outcomes, journal, await ledger.accounts(), await ledger.totals(), problems, balance_at


async def test_same_outcomes_journal_and_totals_as_the_sqlite_ledger(database_url):
    sqlite = await Ledger.open(clock=ManualClock())
    postgres = await PostgresLedger.open(database_url, clock=ManualClock(), schema="cmp_ledger")
    try:
        want, got = await replay(sqlite), await replay(postgres)
    finally:
        async with postgres._connection() as conn:
            await conn.execute("DROP SCHEMA cmp_ledger CASCADE")
        await postgres.close()
        await sqlite.close()
    names = ("results", "journal", "accounts", "totals", "verify", "balance_at")
    for name, a, b in zip(names, want, got, strict=True):
        assert b == a, name
    assert want[4] == [] and any(s == "failed" for _, s, *_ in want[0])


@pytest.mark.parametrize("open_ledger", ["postgres"], indirect=True)
async def test_journal_is_append_only(open_ledger):
    ledger = await open_ledger(ManualClock())
    await ledger.create_account("a", "bank")
    await ledger.create_account("b", "merchant")
    await ledger.transfer(Transfer("t", "a", "b", 5))
    async with ledger._connection() as conn:
        for sql in ("UPDATE transfers SET amount = 1", "DELETE FROM transfers",
                    "TRUNCATE transfers"):  # fmt: skip
            with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only"):
                await conn.execute(sql)
    assert [t.amount for t in await ledger.journal()] == [5]
    await ledger.close()


WRITERS, ROUNDS, WALLETS = 4, 15, 6


async def writer(ledger: PostgresLedger, k: int) -> list:
    """Crossing transfers between limited wallets, plus ids every writer also sends."""
    g = rng(k, "pg-ledger-writer")
    results = []
    for r in range(ROUNDS):
        batch = [Transfer(f"shared{r}", "bank", f"w{r % WALLETS}", 10)]
        for i in range(20):
            src, dst = g.choice(WALLETS, 2, replace=False)
            batch.append(Transfer(f"k{k}r{r}i{i}", f"w{src}", f"w{dst}", int(g.integers(1, 400))))
        results += await ledger.create_transfers(batch)
    return results


@pytest.mark.parametrize("open_ledger", ["postgres"], indirect=True)  # SQLite: one writer
async def test_concurrent_writers_on_four_connections_keep_the_ledger_sound(open_ledger):
    first = await open_ledger(ManualClock())
    await first.create_account("bank", "bank")
    for i in range(WALLETS):
        await first.create_account(f"w{i}", "customer", flags=LIMITED)
        await first.transfer(Transfer(f"fund{i}", "bank", f"w{i}", 1_000))
    others = [await PostgresLedger.open(first.url, clock=first.clock, schema=first.schema,
                                        pool_size=1) for _ in range(WRITERS - 1)]  # fmt: skip
    ledgers = [first, *others]
    outcomes = await asyncio.gather(*[writer(led, k) for k, led in enumerate(ledgers)])
    results = [r for rs in outcomes for r in rs]
    assert await first.verify() == []
    totals = await first.totals()
    assert totals["debits_posted"] == totals["credits_posted"]
    for a in await first.accounts():
        if a.flags & LIMITED:
            assert a.debits_posted <= a.credits_posted, f"{a.id} overdrawn"
    journal = await first.journal()
    ok = {r.id for r in results if r.status == "ok"}
    assert len(journal) == len({t.id for t in journal}) == len(ok) + WALLETS, "each once"
    for r in range(ROUNDS):
        statuses = sorted(x.status for x in results if x.id == f"shared{r}")
        assert statuses == ["exists"] * (WRITERS - 1) + ["ok"], "a raced id is applied once"
    assert any(r.status == "failed" for r in results), "some spends met the balance limit"
    for led in others:
        await led.close()
    await first.close()


@pytest.mark.parametrize("open_ledger", ["postgres"], indirect=True)
async def test_two_writers_racing_for_one_new_id_apply_it_once(open_ledger):
    """B reads the journal before A commits ``r``, so B's insert hits the UNIQUE index: retry."""
    a = await open_ledger(ManualClock())
    await a.create_account("bank", "bank")
    await a.create_account("m", "merchant")
    b = await PostgresLedger.open(a.url, clock=a.clock, schema=a.schema, pool_size=1)
    async with b._connection() as conn:  # B's only connection, whose waits we watch
        b_pid = await conn.fetchval("SELECT pg_backend_pid()")
    written, release = asyncio.Event(), asyncio.Event()
    real_write = a._write_batch

    async def write_then_hold(conn, batch):  # A keeps its transaction (and locks) open
        await real_write(conn, batch)
        written.set()
        await release.wait()

    a._write_batch = write_then_hold
    first = asyncio.create_task(a.create_transfers([Transfer("r", "bank", "m", 5)]))
    await written.wait()
    second = asyncio.create_task(b.create_transfers([Transfer("r", "bank", "m", 5)]))
    async with a._connection() as probe:  # until B waits for A's account locks
        waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"
        while not await probe.fetchval(waiting, b_pid):
            await asyncio.sleep(0.01)
    release.set()
    assert [r.status for r in await first] == ["ok"]
    assert [r.status for r in await second] == ["exists"]
    assert b.retries == 1, "B's stale read failed on the index and was run again"
    assert [t.id for t in await a.journal()] == ["r"] and await a.verify() == []
    await b.close()
    await a.close()


def test_stop_postgres_signals_only_a_postgres(tmp_path):
    """A stale postmaster.pid naming some other process (here: this one) is left alone."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n{tmp_path}\n")
    assert stop_postgres(tmp_path) is False
    assert not (tmp_path / "data" / "postmaster.pid").exists(), "the stale file is cleared"


async def test_a_crash_and_restart_loses_no_acknowledged_transfer(private_postgres):
    directory, port, url = private_postgres
    ledger = await PostgresLedger.open(url, clock=ManualClock(), pool_size=2)
    await ledger.create_account("bank", "bank")
    await ledger.create_account("m", "merchant")
    acknowledged = []
    for b in range(5):
        batch = [Transfer(f"t{b}-{i}", "bank", "m", i + 1) for i in range(200)]
        results = await ledger.create_transfers(batch)
        acknowledged += [r.id for r in results if r.status == "ok"]
    assert stop_postgres(directory, immediate=True), "crashed (no clean shutdown)"
    with pytest.raises(BackendUnavailable, match="postgresql"):
        await ledger.transfer(Transfer("during", "bank", "m", 1))
    start_postgres(directory, port=port)
    journal = None
    for _ in range(3):  # each pooled connection the crash broke fails once, then reconnects
        with contextlib.suppress(BackendUnavailable):
            journal = await ledger.journal()
            break
    assert [t.id for t in journal] == acknowledged
    assert await ledger.verify() == []
    assert await ledger.transfer(Transfer("after", "bank", "m", 1))
    await ledger.close()


async def test_an_unreachable_server_is_a_typed_error():
    with pytest.raises(BackendUnavailable) as info:
        await PostgresLedger.open(f"postgresql://postgres@127.0.0.1:{free_port()}/razorlab")
    assert info.value.http_status == 503 and info.value.code == "SERVER_ERROR"
