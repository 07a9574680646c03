"""Shared fixtures: the repository root and a simulated clock."""

from pathlib import Path

import pytest

from razorlab.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis `make services` started (or ``RAZORLAB_REDIS_URL``); skip without one, fail in CI."""
    import os

    from razorlab.infra.services import recorded_redis_url

    url = recorded_redis_url(ROOT)
    problem = None
    if url is None:
        problem = "no Redis: run `make services` (or set RAZORLAB_REDIS_URL)"
    else:
        import redis

        try:
            with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
                client.ping()
        except (redis.exceptions.RedisError, OSError) as exc:
            problem = f"Redis at {url} does not answer ({exc}): run `make services`"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} — CI must run the backend tests, not skip them")
        pytest.skip(problem)
    return url
