"""Group commit: many concurrent callers, one SQLite transaction.

Scenario: hundreds of payment workers each post one transfer. Committing each separately pays
a transaction (and, with ``synchronous=FULL``, a disk sync) per transfer; collecting whatever
arrived while the previous commit was in flight and writing it as one batch pays it once per
batch, while every caller still gets its own result. TigerBeetle batches up to 8,190 transfers.
"""

from __future__ import annotations

from razorlab.batching import Coalescer, Outcome
from razorlab.settlement.accounts import InvalidTransfer, Transfer, TransferFlags, TransferResult
from razorlab.settlement.ledger import MAX_BATCH, Ledger

__all__ = ["GroupCommitter"]


class GroupCommitter(Coalescer[Transfer, TransferResult]):
    """Coalesces transfers submitted concurrently into one ledger batch per commit.

    While one batch is being written, new submissions queue up and go out together in the
    next (:class:`~razorlab.batching.Coalescer`); each caller awaits its own result. Linked
    chains must use ``create_transfers``: a chain cannot be split across callers.
    """

    def __init__(self, ledger: Ledger, max_batch: int = MAX_BATCH):
        super().__init__(self._commit, max_batch=max_batch)
        self.ledger = ledger

    async def submit(self, transfer: Transfer) -> TransferResult:
        if transfer.flags & TransferFlags.LINKED:
            raise InvalidTransfer("submit linked chains with create_transfers", field="flags")
        return await super().submit(transfer)

    async def _commit(self, transfers: list[Transfer]) -> list[Outcome]:
        return [(True, result) for result in await self.ledger.create_transfers(transfers)]
