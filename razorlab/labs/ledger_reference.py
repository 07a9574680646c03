"""The reference answer to the ledger lab: look up, check and apply in one transaction.

Scenario: the same transfer id arrives twice at once, two transfers spend from one account in
the same millisecond, and the process dies between two writes. The design that survives all
three makes each transfer *one* atomic step that starts by asking "have I seen this id?".

1. **One transaction per transfer** (the store's ``BEGIN IMMEDIATE``-like write lock): read
   the id's record, read both accounts, decide, write both accounts and the record, commit.
   Nobody can interleave between the check and the write, so two transfers cannot pass the
   same balance check, and a crash before ``COMMIT`` leaves nothing half-done.
2. **The id is looked up first.** A retry or duplicate finds the record and returns it;
   money moves once.
3. **Refusals are recorded too**, with their reason, so a retried id gets its first answer
   even after money arrives (TigerBeetle's ``id_already_failed``). Invalid requests (an
   unknown account, the same account twice, a non-positive amount) are refused and recorded.
4. **Balances are posted totals** (debits and credits, as TigerBeetle keeps them), so
   Σ debits = Σ credits holds after every commit.

This is :mod:`razorlab.settlement.ledger`'s single-phase path (id, rules and counters in one
SQLite transaction) on the lab's in-process store, with one difference: that engine forgets a
failed transfer, so a retry is judged afresh; the lab asks for the first answer back.
"""

from __future__ import annotations

from collections.abc import Mapping

from razorlab.labs.ledger import AccountBalance, TransferResult
from razorlab.labs.store import Store, Transaction

__all__ = ["ReferenceLedger"]


def _refusal(
    accounts: Mapping[str, int | None], debit: str, credit: str, amount_paise: int
) -> str | None:
    """Why a request is invalid whatever the balances are, or ``None``."""
    if debit not in accounts or credit not in accounts:
        return "no such account"
    if debit == credit:
        return "debit and credit must be different accounts"
    if isinstance(amount_paise, bool) or not isinstance(amount_paise, int) or amount_paise <= 0:
        return "amount must be a positive number of paise"
    return None


class ReferenceLedger:
    """A ledger that passes every invariant of the lab (the oracle)."""

    def __init__(self, store: Store, accounts: Mapping[str, int | None]) -> None:
        self.store, self.accounts = store, accounts

    @staticmethod
    async def _account(tx: Transaction, name: str) -> dict[str, int]:
        return await tx.get(f"account:{name}") or {"debits": 0, "credits": 0}

    async def transfer(
        self, transfer_id: str, debit: str, credit: str, amount_paise: int
    ) -> TransferResult:
        async with self.store.transaction() as tx:
            done = await tx.get(f"transfer:{transfer_id}")
            if done is not None:
                return TransferResult(**done)
            reason = _refusal(self.accounts, debit, credit, amount_paise)
            if reason is None:
                payer, payee = await self._account(tx, debit), await self._account(tx, credit)
                floor = self.accounts[debit]
                if floor is not None and payer["credits"] - payer["debits"] - amount_paise < floor:
                    reason = "exceeds the account's limit"
                else:
                    payer["debits"] += amount_paise
                    payee["credits"] += amount_paise
                    await tx.put(f"account:{debit}", payer)
                    await tx.put(f"account:{credit}", payee)
            result = TransferResult(transfer_id, "refused" if reason else "posted", reason or "")
            await tx.put(f"transfer:{transfer_id}", result.__dict__)
        return result

    async def lookup(self, transfer_id: str) -> TransferResult | None:
        record = await self.store.get(f"transfer:{transfer_id}")
        return TransferResult(**record) if record else None

    async def balances(self) -> dict[str, AccountBalance]:
        return {
            key.removeprefix("account:"): AccountBalance(v["debits"], v["credits"])
            for key, v in await self.store.scan("account:")
        }
