"""Python analogues: bounded pools and semaphores cap tasks in flight; interning shares strings."""

import pytest

from razorlab.errors import StateError, ValidationError
from razorlab.goruntime import ObjectPool, compare_strategies, intern_savings, run_strategy


async def test_all_strategies_do_the_same_work_but_bounded_ones_cap_tasks_and_memory():
    runs = {r.strategy: r for r in await compare_strategies(3000, limit=50)}
    assert len({r.result for r in runs.values()}) == 1, "same jobs, same result"
    assert runs["unbounded"].peak_tasks == 3000
    assert runs["worker_pool"].peak_tasks <= 50
    assert runs["semaphore"].peak_tasks <= 50
    assert runs["unbounded"].peak_bytes > 5 * runs["worker_pool"].peak_bytes


async def test_throughput_mode_skips_tracemalloc():
    run = await run_strategy("worker_pool", 500, limit=10, trace_memory=False)
    assert run.peak_bytes == 0 and run.result == sum(range(500))


async def test_bad_strategy_or_sizes_raise():
    with pytest.raises(ValidationError):
        await run_strategy("threads", 10)
    with pytest.raises(ValidationError):
        await run_strategy("worker_pool", 0)


def test_interning_equal_strings_saves_memory():
    saved = intern_savings(50, 200)
    assert saved["saved_bytes"] > saved["interned_bytes"]


def test_object_pool_reuses_released_objects_and_rejects_double_release():
    pool = ObjectPool(bytearray, lambda b: b.clear(), max_idle=2)
    a = pool.acquire()
    a.extend(b"dirty")
    pool.release(a)
    b = pool.acquire()
    assert b is a and b == bytearray(), "reused and reset"
    assert (pool.created, pool.reused) == (1, 1)
    pool.release(b)
    with pytest.raises(StateError):
        pool.release(b)


async def test_a_callers_tracemalloc_session_is_left_running():
    import tracemalloc

    tracemalloc.start()
    try:
        run = await run_strategy("worker_pool", 200, limit=10)
        assert run.peak_bytes > 0 and tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_sync_pool_objects_survive_one_gc_in_the_victim_cache_and_go_after_two():
    from razorlab.goruntime import SyncPool, sync_pool_survival

    pool = SyncPool(bytearray)
    buf = bytearray(b"x")
    pool.put(buf)
    pool.gc()
    assert pool.victim == [buf] and pool.primary == []
    assert pool.get() is buf, "served from the victim cache after one GC"
    pool.put(buf)
    pool.gc()
    pool.gc()
    assert pool.get() is not buf and (pool.created, pool.dropped) == (1, 1)
    table = sync_pool_survival(objects=4, max_gcs=3)
    assert table["reused"].tolist() == [4, 4, 0, 0]
    assert table["allocated"].tolist() == [0, 0, 4, 4]


def test_map_interner_grows_without_bound_bounded_and_weak_tables_do_not():
    from razorlab.goruntime import MapInterner, WeakInterner, interner_growth

    table = interner_growth(5_000, in_flight=50, max_entries=300, rows=5)
    assert table["map"].tolist() == [1_000, 2_000, 3_000, 4_000, 5_000], (
        "one entry per key, forever"
    )
    assert (table["bounded_map"] == 300).all()
    assert (table["weak_handles"] == 50).all(), "only handles someone still holds"
    lru = MapInterner(max_entries=2)
    a = lru.intern("".join(["a", "b"]))
    assert lru.intern("".join(["a", "b"])) is a, "equal values share the first copy"
    lru.intern("c"), lru.intern("d")
    assert len(lru) == 2 and lru.evicted == 1
    weak = WeakInterner()
    h = weak.make("inr")
    assert weak.make("inr") is h and len(weak) == 1
    del h
    assert len(weak) == 0, "dropped once nobody holds the handle"
    with pytest.raises(ValidationError):
        MapInterner(max_entries=0)
