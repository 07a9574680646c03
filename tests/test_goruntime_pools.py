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
