"""Shared fixtures: the repository root and a simulated clock."""

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from razorlab.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
_SCHEMA_NUMBERS = itertools.count()  # PostgreSQL ledger schemas, unique per process


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _service_url(what: str, env: str, url: str | None, probe) -> str:
    """``url`` if ``probe(url)`` succeeds; else skip (fail under CI) saying to `make services`."""
    problem = None
    if url is None:
        problem = f"no {what}: run `make services` (or set {env})"
    else:
        try:
            probe(url)
        except Exception as exc:  # whatever the client raises: report it
            problem = f"{what} at {url} does not answer ({exc}): run `make services`"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} — CI must run the backend tests, not skip them")
        pytest.skip(problem)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis `make services` started (or ``RAZORLAB_REDIS_URL``); skip without one, fail in CI."""
    from razorlab.infra.services import recorded_redis_url

    def ping(url: str) -> None:
        import redis

        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()

    return _service_url("Redis", "RAZORLAB_REDIS_URL", recorded_redis_url(ROOT), ping)


@pytest.fixture
def private_redis(redis_url, tmp_path):
    """``(url, directory, port)`` of a redis-server of this test's own, which it may stop and
    restart (``razorlab.infra.services.start_redis``/``stop_redis``); stopped afterwards."""
    from razorlab.infra.services import free_port, start_redis, stop_redis

    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: CI must run `make services`")
        pytest.skip("redis-server is not installed: run `make services`")
    directory = tmp_path / "redis"
    port = free_port()
    url = start_redis(directory, port=port)
    yield url, directory, port
    stop_redis(directory)


@pytest.fixture(scope="session")
def database_url() -> str:
    """The PostgreSQL `make services` started (or ``RAZORLAB_DATABASE_URL``); skip, fail in CI."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from razorlab.infra.services import recorded_database_url

    def ping(url: str) -> None:
        import asyncpg

        async def connect() -> None:
            await (await asyncpg.connect(url, timeout=2)).close()

        # In a thread of its own: the fixture may be set up while an event loop runs.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(lambda: asyncio.run(connect())).result()

    url = recorded_database_url(ROOT)
    return _service_url("PostgreSQL", "RAZORLAB_DATABASE_URL", url, ping)


@pytest.fixture(params=["sqlite", "postgres"])
async def open_ledger(request):
    """``await open_ledger(clock)``: a fresh, empty ledger on SQLite (in memory) or PostgreSQL.

    A PostgreSQL ledger gets a schema of its own, dropped after the test; tests close ledgers.
    """
    from razorlab.settlement import Ledger

    if request.param == "sqlite":
        yield lambda clock: Ledger.open(clock=clock)
        return
    import asyncpg

    from razorlab.infra.backends.postgres_ledger import PostgresLedger

    url = request.getfixturevalue("database_url")
    schemas: list[str] = []

    def open_postgres(clock):
        schemas.append(f"test_{os.getpid()}_{next(_SCHEMA_NUMBERS)}")
        return PostgresLedger.open(url, clock=clock, schema=schemas[-1], pool_size=2)

    yield open_postgres
    conn = await asyncpg.connect(url)
    for schema in schemas:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def payment_db(request):
    """``Gateway.open``'s database options: ``{}`` (SQLite in memory), or a PostgreSQL URL and
    a schema of this test's own, dropped after the test (gateways it opens share it)."""
    if request.param == "sqlite":
        yield {}
        return
    import asyncpg

    url = request.getfixturevalue("database_url")
    schema = f"test_{os.getpid()}_{next(_SCHEMA_NUMBERS)}"
    yield {"path": url, "schema": schema}
    conn = await asyncpg.connect(url)
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()


@pytest.fixture
def open_gateway(payment_db):
    """``await open_gateway(clock=…, **options)``: ``Gateway.open`` on SQLite or PostgreSQL
    (see ``payment_db``); tests close the gateways they open."""
    from functools import partial

    from razorlab.payments.gateway import Gateway

    return partial(Gateway.open, **payment_db)


@pytest.fixture
def private_postgres(database_url):
    """``(directory, port, url)`` of a PostgreSQL of this test's own (under /tmp, which the
    postgres user can reach), for tests that crash and restart it; stopped and removed after."""
    from razorlab.infra.services import free_port, start_postgres, stop_postgres

    directory = Path(tempfile.mkdtemp(prefix="razorlab-pg-"))
    port = free_port()
    try:
        yield directory, port, start_postgres(directory, port=port)
    finally:
        stop_postgres(directory)
        shutil.rmtree(directory, ignore_errors=True)
