"""Posting settlements to the ledger: one linked chain of transfers per merchant and day.

Scenario: the settlement run computed what merchant M gets on day D (``settle``); now the money
must move in the books. Each leg — collections arriving from the networks into escrow, the fee,
the GST, refunds and chargebacks going back, the reserve held and released, the payout — is a
transfer, and all legs of one (merchant, day) are LINKED: either the whole settlement is in the
books or none of it. Transfer ids are derived from (merchant, day, leg), so re-running the job
after a crash posts nothing twice.

Accounts: ``network`` (the outside world: card networks, UPI, customers' banks), ``escrow``
(the aggregator's escrow bank account), ``fees``, ``gst``, ``reserve:<merchant>`` and
``merchant:<merchant>`` (money paid out). After posting, the escrow balance is exactly what is
still owed by merchants with negative carry-forwards (minus carry-ins from earlier runs).
"""

from __future__ import annotations

import pandas as pd

from razorlab.settlement.accounts import Transfer, TransferFlags, TransferResult
from razorlab.settlement.ledger import MAX_BATCH, Ledger

__all__ = ["NETWORK", "ESCROW", "FEES", "GST", "ensure_accounts", "settlement_transfers",
           "post_settlements"]  # fmt: skip

NETWORK, ESCROW, FEES, GST = "network", "escrow", "fees", "gst"


def _legs(row) -> list[tuple[str, str, str, int]]:
    m = row.merchant_id
    adj = int(row.adjustments)
    return [
        ("collect", NETWORK, ESCROW, int(row.payments)),
        ("fee", ESCROW, FEES, int(row.fee)),
        ("gst", ESCROW, GST, int(row.gst)),
        ("refund", ESCROW, NETWORK, int(row.refunds)),
        ("chargeback", ESCROW, NETWORK, int(row.chargebacks)),
        ("adjust", NETWORK, ESCROW, adj) if adj >= 0 else ("adjust", ESCROW, NETWORK, -adj),
        ("reserve", ESCROW, f"reserve:{m}", int(row.reserve_held)),
        ("release", f"reserve:{m}", ESCROW, int(row.reserve_released)),
        ("payout", ESCROW, f"merchant:{m}", int(row.payout)),
    ]


def settlement_transfers(row) -> list[Transfer]:
    """The linked chain for one row of ``settle``'s output (zero legs are left out)."""
    day = pd.Timestamp(row.settle_date).strftime("%Y%m%d")
    legs = [leg for leg in _legs(row) if leg[3] > 0]
    return [
        Transfer(
            f"stl:{row.merchant_id}:{day}:{name}",
            debit,
            credit,
            amount,
            flags=TransferFlags.LINKED if i < len(legs) - 1 else TransferFlags.NONE,
            code=f"settlement.{name}",
        )
        for i, (name, debit, credit, amount) in enumerate(legs)
    ]


async def ensure_accounts(ledger: Ledger, merchants) -> None:
    """Create the platform accounts and each merchant's payout and reserve accounts."""
    for account_id, kind in ((NETWORK, "bank"), (ESCROW, "escrow"), (FEES, "fees"), (GST, "gst")):
        await ledger.create_account(account_id, kind)
    for m in merchants:
        await ledger.create_account(f"merchant:{m}", "merchant")
        await ledger.create_account(f"reserve:{m}", "reserve")


async def post_settlements(ledger: Ledger, settlements: pd.DataFrame) -> list[TransferResult]:
    """Post every settlement row as one linked chain, many chains per batch (group commit)."""
    await ensure_accounts(ledger, settlements["merchant_id"].unique())
    results: list[TransferResult] = []
    batch: list[Transfer] = []
    for row in settlements.itertuples(index=False):
        chain = settlement_transfers(row)
        if len(batch) + len(chain) > MAX_BATCH:  # never split a chain across batches
            results += await ledger.create_transfers(batch)
            batch = []
        batch += chain
    return results + await ledger.create_transfers(batch)
