"""Timelines on real Redis sorted sets answer exactly as the in-memory strategies, in few round
trips, and report an unreachable server as a typed error."""

import itertools
import os

import pytest
import test_timeline_strategies as memory_tests
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.infra.backends import BackendUnavailable
from razorlab.infra.services import start_redis, stop_redis
from razorlab.social.timelines.redis_strategies import (
    RedisTimelines,
    build_redis_service,
)
from razorlab.social.timelines.workload import build_service, make_workload

KINDS = ["pull", "push", "hybrid"]
_namespaces = itertools.count()


def _make(url: str, kind: str, cap: int = 5) -> RedisTimelines:
    """A Redis-backed service like the in-memory tests' ``_service``, in a fresh namespace."""
    options = (
        {"celebrity_followers": 2, "inactive_after_s": 3 * memory_tests.DAY_S}
        if kind == "hybrid"
        else {}
    )
    namespace = f"t-{os.getpid()}-{next(_namespaces)}"
    service = RedisTimelines.create(
        kind, memory_tests.N_USERS, cap=cap, url=url, namespace=namespace, **options
    )
    service.clear()
    return service


@pytest.fixture
def redis_service(redis_url):
    """Builds Redis-backed services; empties and closes them after the test."""
    made: list[RedisTimelines] = []

    def make(kind: str, cap: int = 5) -> RedisTimelines:
        made.append(_make(redis_url, kind, cap))
        return made[-1]

    yield make
    for service in made:
        service.clear()
        service.close()


def _keys(service: RedisTimelines) -> int:
    return sum(1 for _ in service.strategy.client.scan_iter(match=f"{service.strategy.prefix}*"))


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(memory_tests.action, max_size=50))
def test_redis_strategies_return_the_in_memory_timelines(redis_url, ops):
    reference = memory_tests._service("pull")
    services = {kind: _make(redis_url, kind) for kind in KINDS}
    try:
        for op in ops:
            expected = memory_tests._apply(reference, op)
            for kind, service in services.items():
                assert memory_tests._apply(service, op) == expected, (kind, op)
        for reader in range(memory_tests.N_USERS):
            expected = memory_tests._apply(reference, ("read", reader, 5))
            for service in services.values():
                assert memory_tests._apply(service, ("read", reader, 5)) == expected
    finally:
        for service in services.values():
            service.clear()
            service.close()


@pytest.mark.parametrize(
    ("test", "kinds"),
    [
        ("test_deleted_tweets_and_their_retweets_disappear", KINDS),
        ("test_home_is_the_timeline_service_ids_hydrated", KINDS),
        ("test_home_timelines_never_exceed_the_cap", ["push", "hybrid"]),
        ("test_a_truncated_timeline_short_after_deletes_is_rebuilt", ["push", "hybrid"]),
    ],
)
def test_the_in_memory_expectations_hold_on_redis(test, kinds, redis_service, monkeypatch):
    monkeypatch.setattr(memory_tests, "_service", redis_service)
    for kind in kinds:
        getattr(memory_tests, test)(kind)


def test_a_backfill_on_redis_counts_the_entries_it_wrote(redis_service, monkeypatch):
    monkeypatch.setattr(memory_tests, "_service", redis_service)
    memory_tests.test_a_backfill_into_a_full_timeline_counts_the_entries_it_wrote()


def test_bad_input_gets_the_same_errors_and_stores_nothing_in_redis(redis_service, monkeypatch):
    monkeypatch.setattr(memory_tests, "_service", redis_service)
    test = memory_tests.test_bad_input_gets_a_clear_error_and_changes_nothing
    (cases,) = [m.args[1] for m in test.pytestmark if m.name == "parametrize"]
    for call, error, code in cases:
        service = redis_service("push")
        with pytest.raises(error) as err:
            call(service)
        assert err.value.code == code
        assert _keys(service) == 0, f"{code}: nothing may reach Redis"


def test_bad_configuration_is_a_validation_error(redis_url, monkeypatch):
    monkeypatch.delenv("RAZORLAB_REDIS_URL", raising=False)
    for kwargs in ({}, {"url": "http://127.0.0.1:1"}, {"url": redis_url, "namespace": "a*b"}):
        with pytest.raises(ValidationError):
            RedisTimelines.create("push", 3, **kwargs)
    with pytest.raises(ValidationError):
        RedisTimelines.create("fanout", 3, url=redis_url)


@pytest.mark.parametrize("kind", KINDS)
def test_a_seeded_day_gives_the_same_timelines_on_both_backends(kind, redis_url):
    """Every read of a small seeded day, then every user's final page, compared exactly."""
    workload = make_workload(400, mean_followees=10, posts=300, reads=300, seed=7)
    options = {"cap": 20, "celebrity_followers": 20}
    memory = build_service(workload, kind, **options)
    redis = build_redis_service(
        workload, kind, url=redis_url, namespace=f"day-{os.getpid()}-{kind}", **options
    )
    try:
        reads = {"memory": [], "redis": []}
        start = {id(s): s.strategy.clock.now() for s in (memory, redis)}
        for t, event, user in workload.events.itertuples(index=False):
            for name, service in (("memory", memory), ("redis", redis)):
                service.strategy.clock.set(start[id(service)] + t)
                if event == "post":
                    service.post(int(user), "hello")
                else:
                    reads[name].append(service.home_ids(int(user), 10))
        assert reads["redis"] == reads["memory"]
        for user in range(workload.n_users):
            assert redis.home_ids(user, 20) == memory.home_ids(user, 20), user
        mem, red = memory.strategy.counters, redis.strategy.counters
        for field in ("timeline_writes", "fanout_batches", "rebuilds", "reads"):
            assert getattr(red, field) == getattr(mem, field), field
        assert redis.strategy.stored_entries == memory.strategy.stored_entries
        if kind != "pull":
            assert mem.timeline_writes > 0, "the day pushes"
            sizes = [redis.strategy.entries(u) for u in range(workload.n_users)]
            assert max(sizes) == 20, "capped at 20 entries"
        if kind == "hybrid":
            assert mem.rebuilds > 0, "returning readers' timelines are rebuilt"
    finally:
        redis.clear()
        redis.close()


