"""Writes/s while a shard is added and merchants move, vs the same writers without a move.

Four PostgreSQL shard databases on the server ``make services`` started (or
``RAZORLAB_DATABASE_URL``) hold 100 small merchants and one big one (``BIG_ROWS`` payments).
Writer tasks put payments for random merchants, and one writer puts payments for the big
merchant only. The same writers run twice in one process: for ``BASELINE_S`` seconds with no
move, then for as long as a resharding run takes — ``add_shard("s4")`` and ``rebalance()``,
which moves the big merchant (chosen so that the ring sends it to s4) and about a fifth of the
small ones. Reported: writes/s in both phases and their ratio, and the big merchant's slowest
write in each (during the move: the cutover stall). Without a server it prints why and skips.
"""

from __future__ import annotations

import asyncio
import time

from razorlab.clock import SystemClock
from razorlab.infra.backends import BackendUnavailable
from razorlab.infra.backends.postgres_shards import MoveResult, ShardedPayments
from razorlab.infra.services import recorded_database_url
from razorlab.infra.sharding import HashRing, merchant_ids
from razorlab.rand import rng

NAME = "bench_shards"
SHARDS = ["s0", "s1", "s2", "s3"]
N_MERCHANTS = 100
BIG_ROWS = 20_000
WRITERS = 4  # tasks writing random small merchants (plus one writing the big merchant)
BASELINE_S = 3.0


def _big_merchant() -> str:
    """A merchant id the five-shard ring places on the new shard s4, so resharding moves it."""
    ring = HashRing([*SHARDS, "s4"])
    return next(m for m in merchant_ids(1_000, seed=99) if ring.shard_for(m) == "s4")


class Load:
    """Writer tasks that count acknowledged writes and time the big merchant's."""

    def __init__(self, db: ShardedPayments, small: list[str], big: str):
        self.db, self.small, self.big = db, small, big
        self.writes, self.big_max_s, self.serial = 0, 0.0, 0

    async def _put(self, merchant: str) -> None:
        self.serial += 1
        await self.db.put_payment(f"w_{self.serial}", merchant, 100 + self.serial % 900)
        self.writes += 1

    async def _small_writer(self, seed: int, stop: asyncio.Event) -> None:
        g = rng(seed, "bench-shards")
        while not stop.is_set():
            await self._put(self.small[int(g.integers(len(self.small)))])

    async def _big_writer(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            start = time.perf_counter()
            await self._put(self.big)
            self.big_max_s = max(self.big_max_s, time.perf_counter() - start)

    async def during(self, work) -> tuple[float, float, object]:
        """Run the writers while ``await work()`` runs: (writes/s, big merchant's max s, result)."""
        self.writes, self.big_max_s = 0, 0.0
        stop = asyncio.Event()
        tasks = [asyncio.create_task(self._small_writer(s, stop)) for s in range(WRITERS)]
        tasks.append(asyncio.create_task(self._big_writer(stop)))
        start = time.perf_counter()
        result = await work()
        elapsed = time.perf_counter() - start
        stop.set()
        await asyncio.gather(*tasks)
        return self.writes / elapsed, self.big_max_s, result


async def _setup(url: str) -> tuple[ShardedPayments, list[str], str]:
    stale = await ShardedPayments.open(url, name=NAME)
    await stale.drop()  # whatever an interrupted earlier run left
    db = await ShardedPayments.open(url, name=NAME, shards=SHARDS, clock=SystemClock())
    small, big = merchant_ids(N_MERCHANTS, seed=98), _big_merchant()
    for i, m in enumerate([*small, big]):
        await db.put_payment(f"seed_{i}", m, 1_000)
    rows = [(f"big_{i}", big, 100 + i, "captured", 0.0) for i in range(BIG_ROWS)]
    pool = await db._shard_pool(await db.shard_of(big))  # bulk-load: one COPY, not 20k puts
    await pool.copy_records_to_table("payments", records=rows, schema_name=NAME)
    return db, small, big


async def _run(url: str) -> tuple[float, float, float, float, float, list[MoveResult]]:
    db, small, big = await _setup(url)
    try:
        load = Load(db, small, big)
        base_rate, base_max, _ = await load.during(lambda: asyncio.sleep(BASELINE_S))

        async def reshard() -> list[MoveResult]:
            await db.add_shard("s4")
            return await db.rebalance()

        start = time.perf_counter()
        move_rate, move_max, moves = await load.during(reshard)
        took = time.perf_counter() - start
        assert await db.shard_of(big) == "s4"
    finally:
        await db.drop()
    return base_rate, base_max, move_rate, move_max, took, moves


def main() -> None:
    url = recorded_database_url()
    try:
        if url is None:
            raise BackendUnavailable("postgresql", "(no URL)", "none recorded")
        base_rate, base_max, move_rate, move_max, took, moves = asyncio.run(_run(url))
    except BackendUnavailable as exc:
        print(f"skipped: no PostgreSQL ({exc}); run `make services` or set RAZORLAB_DATABASE_URL")
        return
    big = max(moves, key=lambda r: r.copied)
    print(f"{len(SHARDS)} → {len(SHARDS) + 1} shards (databases), {N_MERCHANTS + 1} merchants, "
          f"{WRITERS} + 1 writer tasks; resharding moved {len(moves)} merchants in {took:.1f} s, "
          f"the big one {big.copied:,} rows in bulk + {big.delta} in the cutover\n")  # fmt: skip
    print("| phase | writes/s | ratio | big merchant's slowest write (ms) |")
    print("|---|---:|---:|---:|")
    print(f"| no move | {base_rate:,.0f} | 100% | {base_max * 1e3:.0f} |")
    print(f"| resharding | {move_rate:,.0f} | {move_rate / base_rate:.0%} | "
          f"{move_max * 1e3:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
