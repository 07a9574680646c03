"""Ledger rules: two-phase transfers, linked chains, idempotency, balance limits, bad input."""

import sqlite3

import pytest

from razorlab.clock import ManualClock
from razorlab.money import CurrencyMismatch, InvalidAmount, UnknownCurrency
from razorlab.settlement import (
    AccountFlags,
    AccountNotFound,
    ExceedsBalance,
    GroupCommitter,
    InvalidTransfer,
    Ledger,
    LinkedTransferFailed,
    PendingExpired,
    PendingNotPending,
    Transfer,
    TransferExists,
    TransferFlags,
)

F = TransferFlags


@pytest.fixture
async def ledger(open_ledger):
    """On each backend (``open_ledger``: SQLite, and PostgreSQL when `make services` runs)."""
    clock = ManualClock()
    led = await open_ledger(clock)
    await led.create_account("bank", "bank")
    await led.create_account("cust", "customer", flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    await led.create_account("merchant", "merchant")
    await led.create_account("usd", "bank", currency="USD")
    await led.transfer(Transfer("fund", "bank", "cust", 10_000))
    yield led
    assert await led.verify() == [], "debits equal credits and counters match the journal"
    await led.close()


async def snapshot(led):
    return await led.accounts(), len(await led.journal())


async def test_partial_post_releases_the_rest(ledger):
    await ledger.transfer(Transfer("hold", "cust", "merchant", 6_000, flags=F.PENDING))
    assert (await ledger.account("cust")).available == 4_000
    await ledger.post("hold", "capture", 2_500)
    cust = await ledger.account("cust")
    assert (cust.debits_pending, cust.debits_posted, cust.balance) == (0, 2_500, 7_500)
    with pytest.raises(PendingNotPending):
        await ledger.void("hold", "late-void")


async def test_post_more_than_pending_is_refused(ledger):
    await ledger.transfer(Transfer("hold", "cust", "merchant", 1_000, flags=F.PENDING))
    with pytest.raises(InvalidTransfer, match="cannot post"):
        await ledger.post("hold", "capture", 1_001)


async def test_void_releases_everything(ledger):
    await ledger.transfer(Transfer("hold", "cust", "merchant", 6_000, flags=F.PENDING))
    await ledger.void("hold", "cancel")
    assert (await ledger.account("cust")).available == 10_000


async def test_pending_times_out_and_cannot_be_posted(ledger):
    await ledger.transfer(
        Transfer("hold", "cust", "merchant", 6_000, flags=F.PENDING, timeout_s=60)
    )
    ledger.clock.advance(60)
    with pytest.raises(PendingExpired):
        await ledger.post("hold", "capture")
    assert (await ledger.account("cust")).available == 10_000
    assert (await ledger.journal())[-1].id == "expire:hold", "expiry is journalled"


async def test_linked_chain_fails_as_a_whole(ledger):
    before = await snapshot(ledger)
    results = await ledger.create_transfers(
        [
            Transfer("a", "bank", "merchant", 100, flags=F.LINKED),
            Transfer("b", "cust", "merchant", 1_000_000),
        ]
    )
    assert [r.status for r in results] == ["failed", "failed"]
    assert isinstance(results[0].error, LinkedTransferFailed)
    assert isinstance(results[1].error, ExceedsBalance)
    assert await snapshot(ledger) == before, "a failed chain changes nothing"


async def test_open_chain_at_end_of_batch_fails(ledger):
    results = await ledger.create_transfers([Transfer("a", "bank", "merchant", 1, flags=F.LINKED)])
    assert isinstance(results[0].error, InvalidTransfer)


async def test_retried_id_is_applied_once(ledger):
    t = Transfer("pay-1", "cust", "merchant", 700)
    first = await ledger.create_transfers([t])
    again = await ledger.create_transfers([t, t])
    assert [r.status for r in first + again] == ["ok", "exists", "exists"]
    assert (await ledger.account("merchant")).balance == 700


async def test_retry_mixed_into_a_new_batch_is_applied_once(ledger):
    """The optimistic first attempt meets the journalled id, rolls back and redoes the batch."""
    await ledger.transfer(Transfer("pay-1", "cust", "merchant", 700))
    results = await ledger.create_transfers(
        [Transfer("pay-2", "cust", "merchant", 100), Transfer("pay-1", "cust", "merchant", 700)]
    )
    assert [r.status for r in results] == ["ok", "exists"]
    assert (await ledger.account("merchant")).balance == 800
    assert [t.id for t in await ledger.journal(account_id="merchant")] == ["pay-1", "pay-2"]


async def test_same_id_with_other_fields_conflicts(ledger):
    await ledger.transfer(Transfer("pay-1", "cust", "merchant", 700))
    with pytest.raises(TransferExists):
        await ledger.transfer(Transfer("pay-1", "cust", "merchant", 701))


@pytest.mark.parametrize(
    ("transfer", "error"),
    [
        (Transfer("z", "cust", "merchant", 0), InvalidAmount),
        (Transfer("n", "cust", "merchant", -5), InvalidAmount),
        (Transfer("f", "cust", "merchant", 1.5), InvalidAmount),
        (Transfer("c", "bank", "usd", 100), CurrencyMismatch),
        (Transfer("x", "bank", "merchant", 100, currency="XYZ"), UnknownCurrency),
        (Transfer("u", "ghost", "merchant", 100), AccountNotFound),
        (Transfer("s", "bank", "bank", 100), InvalidTransfer),
        (Transfer("t", "bank", "merchant", 100, timeout_s=5), InvalidTransfer),
        (Transfer("o", "cust", "merchant", 10_001), ExceedsBalance),
    ],
)
async def test_bad_input_raises_a_clear_error_and_changes_nothing(ledger, transfer, error):
    before = await snapshot(ledger)
    with pytest.raises(error) as info:
        await ledger.transfer(transfer)
    assert info.value.code and info.value.description
    assert await snapshot(ledger) == before


async def test_balance_as_of_any_time_replays_the_journal(ledger):
    t0 = ledger.clock.now()
    ledger.clock.advance(3600)
    await ledger.transfer(Transfer("later", "cust", "merchant", 2_000))
    assert await ledger.balance_at("cust", t0) == 10_000
    assert await ledger.balance_at("cust", ledger.clock.now()) == 8_000


async def test_journal_is_append_only(ledger):
    if type(ledger) is not Ledger:
        pytest.skip("SQLite's triggers; tests/test_infra_postgres_ledger.py checks PostgreSQL's")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await ledger._db.execute("UPDATE transfers SET amount = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await ledger._db.execute("DELETE FROM transfers")


async def test_group_commit_coalesces_concurrent_submits(ledger):
    import asyncio

    committer = GroupCommitter(ledger)
    results = await asyncio.gather(
        *[committer.submit(Transfer(f"g{i}", "bank", "merchant", 1)) for i in range(50)]
    )
    assert all(r.status == "ok" for r in results)
    assert committer.batches == 1, "50 concurrent submits share one commit"
    assert (await ledger.account("merchant")).balance == 50


async def test_balances_are_a_statement_of_the_counters(ledger):
    await ledger.transfer(Transfer("hold", "cust", "merchant", 3_000, flags=F.PENDING))
    sheet = await ledger.balances("cust", "merchant")
    assert list(sheet.index) == ["cust", "merchant"]
    assert sheet.loc["cust"].to_dict() == {
        "debits_pending": 3_000, "debits_posted": 0, "credits_pending": 0,
        "credits_posted": 10_000, "balance": 10_000, "available": 7_000,
    }  # fmt: skip
    assert sheet.loc["merchant", "credits_pending"] == 3_000
    with pytest.raises(AccountNotFound):
        await ledger.balances("cust", "nobody")
