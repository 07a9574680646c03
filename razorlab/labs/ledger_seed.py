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

The seed has no two-phase transfers; its flow extended the same way (our extrapolation, in
the seed's style) reserves by writing the payer's pending debits (a ``reserved:`` record per
account, beside its posted one), and posts or voids by
reading the pending's record, checking "still pending?", then writing — so a void and a post
that race both pass the check, and the pending is resolved twice: the reservation is released
twice and the payee is paid for money the payer got back.
"""

from __future__ import annotations

from collections.abc import Mapping

from razorlab.labs.ledger import AccountBalance, RoundTripStore, TransferResult

__all__ = ["SeedLedger"]


class SeedLedger:
    """Check the balance, then write debit, credit and record as separate steps."""

    def __init__(self, store: RoundTripStore, accounts: Mapping[str, int | None]) -> None:
        self.store, self.accounts = store, accounts

    async def _account(self, name: str, kind: str = "account") -> dict[str, int]:
        return await self.store.get(f"{kind}:{name}") or {"debits": 0, "credits": 0}

    async def _add(self, kind: str, name: str, side: str, paise: int) -> None:
        record = await self._account(name, kind)  # read ...
        record[side] += paise
        await self.store.put(f"{kind}:{name}", record)  # ... then write

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

    async def pending(
        self, transfer_id: str, debit: str, credit: str, amount_paise: int, timeout_s: int
    ) -> TransferResult:
        if debit not in self.accounts or credit not in self.accounts or debit == credit:
            return TransferResult(transfer_id, "refused", "invalid accounts")
        payer, held = await self._account(debit), await self._account(debit, "reserved")
        floor = self.accounts[debit]
        spendable = payer["credits"] - payer["debits"] - held["debits"]
        if floor is not None and spendable - amount_paise < floor:
            return TransferResult(transfer_id, "refused", "insufficient funds")
        await self._add("reserved", debit, "debits", amount_paise)
        await self._add("reserved", credit, "credits", amount_paise)
        until = self.store.clock.now() + timeout_s
        hold = {"debit": debit, "credit": credit, "amount": amount_paise, "until": until}
        await self.store.put(f"hold:{transfer_id}", {**hold, "state": "pending"})
        await self.store.put(f"transfer:{transfer_id}", "pending")
        return TransferResult(transfer_id, "pending")

    async def _resolve(self, transfer_id: str, pending_id: str, post: int | None) -> TransferResult:
        status = "voided" if post is None else "posted"
        hold = await self.store.get(f"hold:{pending_id}")  # check ...
        if hold is None or hold["state"] != "pending" or self.store.clock.now() >= hold["until"]:
            return TransferResult(transfer_id, "refused", "not pending")
        for name, side in ((hold["debit"], "debits"), (hold["credit"], "credits")):
            await self._add("reserved", name, side, -hold["amount"])  # ... then act
            if post is not None:
                await self._add("account", name, side, min(post, hold["amount"]))
        await self.store.put(f"hold:{pending_id}", {**hold, "state": status})
        await self.store.put(f"transfer:{transfer_id}", status)
        return TransferResult(transfer_id, status)

    async def post_pending(
        self, transfer_id: str, pending_id: str, amount_paise: int
    ) -> TransferResult:
        return await self._resolve(transfer_id, pending_id, amount_paise)

    async def void_pending(self, transfer_id: str, pending_id: str) -> TransferResult:
        return await self._resolve(transfer_id, pending_id, None)

    async def lookup(self, transfer_id: str) -> TransferResult | None:
        status = await self.store.get(f"transfer:{transfer_id}")
        return TransferResult(transfer_id, status) if status else None

    async def balances(self) -> dict[str, AccountBalance]:
        posted, held = (
            dict(await self.store.scan("account:")),
            dict(await self.store.scan("reserved:")),
        )
        names = {key.split(":", 1)[1] for key in [*posted, *held]}
        empty = {"debits": 0, "credits": 0}
        return {name: AccountBalance(posted.get(f"account:{name}", empty)["debits"],
                                     posted.get(f"account:{name}", empty)["credits"],
                                     held.get(f"reserved:{name}", empty)["debits"],
                                     held.get(f"reserved:{name}", empty)["credits"])
                for name in sorted(names)}  # fmt: skip
