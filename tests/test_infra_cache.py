"""Multi-level cache: L1 LRU+TTL, L2 store, loader; invalidation never leaves stale reads."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.cache import InMemoryL2, L2Store, LRUCache, MultiLevelCache


class FakeDB:
    """The source of truth; counts reads so tests see which level answered."""

    def __init__(self):
        self.rows = {}
        self.reads = 0

    async def load(self, key):
        self.reads += 1
        await asyncio.sleep(0)
        return self.rows.get(key)


def make(**kwargs):
    clock = ManualClock()
    db = FakeDB()
    return clock, db, MultiLevelCache(db.load, clock, **kwargs)


async def test_miss_loads_once_then_l1_serves():
    _, db, cache = make()
    db.rows["pay_1"] = "created"
    assert await cache.get("pay_1") == "created"
    assert await cache.get("pay_1") == "created"
    assert db.reads == 1
    assert cache.stats.l1.hits == 1 and cache.stats.l1.misses == 1
    assert cache.stats.l2.misses == 1 and cache.stats.l3.hits == 1


async def test_l1_expiry_falls_back_to_l2_then_loader():
    clock, db, cache = make(l1_ttl_s=5, l2_ttl_s=60)
    db.rows["pay_1"] = "created"
    await cache.get("pay_1")
    clock.advance(5)
    await cache.get("pay_1")
    assert cache.stats.l2.hits == 1 and db.reads == 1
    clock.advance(60)
    await cache.get("pay_1")
    assert db.reads == 2


async def test_not_found_is_not_cached():
    _, db, cache = make()
    assert await cache.get("pay_new") is None
    db.rows["pay_new"] = "created"
    assert await cache.get("pay_new") == "created"
    assert cache.stats.l3.misses == 1 and cache.stats.l3.hits == 1


async def test_invalidate_clears_both_levels():
    _, db, cache = make()
    db.rows["pay_1"] = "authorized"
    await cache.get("pay_1")
    db.rows["pay_1"] = "captured"
    await cache.invalidate("pay_1")
    assert "pay_1" not in cache.l1 and await cache.l2.get("pay_1") is None
    assert await cache.get("pay_1") == "captured"
    for i in range(1_000):
        await cache.invalidate(f"pay_{i}")
    assert not cache._generation, "invalidating keys nobody reads keeps no state"


async def test_concurrent_misses_share_one_load():
    _, db, cache = make()
    db.rows["hot"] = "captured"
    values = await asyncio.gather(*(cache.get("hot") for _ in range(50)))
    assert values == ["captured"] * 50 and db.reads == 1


async def test_loader_errors_reach_every_waiter_and_are_not_cached():
    clock = ManualClock()
    calls = 0

    async def flaky(key):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ConnectionError("db down")
        return "ok"

    cache = MultiLevelCache(flaky, clock)
    results = await asyncio.gather(cache.get("k"), cache.get("k"), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await cache.get("k") == "ok"


async def test_load_in_flight_during_invalidate_does_not_fill_stale_value():
    clock = ManualClock()
    rows = {"pay_1": "authorized"}
    gate = asyncio.Event()

    async def slow_load(key):
        value = rows[key]  # read the row, then stall before returning it
        await gate.wait()
        return value

    cache = MultiLevelCache(slow_load, clock)
    reader = asyncio.create_task(cache.get("pay_1"))
    await asyncio.sleep(0)
    rows["pay_1"] = "captured"
    await cache.invalidate("pay_1")
    gate.set()
    assert await reader == "authorized"  # it started before the update: fine to see old
    assert cache.stats.stale_fills_skipped == 1
    assert await cache.get("pay_1") == "captured", "a read after invalidate sees the update"
    assert not cache._generation and not cache._readers, "fences are dropped after the reads"


def test_lru_evicts_least_recently_used_and_expires():
    clock = ManualClock()
    lru = LRUCache(clock, max_items=2, ttl_s=10)
    lru.set("a", 1)
    lru.set("b", 2)
    lru.get("a")
    lru.set("c", 3)
    assert "b" not in lru and lru.get("a") == 1 and lru.evictions == 1
    clock.advance(10)
    assert lru.get("a") is None and len(lru) == 1  # c expired lazily on the next read
    with pytest.raises(ValidationError):
        LRUCache(clock, max_items=0)


async def test_in_memory_l2_follows_the_protocol_and_ttl():
    clock = ManualClock()
    l2 = InMemoryL2(clock)
    assert isinstance(l2, L2Store)
    await l2.set("k", "v", ttl_s=3)
    assert await l2.get("k") == "v"
    clock.advance(3)
    assert await l2.get("k") is None and len(l2) == 0


async def test_snapshot_reports_hit_rates_per_level():
    _, db, cache = make()
    db.rows["p"] = "x"
    for _ in range(4):
        await cache.get("p")
    rows = {r["level"]: r for r in cache.snapshot()}
    assert rows["L1"]["hit_rate"] == 0.75 and rows["L3 (loader)"]["hits"] == 1


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["get", "update", "tick"]), st.sampled_from(["p1", "p2"])),
        max_size=60,
    )
)
def test_a_read_after_update_and_invalidate_is_never_stale(ops):
    async def scenario():
        clock, db, cache = make(l1_ttl_s=2, l2_ttl_s=7, l1_max_items=1)
        version = {"p1": 0, "p2": 0}
        db.rows.update(version)
        for op, key in ops:
            if op == "update":  # the gateway's write path: commit, then invalidate
                version[key] += 1
                db.rows[key] = version[key]
                await cache.invalidate(key)
            elif op == "tick":
                clock.advance(1)
            else:
                assert await cache.get(key) == version[key]

    asyncio.run(scenario())


async def test_gateway_status_is_never_stale_after_capture_or_refund():
    from razorlab.payments.gateway import Gateway

    gateway = await Gateway.open(clock=ManualClock(), seed=3)
    try:
        merchant, _ = await gateway.create_merchant("Chai Point")
        body = {"amount": 50_000, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}
        created = await gateway.create_payment(merchant.id, body)
        pid = created.body["id"]
        for _ in range(3):  # warm L1 and L2 with the authorized payment
            assert (await gateway.get_payment(merchant.id, pid)).status.value == "authorized"
        assert gateway.cache.stats.l1.hits >= 2
        await gateway.capture(merchant.id, pid)
        assert (await gateway.get_payment(merchant.id, pid)).status.value == "captured"
        await gateway.refund(merchant.id, pid, 10_000)
        assert (await gateway.get_payment(merchant.id, pid)).status.value == "partially_refunded"
        await gateway.refund(merchant.id, pid)
        assert (await gateway.get_payment(merchant.id, pid)).status.value == "refunded"
    finally:
        await gateway.close()


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("read"), st.sampled_from(["p1", "p2"]), st.integers(0, 3)),
            st.tuples(st.just("update"), st.sampled_from(["p1", "p2"]), st.just(0)),
            st.tuples(st.just("yield"), st.just(""), st.integers(1, 3)),
        ),
        max_size=50,
    )
)
def test_concurrent_reads_never_see_a_value_older_than_their_start(ops):
    async def scenario():
        clock = ManualClock()
        version = {"p1": 0, "p2": 0}
        delays = {}

        async def load(key):
            seen = version[key]  # read the row, then take a while to return it
            for _ in range(delays.get(key, 0)):
                await asyncio.sleep(0)
            return seen

        cache = MultiLevelCache(load, clock, l1_ttl_s=1_000, l2_ttl_s=1_000)
        reads = []
        for op, key, n in ops:
            if op == "read":
                delays[key] = n
                reads.append((version[key], asyncio.create_task(cache.get(key))))
            elif op == "update":
                version[key] += 1
                await cache.invalidate(key)
            else:
                for _ in range(n):
                    await asyncio.sleep(0)
        for floor, task in reads:
            assert await task >= floor, "a read returned a value invalidated before it began"
        for key in version:
            assert await cache.get(key) == version[key], "caches hold the latest value at rest"

    asyncio.run(scenario())
