"""The seed's ledger design, rebuilt for the lab so the checker can break it.

The seed's settlement flow (read in the course's seed text, paraphrased here): validate,
*check the balance*, process, *then* update the ledger — four separate steps, no transaction
and no idempotency key. As a transfer: read the payer's balance; if it covers the amount,
write the payer's new debits, then the payee's new credits, then a record of the transfer.
The checker finds, in a few steps:

* a duplicate delivery or a retry of the same id runs the whole thing again: the payer is
  debited twice for one transfer (nothing looks the id up first);
* two transfers from one account read the same balance, both pass the check and both write:
  the account goes below its limit, and one write overwrites the other (a lost update);
* a crash between the debit and the credit leaves money that left one account and never
  arrived anywhere;
* a refusal is not recorded, so a retry after money arrived posts what was refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from razorlab.labs.ledger import AccountBalance, TransferResult
from razorlab.labs.store import Store

__all__ = ["SeedLedger"]


class SeedLedger:
    """Check the balance, then write debit, credit and record as separate steps."""

    def __init__(self, store: Store, accounts: Mapping[str, int | None]) -> None:
        self.store, self.accounts = store, accounts

    async def _account(self, name: str) -> dict[str, int]:
        return await self.store.get(f"account:{name}") or {"debits": 0, "credits": 0}

    async def transfer(
        self, transfer_id: str, debit: str, credit: str, amount_paise: int
    ) -> TransferResult:
        if debit not in self.accounts or credit not in self.accounts or debit == credit:
            return TransferResult(transfer_id, "refused", "invalid accounts")
        payer = await self._account(debit)  # check ...
        floor = self.accounts[debit]
        if floor is not None and payer["credits"] - payer["debits"] - amount_paise < floor:
            return TransferResult(transfer_id, "refused", "insufficient funds")
        payer["debits"] += amount_paise  # ... then act, one write at a time
        await self.store.put(f"account:{debit}", payer)
        payee = await self._account(credit)
        payee["credits"] += amount_paise
        await self.store.put(f"account:{credit}", payee)
        await self.store.put(f"transfer:{transfer_id}", "posted")  # the ledger is updated last
        return TransferResult(transfer_id, "posted")

    async def lookup(self, transfer_id: str) -> TransferResult | None:
        status = await self.store.get(f"transfer:{transfer_id}")
        return TransferResult(transfer_id, status) if status else None

    async def balances(self) -> dict[str, AccountBalance]:
        return {
            key.removeprefix("account:"): AccountBalance(v["debits"], v["credits"])
            for key, v in await self.store.scan("account:")
        }
