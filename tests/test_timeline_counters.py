"""Hot like counters: one row saturates; shards and batches divide the load; shards sum exactly."""

import math

import pytest

from razorlab.errors import ValidationError
from razorlab.social.timelines.counters import ShardedCounter, hot_counter, row_wait_s


def test_one_row_saturates_when_the_rate_passes_one_over_the_write_time():
    assert row_wait_s(999, 0.001) < math.inf
    assert row_wait_s(1_000, 0.001) == math.inf, "rho = 1: the queue grows forever"
    assert row_wait_s(500, 0.001) == pytest.approx(0.5 * 0.001 / (2 * 0.5)), "M/D/1 mean wait"
    with pytest.raises(ValidationError):
        row_wait_s(10, 0)


def test_shards_and_batches_divide_the_rate_each_row_sees():
    table = hot_counter(10_000, {"one": (1, 1), "shards": (16, 1), "batch": (1, 100)})
    assert table.loc["one", "mean wait (ms)"] == "unbounded"
    assert table.loc["shards", "writes/s per row"] == 625
    assert table.loc["batch", "writes/s per row"] == 100
    assert table.loc["batch", "row utilisation"] == pytest.approx(0.1)
    with pytest.raises(ValidationError):
        hot_counter(10, {"bad": (0, 1)})


def test_a_sharded_counter_sums_exactly_and_spreads_its_writes():
    counter = ShardedCounter(16, seed=7)
    for _ in range(16_000):
        counter.add()
    counter.add(-1)  # an unlike
    assert counter.value == 15_999
    assert sum(counter.writes) == 16_001
    assert max(counter.writes) < 2 * 16_001 / 16, "no shard is a hotspot"
    with pytest.raises(ValidationError):
        ShardedCounter(0)
