"""The fleet-wide token bucket on Redis decides exactly as the in-process one, shares one bucket
between processes, and reports an unreachable server as a typed error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.backends import (
    BackendUnavailable,
    RedisRateLimiter,
    rate_limiter,
)
from razorlab.infra.ratelimit import RateLimited, RateLimiter
from razorlab.infra.services import start_redis, stop_redis
from razorlab.rand import py_random


@pytest.fixture
def namespace(request) -> str:
    return f"t-{os.getpid()}-{request.node.name}".replace("[", "-").replace("]", "")


@pytest.fixture
def redis_limiter(redis_url, clock, namespace):
    def make(**kwargs) -> RedisRateLimiter:
        limiter = RedisRateLimiter(clock, redis_url, namespace=namespace, **kwargs)
        made.append(limiter)
        return limiter

    made: list[RedisRateLimiter] = []
    yield make
    made[0].clear()
    for limiter in made:
        limiter.close()


def _arrivals(seed: int, n: int) -> list[tuple[float, str, float]]:
    """(gap in seconds, merchant, cost): bursts and lulls over three merchants."""
    rng = py_random(seed, "redis-ratelimit")
    out = []
    for _ in range(n):
        gap = rng.choice([0.0, 0.001, 0.013, 0.25, 1.7])
        out.append((gap, rng.choice(["m_a", "m_b", "m_c"]), rng.choice([1.0, 1.0, 2.0, 3.5])))
    return out


def test_redis_bucket_makes_the_in_process_decisions_bit_for_bit(redis_limiter, clock):
    local = RateLimiter(clock, rate_per_s=7.0, burst=10.0)
    shared = redis_limiter(rate_per_s=7.0, burst=10.0)
    for limiter in (local, shared):
        limiter.set_limit("m_c", rate_per_s=2.5, burst=4.0)
    for i, (gap, key, cost) in enumerate(_arrivals(seed=18, n=600)):
        clock.advance(gap)
        if i == 300:  # a plan change mid-run: refill, then clip, on both
            for limiter in (local, shared):
                limiter.set_limit("m_a", rate_per_s=3.0, burst=5.0)
        expected, got = local.try_acquire(key, cost), shared.try_acquire(key, cost)
        assert got == expected, f"arrival {i}: Redis decided {got}, in-process {expected}"
        assert shared.tokens(key) == local.tokens(key)
    assert shared.snapshot()["admitted"] == local.admitted
    assert 0 < local.rejected < 600, "the arrivals exercise both admits and refusals"
    assert len(shared) == 3


def test_two_limiters_share_one_bucket(redis_limiter, clock):
    """Two gateway processes, one merchant: together they get one burst, not two."""
    a, b = redis_limiter(rate_per_s=1.0, burst=5.0), redis_limiter(rate_per_s=1.0, burst=5.0)
    decisions = [(a if i % 2 else b).try_acquire("m_1").allowed for i in range(10)]
    assert decisions == [True] * 5 + [False] * 5
    clock.advance(2.0)
    assert a.try_acquire("m_1").allowed and b.try_acquire("m_1").allowed
    with pytest.raises(RateLimited) as refused:
        a.acquire("m_1")
    assert refused.value.retry_after_header == "1"


_WORKER = """
import sys
from pathlib import Path
from razorlab.clock import ManualClock
from razorlab.infra.backends import RedisRateLimiter
limiter = RedisRateLimiter(ManualClock(), sys.argv[1], rate_per_s=1.0, burst=150.0,
                           namespace=sys.argv[2])
print(sum(limiter.try_acquire("m_hot").allowed for _ in range(100)))
"""


def test_processes_racing_for_the_last_tokens_never_overspend(redis_limiter, redis_url, namespace):
    """Two real processes send 100 requests each at a frozen clock: exactly 150 get through."""
    redis_limiter()  # cleans the namespace afterwards
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, redis_url, namespace],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    admitted = [int(w.communicate()[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(admitted) == 150, f"admitted {admitted}: the bucket held 150 tokens"


def test_bad_input_is_refused_and_stores_nothing(redis_limiter, redis_url):
    limiter = redis_limiter(rate_per_s=1.0, burst=3.0)
    for cost in (0, -1, True, "1", 4):
        with pytest.raises(ValidationError):
            limiter.try_acquire("m_1", cost)
    for key in ("", None, 1.5):
        with pytest.raises(ValidationError):
            limiter.try_acquire(key)
    with pytest.raises(ValidationError):
        limiter.set_limit("m_1", rate_per_s=0, burst=3)
    with pytest.raises(ValidationError):
        RedisRateLimiter(ManualClock(), redis_url, namespace="has*glob")
    with pytest.raises(ValidationError):
        RedisRateLimiter(ManualClock(), "http://127.0.0.1:1")
    assert len(limiter) == 0 and limiter.snapshot()["rejected"] == 0


def test_unreachable_redis_is_a_typed_error_and_recovery_is_automatic(private_redis, clock):
    url, directory, port = private_redis
    limiter = RedisRateLimiter(clock, url, rate_per_s=1.0, burst=2.0, namespace="outage")
    assert limiter.try_acquire("m_1").allowed
    stop_redis(directory)
    with pytest.raises(BackendUnavailable) as down:
        limiter.try_acquire("m_1")
    assert down.value.http_status == 503 and down.value.code == "SERVER_ERROR"
    assert str(port) in down.value.description
    assert limiter.admitted == 1 and limiter.rejected == 0, "nothing counted"
    with pytest.raises(BackendUnavailable):
        limiter.tokens("m_1")
    start_redis(directory, port=port)  # an empty server: scripts are gone, EVAL falls back
    before = RedisRateLimiter._script.fallbacks
    assert limiter.try_acquire("m_1").allowed
    assert RedisRateLimiter._script.fallbacks == before + 1
    assert limiter.try_acquire("m_1").allowed  # the script is cached again: EVALSHA
    assert RedisRateLimiter._script.fallbacks == before + 1
    limiter.close()


def test_url_picks_the_backend_and_no_url_keeps_the_embedded_one(redis_url, clock, monkeypatch):
    monkeypatch.delenv("RAZORLAB_REDIS_URL", raising=False)
    embedded = rate_limiter(clock, rate_per_s=5, burst=5)
    assert type(embedded) is RateLimiter
    shared = rate_limiter(clock, url=redis_url, rate_per_s=5, burst=5, namespace="factory")
    assert isinstance(shared, RedisRateLimiter) and shared.limits("x") == (5.0, 5.0)
    shared.close()
    monkeypatch.setenv("RAZORLAB_REDIS_URL", redis_url)
    from_env = rate_limiter(clock, namespace="factory")
    assert isinstance(from_env, RedisRateLimiter)
    from_env.close()