def test_each_post_batch_and_each_read_is_one_round_trip(redis_service):
    push, pull, hybrid = (redis_service(kind) for kind in ("push", "pull", "hybrid"))
    for service in (push, pull, hybrid):
        for follower in range(1, 6):
            service.follow(follower, 0)  # 0 has 5 followers: a celebrity for the hybrid
            service.follow(0, follower)
        service.home(0, 1)  # the hybrid pushes to readers it has seen
        service.post(0, "to five followers")
        for follower in range(1, 6):
            service.post(follower, "to one follower")
        before = service.strategy.counters.round_trips
        assert len(service.home_ids(0, 5)) == 5
        assert service.strategy.counters.round_trips == before + 1, service.strategy.name
    # push: one pipeline per post (author list, 5 followers' ZADD + ZREMRANGEBYRANK)
    assert push.strategy.counters.timeline_writes == 6 + 5 * 2
    assert pull.strategy.counters.timeline_writes == 0
    assert hybrid.strategy.counters.timeline_writes == 5  # only to 0, the one active reader


@pytest.mark.parametrize("kind", ["pull", "push"])
def test_a_page_emptied_by_deletes_is_read_further(kind, redis_service):
    service = redis_service(kind, cap=10)
    service.follow(1, 0)
    tweets = [service.post(0, f"tweet {i}").id for i in range(6)]
    for tweet_id in tweets[-3:]:
        service.delete(0, tweet_id)
    before = service.strategy.counters.round_trips
    assert service.home_ids(1, 2) == [tweets[2], tweets[1]]
    assert service.strategy.counters.round_trips == before + 3  # pages 6-5, 4-3, 2-1
    assert service.strategy.counters.read_items == 2


@pytest.mark.parametrize("kind", KINDS)
def test_unreachable_redis_is_a_typed_error_and_a_failed_post_never_appears(kind, private_redis):
    url, directory, port = private_redis
    service = RedisTimelines.create(kind, 3, url=url, namespace="outage")
    service.follow(1, 0)
    service.home(1, 1)
    first = service.post(0, "before").id
    assert service.home_ids(1, 5) == [first]
    stop_redis(directory)
    with pytest.raises(BackendUnavailable) as down:
        service.post(0, "during")
    assert down.value.http_status == 503 and down.value.code == "SERVER_ERROR"
    assert str(port) in down.value.description
    assert not service.store.visible(len(service.store)), "a post that raised is withdrawn"
    with pytest.raises(BackendUnavailable):
        service.home_ids(1, 5)
    start_redis(directory, port=port)  # an empty server: the timelines are a cache
    after = service.post(0, "after").id
    assert service.home_ids(1, 5) == [after]
    service.close()


def test_an_error_reply_is_a_typed_error_and_the_connection_stays_in_step(redis_service):
    """A ``WRONGTYPE`` reply mid-pipeline surfaces; the replies after it do not leak into the
    next round trip, in a pipeline or in ``MULTI``/``EXEC``."""
    service = redis_service("pull")
    strategy = service.strategy
    service.follow(1, 0)
    service.follow(1, 2)
    first = service.post(0, "first").id
    strategy.client.set(strategy.author_key(2), "not a sorted set")
    with pytest.raises(BackendUnavailable) as err:
        service.home_ids(1, 5)
    assert "WRONGTYPE" in err.value.description
    strategy.client.delete(strategy.author_key(2))
    assert service.home_ids(1, 5) == [first]
    key = strategy.home_key(9)
    for commands in ([("ZADD", key, 1, 1), ("ZADD", key)], [("ZADD", key, "x", 1)]):
        with pytest.raises(BackendUnavailable):  # refused when queued, failed in EXEC
            strategy._run(commands, transaction=True)
    assert strategy._run([("DEL", key), ("ZADD", key, 3, 3)], transaction=True) == [0, 1]
    assert service.home_ids(1, 5) == [first]


def test_a_restart_between_calls_is_not_an_error_and_close_releases_the_connection(
    private_redis,
):
    """The held connection goes stale when Redis restarts; the next call reconnects once."""
    url, directory, port = private_redis
    service = RedisTimelines.create("hybrid", 3, url=url, namespace="restart")
    service.follow(1, 0)
    service.home(1, 1)
    assert service.home_ids(1, 5) == []
    stop_redis(directory)
    start_redis(directory, port=port)
    tweet = service.post(0, "after the restart").id
    assert service.home_ids(1, 5) == [tweet]
    pool = service.strategy.client.connection_pool
    service.close()
    assert service.strategy._conn is None and not pool._in_use_connections
