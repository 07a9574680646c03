"""Injected time and seeded randomness make every run repeatable."""

import asyncio

import pytest

from razorlab.clock import EPOCH_2026, Clock, ManualClock, SystemClock
from razorlab.errors import ValidationError
from razorlab.rand import py_random, rng


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(), Clock)


def test_manual_clock_moves_only_when_told(clock):
    assert clock.now() == EPOCH_2026
    clock.advance(90)
    assert clock.now() == EPOCH_2026 + 90
    assert clock.datetime().isoformat() == "2026-01-01T00:01:30+00:00"
    with pytest.raises(ValidationError):
        clock.advance(-1)


async def test_sleepers_wake_in_deadline_order(clock):
    woke = []

    async def sleeper(name, seconds):
        await clock.sleep(seconds)
        woke.append((name, clock.now() - EPOCH_2026))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("b", 20), ("a", 10), ("c", 30)]]
    await asyncio.sleep(0)
    assert clock.pending_sleepers == 3
    await clock.run_for(25)
    assert woke == [("a", 10), ("b", 20)]
    await clock.run_for(10)
    await asyncio.gather(*tasks)
    assert woke[-1] == ("c", 30)


async def test_a_task_that_sleeps_repeatedly_sees_every_tick(clock):
    ticks = []

    async def ticker():
        for _ in range(5):
            await clock.sleep(60)
            ticks.append(clock.now() - EPOCH_2026)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await clock.run_for(300)
    await task
    assert ticks == [60, 120, 180, 240, 300]


def test_same_seed_and_stream_give_the_same_numbers():
    assert (rng(7, "bank").integers(0, 10**9, 5) == rng(7, "bank").integers(0, 10**9, 5)).all()
    assert py_random(7, "x").random() == py_random(7, "x").random()


def test_streams_are_independent():
    assert rng(7, "bank").random() != rng(7, "fraud").random()
    assert rng(7, "bank").random() != rng(8, "bank").random()


@pytest.mark.parametrize("seed", [-1, 1.5, "42", None, True])
def test_bad_seeds_are_rejected(seed):
    with pytest.raises(ValidationError, match="seed"):
        rng(seed)
