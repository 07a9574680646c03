"""The synthetic day is deterministic, skewed like a real graph, and fan-out stays bounded."""

import asyncio

import numpy as np
import pytest

from razorlab.errors import ValidationError
from razorlab.social.timelines.fanout import FanoutWorkers
from razorlab.social.timelines.strategies import FANOUT_BATCH, Timelines
from razorlab.social.timelines.tweets import SocialGraph
from razorlab.social.timelines.workload import (
    build_service,
    fanout_lag,
    make_workload,
    replay,
    threshold_costs,
)


@pytest.fixture(scope="module")
def workload():
    return make_workload(2_000, posts=400, reads=400, seed=7)


def test_same_seed_same_day(workload):
    again = make_workload(2_000, posts=400, reads=400, seed=7)
    assert np.array_equal(workload.follower, again.follower)
    assert workload.events.equals(again.events)


def test_graph_has_no_self_or_duplicate_follows_and_is_skewed(workload):
    assert not np.any(workload.follower == workload.followee)
    pairs = workload.follower * workload.n_users + workload.followee
    assert np.unique(pairs).size == pairs.size
    counts = workload.follower_counts
    assert counts.max() > 20 * np.median(counts), "the biggest account should dwarf the median"


def test_replay_costs_order_the_strategies(workload):
    results = {s: replay(build_service(workload, s), workload) for s in ("push", "pull", "hybrid")}
    assert results["pull"]["writes_per_post"] == 0
    assert results["hybrid"]["writes_per_post"] < results["push"]["writes_per_post"]
    assert results["hybrid"]["sources_per_read"] < results["pull"]["sources_per_read"]
    assert results["hybrid"]["stored_entries"] < results["push"]["stored_entries"]


def test_threshold_costs_move_in_opposite_directions(workload):
    costs = threshold_costs(workload, [10, 100, 1_000])
    assert costs["hybrid_writes_per_post"].is_monotonic_increasing
    assert costs["hybrid_lists_per_read"].is_monotonic_decreasing
    assert (costs["hybrid_writes_per_post"] <= costs["push_writes_per_post"]).all()


def test_fanout_lag_queues_batches_behind_each_other():
    lags = fanout_lag(np.array([0.0, 0.0]), np.array([8, 1]), workers=4, batch_s=1.0)
    assert list(lags) == [2.0, 3.0]


@pytest.mark.parametrize("fraction", [1.0, 1e-6])
def test_a_day_with_everyone_or_nobody_active_still_has_its_reads(fraction):
    day = make_workload(200, active_fraction=fraction, posts=10, reads=50)
    assert (day.events["kind"] == "read").sum() == 50


def test_bad_workload_parameters_are_rejected():
    with pytest.raises(ValidationError):
        make_workload(1)
    with pytest.raises(ValidationError):
        build_service(make_workload(50, posts=5, reads=5), "broadcast")


async def test_fanout_workers_bound_the_queue_and_deliver_everything():
    n = 3 * FANOUT_BATCH + 5
    graph = SocialGraph.from_follows(n + 1, np.arange(1, n + 1), np.zeros(n, dtype=int))
    service = Timelines.create("push", graph)
    async with FanoutWorkers(service, workers=2, queue_size=2) as fanout:
        tweets = [await fanout.post(0, f"t{i}") for i in range(3)]
        await fanout.drain()
    assert fanout.peak_queued <= 2
    assert fanout.batches_done == 3 * 4
    assert [t.id for t in service.home(n, 3)] == [t.id for t in reversed(tweets)]
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_a_failing_delivery_is_raised_on_exit_not_swallowed_or_hung():
    graph = SocialGraph.from_follows(3, np.array([1, 2]), np.array([0, 0]))
    service = Timelines.create("push", graph)

    def broken(tweet, batch):
        raise RuntimeError("timeline store down")

    service.strategy.deliver = broken
    with pytest.raises(RuntimeError, match="store down"):
        async with FanoutWorkers(service, workers=1, queue_size=1) as fanout:
            await fanout.post(0, "a")
            await fanout.post(0, "b")
    assert len(fanout.failures) == 2, "the worker survived the first failure"
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_queued_batches_live_only_in_memory_until_a_worker_takes_them():
    n = FANOUT_BATCH + 1
    graph = SocialGraph.from_follows(n + 1, np.arange(1, n + 1), np.zeros(n, dtype=int))
    service = Timelines.create("push", graph)
    fanout = FanoutWorkers(service, workers=1, queue_size=8)  # workers not started: a "crash"
    tweet = await fanout.post(0, "lost")
    assert fanout.queued == 2, "the author and n followers make two batches, both only queued"
    assert service.strategy.entries(n) == 0, "no follower got the tweet"
    async with fanout:  # start the workers: the queue drains
        pass
    assert fanout.queued == 0 and service.home_ids(n, 1) == [tweet.id]
