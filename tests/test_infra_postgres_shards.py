"""Payments sharded by merchant over PostgreSQL databases: stable routes, ~1/(N+1) of merchants
moved by a new shard, a resharding run under concurrent writers that loses and duplicates
nothing, moves cut at every step and finished by a re-run, and typed errors for bad input."""

import asyncio
import itertools
import os

import pytest

from razorlab.clock import ManualClock, SystemClock
from razorlab.errors import ConflictError, NotFoundError, ValidationError
from razorlab.infra.backends.postgres_shards import (
    MOVE_PHASES,
    MerchantMoving,
    ShardedPayments,
)
from razorlab.infra.sharding import HashRing, merchant_ids
from razorlab.rand import rng

_NAMES = itertools.count()


class Crash(Exception):
    """What a checkpoint raises to cut a move, as a killed mover process would."""


@pytest.fixture
async def cluster(database_url):
    """``await cluster(shards, **kw)``: a fresh sharded store; more calls with ``name=`` open
    other clients (gateway processes) on the same one. Every database is dropped afterwards."""
    opened: list[ShardedPayments] = []
    name = f"t{os.getpid()}_{next(_NAMES)}"

    async def open_cluster(shards=(), **kwargs):
        kwargs.setdefault("clock", ManualClock())
        opened.append(await ShardedPayments.open(database_url, name=name, shards=shards,
                                                 pool_size=2, **kwargs))  # fmt: skip
        return opened[-1]

    yield open_cluster
    for db in opened[1:]:
        await db.close()
    if opened:
        await opened[0].drop()


async def located(db: ShardedPayments, merchants) -> dict[str, dict[str, int]]:
    """Per merchant, the shards holding any of its rows and how many."""
    found = {}
    for m in merchants:
        found[m] = {s: n for s, n in (await db.rows_by_shard(m)).items() if n}
    return found


async def test_routes_follow_the_ring_and_are_the_same_for_every_client(cluster):
    db = await cluster(["s0", "s1", "s2"])
    merchants = merchant_ids(60, seed=3)
    for i, m in enumerate(merchants):
        await db.put_payment(f"pay_{i}", m, 100 + i)
    ring = HashRing(["s0", "s1", "s2"])
    other = await cluster()  # a second process: no cache, the same directory
    for i, m in enumerate(merchants):
        assert await db.shard_of(m) == await other.shard_of(m) == ring.shard_for(m)
        assert [p.id for p in await other.payments(m)] == [f"pay_{i}"]
    assert await located(db, merchants) == {m: {ring.shard_for(m): 1} for m in merchants}
    assert {await db.shard_of(m) for m in merchants} == set(other.shards) == {"s0", "s1", "s2"}


async def test_a_new_shard_takes_about_one_in_n_plus_one_merchants(cluster):
    db = await cluster(["s0", "s1", "s2", "s3"])
    merchants = merchant_ids(200, seed=5)
    for i, m in enumerate(merchants):
        await db.put_payment(f"pay_{i}", m, 500)
    plan = await db.add_shard("s4")
    assert len(plan) == pytest.approx(200 / 5, rel=0.35)
    assert {move.dest for move in plan} == {"s4"}
    assert [await db.shard_of(move.merchant_id) for move in plan] == [m.source for m in plan]
    results = await db.rebalance()
    assert [r.merchant_id for r in results] == [move.merchant_id for move in plan]
    assert await db.plan() == []
    moved = [move.merchant_id for move in plan]
    assert await located(db, moved) == {m: {"s4": 1} for m in moved}


async def test_resharding_under_concurrent_writers_loses_and_duplicates_nothing(cluster):
    mover = await cluster(["s0", "s1", "s2"], clock=SystemClock())
    writer = await cluster(clock=SystemClock())  # another process: its cached routes go stale
    merchants = merchant_ids(40, seed=11)
    acked: dict[str, tuple[str, int, str]] = {}  # id -> (merchant, amount, last status)
    ids = itertools.count()

    async def put(merchant: str, status: str = "created", payment_id: str | None = None):
        payment_id = payment_id or f"pay_{next(ids)}"
        amount = acked[payment_id][1] if payment_id in acked else 100 + len(acked)
        await writer.put_payment(payment_id, merchant, amount, status)
        acked[payment_id] = (merchant, amount, status)

    for m in merchants:
        await put(m)
    stop = asyncio.Event()

    async def write_until_stopped(seed: int):
        g = rng(seed, "shards-writers")
        while not stop.is_set():
            m = merchants[int(g.integers(len(merchants)))]
            done = [i for i, a in acked.items() if a[0] == m and a[2] == "created"]
            if done and g.random() < 0.3:
                await put(m, "captured", done[0])  # a row changing while it is copied
            else:
                await put(m)

    raced: list[asyncio.Task] = []

    async def checkpoint(phase: str):
        m = current[0]
        if phase == "copied":  # written on the source after the bulk copy: must be in the delta
            await put(m)
        if phase == "source_fenced":  # the source refuses it; it lands on the new shard
            raced.append(asyncio.create_task(put(m)))
            await asyncio.sleep(0.01)
            assert not raced[-1].done()

    writers = [asyncio.create_task(write_until_stopped(s)) for s in range(6)]
    plan = await mover.add_shard("s3")
    results, current = [], [""]
    for move in plan:
        current[0] = move.merchant_id
        results.append(await mover.move_merchant(move.merchant_id, move.dest,
                                                 checkpoint=checkpoint))  # fmt: skip
    await asyncio.gather(*raced)
    stop.set()
    await asyncio.gather(*writers)

    assert plan and all(r.delta >= 1 for r in results)
    assert writer.reroutes >= len(plan)
    ring = HashRing(["s0", "s1", "s2", "s3"])
    for m, shards in (await located(mover, merchants)).items():
        assert list(shards) == [ring.shard_for(m)]  # every row on its new shard, none left
        stored = {p.id: (p.merchant_id, p.amount_paise, p.status) for p in await mover.payments(m)}
        assert stored == {i: a for i, a in acked.items() if a[0] == m}  # each write exactly once


