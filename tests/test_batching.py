"""Coalescing: concurrent submissions share batches, each caller gets its own answer."""

import asyncio

import pytest

from razorlab.batching import Coalescer


def _recorder():
    seen: list[list[int]] = []

    async def process(items: list[int]):
        seen.append(items)
        await asyncio.sleep(0)
        return [(False, ValueError(i)) if i < 0 else (True, i * 2) for i in items]

    return seen, process


async def test_callers_arriving_together_share_a_batch_and_keep_their_own_answers():
    seen, process = _recorder()
    c = Coalescer(process)
    results = await asyncio.gather(*(c.submit(i) for i in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError), "one item's failure is its caller's alone"
    assert seen == [[1, -2, 3]] and c.batches == 1 and c.completed == 2


async def test_max_batch_splits_and_the_rest_goes_in_the_next_batch():
    seen, process = _recorder()
    c = Coalescer(process, max_batch=2)
    assert await asyncio.gather(*(c.submit(i) for i in range(5))) == [0, 2, 4, 6, 8]
    assert seen == [[0, 1], [2, 3], [4]]


async def test_a_failing_batch_fails_every_caller_in_it():
    async def broken(items):
        raise RuntimeError("store down")

    c = Coalescer(broken)
    with pytest.raises(RuntimeError, match="store down"):
        await c.submit(1)
    await c.drain()
    assert c.completed == 0
