"""Settlements posted to the ledger: linked per merchant-day, idempotent, escrow balances out."""

import inspect

import razorlab.settlement as settlement_pkg
from razorlab.clock import EPOCH_2026, ManualClock
from razorlab.settlement import (
    Entry,
    Ledger,
    SettlementPolicy,
    post_settlements,
    settle,
)

DAY = 86_400


async def test_posted_settlements_match_the_computation_and_rerun_is_a_no_op():
    entries = [
        Entry("p1", "m1", "payment", 100_000, EPOCH_2026),
        Entry("p2", "m2", "payment", 40_000, EPOCH_2026),
        Entry("r1", "m2", "refund", 90_000, EPOCH_2026 + DAY),
        Entry("p3", "m1", "payment", 25_000, EPOCH_2026 + DAY),
    ]
    rows = settle(
        entries, SettlementPolicy(mdr_percent="2", reserve_percent="5", reserve_hold_days=1)
    )
    async with await Ledger.open(clock=ManualClock()) as ledger:
        first = await post_settlements(ledger, rows)
        again = await post_settlements(ledger, rows)
        assert {r.status for r in first} == {"ok"}
        assert {r.status for r in again} == {"exists"}, "re-running the job posts nothing twice"
        assert await ledger.verify() == []
        for m in ("m1", "m2"):
            paid = (await ledger.account(f"merchant:{m}")).balance
            assert paid == rows.loc[rows["merchant_id"] == m, "payout"].sum()
        escrow = (await ledger.account("escrow")).balance
        assert escrow == rows.groupby("merchant_id")["carry_forward"].last().sum()
        fees = (await ledger.account("fees")).balance
        assert fees == rows["fee"].sum()


def test_public_api_is_pinned():
    public = {
        name
        for name, value in vars(settlement_pkg).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert sorted(settlement_pkg.__all__) == sorted(public)
