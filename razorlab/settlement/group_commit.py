"""Group commit: many concurrent callers, one SQLite transaction.

Scenario: hundreds of payment workers each post one transfer. Committing each separately pays
a transaction (and, with ``synchronous=FULL``, a disk sync) per transfer; collecting whatever
arrived while the previous commit was in flight and writing it as one batch pays it once per
batch, while every caller still gets its own result. TigerBeetle batches up to 8,190 transfers.
"""

from __future__ import annotations

import asyncio

from razorlab.settlement.accounts import InvalidTransfer, Transfer, TransferFlags, TransferResult
from razorlab.settlement.ledger import MAX_BATCH, Ledger

__all__ = ["GroupCommitter"]


class GroupCommitter:
    """Coalesces transfers submitted concurrently into one batch per commit.

    While one batch is being written, new submissions queue up and go out together in the
    next; each caller awaits its own result. Linked chains must use ``create_transfers``.
    """

    def __init__(self, ledger: Ledger, max_batch: int = MAX_BATCH):
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: list[tuple[Transfer, asyncio.Future[TransferResult]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, transfer: Transfer) -> TransferResult:
        if transfer.flags & TransferFlags.LINKED:
            raise InvalidTransfer("submit linked chains with create_transfers", field="flags")
        future: asyncio.Future[TransferResult] = asyncio.get_running_loop().create_future()
        self._queue.append((transfer, future))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let every submitter that is ready join this batch
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                results = await self.ledger.create_transfers([t for t, _ in batch])
            except Exception as exc:  # a failed commit fails every caller of that batch
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
            self.batches += 1
        self._flusher = None
