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
4. **Balances are posted and pending totals** (TigerBeetle's four counters), so
   Σ debits = Σ credits holds for each pair after every commit, and the limit is checked
   against ``credits - debits - debits_pending``: a reservation is money already promised.
5. **Two-phase transfers are a state machine in the store**: a pending record moves from
   ``pending`` to exactly one of ``posted``, ``voided`` or ``expired``, inside the transaction
   that moves the counters. A post or void is refused unless the record is still ``pending``
   (so a racing void and post cannot both win), and a post may capture at most the reserved
   amount (the rest is released).
6. **Expiry is written, not recomputed.** Every transaction first sweeps the pendings whose
   deadline the database clock (``store.clock``) has passed: it releases their reservations
   and marks them ``expired``. An expired pending then stays expired whatever the clock does
   later — a backward NTP step cannot revive a reservation whose money was spent. Until some
   transaction sweeps it, a pending past its deadline by a clock stepped back is simply not
   yet expired, which is the service's clock's call to make.

This is :mod:`razorlab.settlement.ledger`'s single-phase path (id, rules and counters in one
SQLite transaction) on the lab's in-process store, with one difference: that engine forgets a
failed transfer, so a retry is judged afresh; the lab asks for the first answer back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from razorlab.labs.ledger import AccountBalance, RoundTripStore, TransferResult
from razorlab.labs.store import Transaction

__all__ = ["ReferenceLedger"]

Decide = Callable[[Transaction], Awaitable[tuple[str, str]]]  # tx -> (status, refusal or "")


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

    def __init__(self, store: RoundTripStore, accounts: Mapping[str, int | None]) -> None:
        self.store, self.accounts = store, accounts

    @staticmethod
    async def _account(tx: Transaction, name: str) -> dict[str, int]:
        empty = {"debits": 0, "credits": 0, "debits_pending": 0, "credits_pending": 0}
        return {**empty, **(await tx.get(f"account:{name}") or {})}

    async def _add(self, tx: Transaction, debit: str, credit: str, side: str, paise: int) -> None:
        """Add ``paise`` to ``debit``'s ``debits{side}`` and ``credit``'s ``credits{side}``."""
        for name, counter in ((debit, f"debits{side}"), (credit, f"credits{side}")):
            account = await self._account(tx, name)
            await tx.put(f"account:{name}", {**account, counter: account[counter] + paise})

    async def _sweep(self, tx: Transaction) -> None:
        """Expire every pending whose deadline the database clock has passed: release it."""
        live = await tx.get("live_pendings") or []
        now = self.store.clock.now() if live else 0.0
        for key in live:
            p = await tx.get(f"pending:{key}")
            if p["until"] <= now:
                await self._add(tx, p["debit"], p["credit"], "_pending", -p["amount"])
                await self._resolve(tx, key, p, "expired")

    async def _resolve(self, tx: Transaction, key: str, p: dict[str, Any], state: str) -> None:
        await tx.put(f"pending:{key}", {**p, "state": state})
        await tx.put("live_pendings", [k for k in await tx.get("live_pendings") or [] if k != key])

    async def _once(self, transfer_id: str, decide: Decide) -> TransferResult:
        """The shape of every write: sweep, find the id, else ``decide(tx)``, record the answer."""
        async with self.store.transaction() as tx:
            await self._sweep(tx)
            done = await tx.get(f"transfer:{transfer_id}")
            if done is not None:
                return TransferResult(**done)
            status, reason = await decide(tx)
            result = TransferResult(transfer_id, "refused" if reason else status, reason)
            await tx.put(f"transfer:{transfer_id}", result.__dict__)
        return result

    async def _reserve_or_move(
        self, tx: Transaction, debit: str, credit: str, amount_paise: int, side: str
    ) -> str:
        """Check the payer's limit, counting reservations, then move ``side``; why not, or ""."""
        reason = _refusal(self.accounts, debit, credit, amount_paise)
        if reason is not None:
            return reason
        payer, floor = await self._account(tx, debit), self.accounts[debit]
        available = payer["credits"] - payer["debits"] - payer["debits_pending"]
        if floor is not None and available - amount_paise < floor:
            return "exceeds the account's limit"
        await self._add(tx, debit, credit, side, amount_paise)
        return ""

    async def transfer(
        self, transfer_id: str, debit: str, credit: str, amount_paise: int
    ) -> TransferResult:
        async def decide(tx: Transaction) -> tuple[str, str]:
            return "posted", await self._reserve_or_move(tx, debit, credit, amount_paise, "")

        return await self._once(transfer_id, decide)

    async def pending(
        self, transfer_id: str, debit: str, credit: str, amount_paise: int, timeout_s: int
    ) -> TransferResult:
        async def decide(tx: Transaction) -> tuple[str, str]:
            if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s <= 0:
                return "pending", "timeout must be a positive number of seconds"
            why = await self._reserve_or_move(tx, debit, credit, amount_paise, "_pending")
            if not why:
                until = self.store.clock.now() + timeout_s
                record = {"debit": debit, "credit": credit, "amount": amount_paise,
                          "until": until, "state": "pending"}  # fmt: skip
                await tx.put(f"pending:{transfer_id}", record)
                await tx.put("live_pendings", [*(await tx.get("live_pendings") or []), transfer_id])
            return "pending", why

        return await self._once(transfer_id, decide)

    async def _settle(self, transfer_id: str, pending_id: str, post: int | None) -> TransferResult:
        """Post ``post`` paise of ``pending_id`` (``None``: void it), once, if still pending."""

        async def decide(tx: Transaction) -> tuple[str, str]:
            status = "voided" if post is None else "posted"
            p = await tx.get(f"pending:{pending_id}")
            if p is None:
                return status, "no such pending transfer"
            if p["state"] != "pending":
                return status, f"the pending transfer is already {p['state']}"
            if post is not None and not 0 < post <= p["amount"]:
                return status, "amount must be positive and at most the pending amount"
            await self._add(tx, p["debit"], p["credit"], "_pending", -p["amount"])
            if post is not None:
                await self._add(tx, p["debit"], p["credit"], "", post)
            await self._resolve(tx, pending_id, p, status)
            return status, ""

        return await self._once(transfer_id, decide)

    async def post_pending(
        self, transfer_id: str, pending_id: str, amount_paise: int
    ) -> TransferResult:
        if isinstance(amount_paise, bool) or not isinstance(amount_paise, int):
            amount_paise = 0  # refused below as not positive
        return await self._settle(transfer_id, pending_id, amount_paise)

    async def void_pending(self, transfer_id: str, pending_id: str) -> TransferResult:
        return await self._settle(transfer_id, pending_id, None)

    async def lookup(self, transfer_id: str) -> TransferResult | None:
        record = await self.store.get(f"transfer:{transfer_id}")
        return TransferResult(**record) if record else None

    async def balances(self) -> dict[str, AccountBalance]:
        async with self.store.transaction() as tx:
            await self._sweep(tx)  # what has expired by now is released before it is read
        return {
            key.removeprefix("account:"): AccountBalance(
                v["debits"], v["credits"], v.get("debits_pending", 0), v.get("credits_pending", 0)
            )
            for key, v in await self.store.scan("account:")
        }