async def _one_merchant_to_move(db: ShardedPayments) -> tuple[str, str, str]:
    """A merchant with 30 payments on s0 or s1 that the new shard s2 takes, and a bystander."""
    merchants = merchant_ids(40, seed=17)
    for i, m in enumerate(merchants):
        await db.put_payment(f"pay_{i}", m, 1_000 + i)
    plan = await db.add_shard("s2")
    moving = {move.merchant_id for move in plan}
    merchant, stays = plan[0].merchant_id, next(m for m in merchants if m not in moving)
    for i in range(30):
        await db.put_payment(f"more_{i}", merchant, 7)
    return merchant, plan[0].source, stays


@pytest.mark.parametrize("phase", MOVE_PHASES)
async def test_a_move_cut_at_any_step_is_finished_by_a_rerun(cluster, phase):
    db = await cluster(["s0", "s1"])
    merchant, source, bystander = await _one_merchant_to_move(db)
    impatient = await cluster(max_stall_s=0)  # gives up at the first refusal

    async def crash_at(reached: str):
        if reached == phase:
            raise Crash(reached)

    with pytest.raises(Crash):
        await db.move_merchant(merchant, "s2", checkpoint=crash_at)
    await impatient.put_payment("bystander_pay", bystander, 5)  # other merchants never stop
    if phase in ("source_fenced", "delta_copied"):  # cut between the fence and the flip
        with pytest.raises(MerchantMoving):
            await impatient.put_payment("blocked", merchant, 5)
    with pytest.raises(ConflictError):
        await db.move_merchant(merchant, "s1" if source == "s0" else "s0")  # finish it first

    result = await db.move_merchant(merchant, "s2")
    assert (result.source, result.dest) == (source, "s2")
    assert await located(db, [merchant]) == {merchant: {"s2": 31}}
    assert len(await impatient.payments(merchant)) == 31
    assert not [p for p in await impatient.payments(merchant) if p.id == "blocked"]
    again = await db.move_merchant(merchant, "s2")
    assert (again.source, again.copied) == ("s2", 0)
    await impatient.put_payment("after", merchant, 9)  # a stale route is refused, then followed
    assert await located(db, [merchant]) == {merchant: {"s2": 32}}


async def test_a_merchant_can_move_back(cluster):
    db = await cluster(["s0", "s1"])
    merchant, source, _ = await _one_merchant_to_move(db)
    await db.move_merchant(merchant, "s2")
    back = await db.move_merchant(merchant, source)
    assert (back.copied, back.delta) == (31, 0)
    assert await located(db, [merchant]) == {merchant: {source: 31}}
    assert merchant in {move.merchant_id for move in await db.plan()}  # the ring still wants s2


async def test_bad_input_gets_typed_errors_and_stores_nothing(cluster, database_url):
    db = await cluster(["s0", "s1"])
    for amount in ("100", 1.5, True, 0, -3, 2**63):
        with pytest.raises(ValidationError):
            await db.put_payment("p", "merch_a", amount)
    for bad in [dict(status="paid"), dict(payment_id=""), dict(merchant_id="x" * 65)]:
        args = dict(payment_id="p", merchant_id="merch_a", amount_paise=10) | bad
        with pytest.raises(ValidationError):
            await db.put_payment(**args)
    with pytest.raises(NotFoundError):
        await db.payments("merch_a")  # nothing above was stored, not even a route
    await db.put_payment("p", "merch_a", 10)
    with pytest.raises(ConflictError):
        await db.put_payment("p", "merch_a", 11)
    with pytest.raises(NotFoundError):
        await db.move_merchant("merch_nobody", "s1")
    with pytest.raises(NotFoundError):
        await db.move_merchant("merch_a", "s9")
    with pytest.raises(ConflictError):
        await db.add_shard("s1")
    for bad_shard in ("S-1", "", "x" * 25, 3):
        with pytest.raises(ValidationError):
            await db.add_shard(bad_shard)
    with pytest.raises(ValidationError):
        await ShardedPayments.open(database_url, name="Bad-Name")
    assert [(p.id, p.amount_paise) for p in await db.payments("merch_a")] == [("p", 10)]
