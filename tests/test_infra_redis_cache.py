"""The shared L2 on Redis keeps the L2Store contract, and its fenced fills stop a slow reader in
one process from putting back a status another process has already changed."""

import asyncio
import os

import pytest

from razorlab.errors import ValidationError
from razorlab.infra.backends import BackendUnavailable, RedisL2, l2_store
from razorlab.infra.cache import InMemoryL2, L2Store, MultiLevelCache
from razorlab.infra.services import start_redis, stop_redis


@pytest.fixture
async def stores(redis_url, request):
    """Two clients of one Redis namespace: two gateway processes sharing their L2."""
    namespace = f"t-{os.getpid()}-{request.node.name}".replace("[", "-").replace("]", "")
    a, b = RedisL2(redis_url, namespace=namespace), RedisL2(redis_url, namespace=namespace)
    yield a, b
    await a.clear()
    await a.close()
    await b.close()


class SlowDatabase:
    """Rows by id; ``hold`` makes the next read return the row as it was, then wait."""

    def __init__(self, rows: dict[str, dict]):
        self.rows = rows
        self.reads = 0
        self.hold: asyncio.Event | None = None
        self.read_started = asyncio.Event()

    async def load(self, key):
        self.reads += 1
        row = dict(self.rows[key]) if key in self.rows else None
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.read_started.set()
            await hold.wait()  # the old row is in hand; the world moves on meanwhile
        return row


async def test_redis_l2_keeps_the_store_contract(stores):
    a, b = stores
    assert isinstance(a, L2Store)
    assert await a.get("pay_1") is None
    assert await a.set("pay_1", {"status": "captured", "amount": 50_000}, 30)
    assert await b.get("pay_1") == {"status": "captured", "amount": 50_000}
    ttl_ms = await a.client.pttl(a._keys("pay_1")[0])
    assert 0 < ttl_ms <= 30_000, "the value expires by Redis's own PX"
    await b.delete("pay_1")
    assert await a.get("pay_1") is None
    await a.delete("never_cached")  # deleting nothing is fine, as with InMemoryL2


async def test_a_fill_from_before_an_invalidation_is_refused(stores):
    a, b = stores
    assert await a.get("pay_1") is None  # A misses and starts loading (status authorized)
    await b.delete("pay_1")  # B captures, commits, invalidates
    assert not await a.set("pay_1", {"status": "authorized"}, 60), "stale fill must be fenced"
    assert a.fenced_writes == 1
    assert await b.get("pay_1") is None
    assert await b.set("pay_1", {"status": "captured"}, 60)  # B's miss came after: accepted
    assert await a.get("pay_1") == {"status": "captured"}


async def test_each_reader_task_is_fenced_by_its_own_miss(stores):
    a, b = stores
    first_missed, invalidated = asyncio.Event(), asyncio.Event()

    async def early_reader():
        assert await a.get("pay_1") is None
        first_missed.set()
        await invalidated.wait()
        return await a.set("pay_1", {"status": "authorized"}, 60)

    async def late_reader():
        await invalidated.wait()
        assert await a.get("pay_1") is None
        return await a.set("pay_1", {"status": "captured"}, 60)

    early, late = asyncio.create_task(early_reader()), asyncio.create_task(late_reader())
    await first_missed.wait()
    await b.delete("pay_1")
    invalidated.set()
    assert await asyncio.gather(early, late) == [False, True]
    assert await b.get("pay_1") == {"status": "captured"}


async def _race(l2_a: L2Store, l2_b: L2Store) -> tuple[dict | None, int]:
    """Gateway A reads a payment slowly; gateway B captures and invalidates meanwhile."""
    db = SlowDatabase({"pay_1": {"status": "authorized"}})
    gateway_a = MultiLevelCache(db.load, _Clock(), l2=l2_a)
    gateway_b = MultiLevelCache(db.load, _Clock(), l2=l2_b)
    release = db.hold = asyncio.Event()
    slow_read = asyncio.create_task(gateway_a.get("pay_1"))
    await db.read_started.wait()
    db.rows["pay_1"] = {"status": "captured"}  # B's capture commits...
    await gateway_b.invalidate("pay_1")  # ...then B invalidates, as the design note says
    release.set()
    assert await slow_read == {"status": "authorized"}  # A's own caller saw the old row
    third = MultiLevelCache(db.load, _Clock(), l2=l2_b)  # a third process, L1 empty
    return await third.get("pay_1"), db.reads


class _Clock:
    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - unused
        await asyncio.sleep(0)


async def test_two_processes_cannot_put_a_stale_status_back(stores):
    served, reads = await _race(*stores)
    assert served == {"status": "captured"}, "the slow reader's fill must not reach L2"
    assert stores[0].fenced_writes == 1 and reads == 2


async def test_an_unfenced_shared_store_serves_the_stale_status():
    """The bug the versions fix: one store shared without them keeps A's stale fill."""
    shared = InMemoryL2(_Clock())
    served, _ = await _race(shared, shared)
    assert served == {"status": "authorized"}


async def test_bad_input_is_refused_and_stores_nothing(stores, redis_url):
    a, _ = stores
    with pytest.raises(ValidationError):
        await a.set("pay_1", {"at": object()}, 60)
    with pytest.raises(ValidationError):
        await a.set("pay_1", {"amount": float("nan")}, 60)
    for ttl in (0, -1, float("inf"), "60"):
        with pytest.raises(ValidationError):
            await a.set("pay_1", {"status": "captured"}, ttl)
    for key in ("", None, ("pay", 1)):
        with pytest.raises(ValidationError):
            await a.get(key)
    with pytest.raises(ValidationError):
        RedisL2(redis_url, namespace="a*b")
    assert [k async for k in a.client.scan_iter(match=f"{a.prefix}*")] == []


async def test_unreachable_redis_is_a_typed_error_and_recovery_is_automatic(private_redis):
    url, directory, port = private_redis
    store = RedisL2(url, namespace="outage")
    assert await store.set("pay_1", {"status": "captured"}, 60)
    stop_redis(directory)
    for call in (store.get("pay_1"), store.set("pay_1", {}, 60), store.delete("pay_1")):
        with pytest.raises(BackendUnavailable) as down:
            await call
        assert down.value.http_status == 503 and str(port) in down.value.description
    start_redis(directory, port=port)  # empty again (no persistence): a miss, not an error
    assert await store.get("pay_1") is None
    assert await store.set("pay_1", {"status": "captured"}, 60)
    await store.close()


async def test_url_picks_the_backend_and_no_url_keeps_the_embedded_one(redis_url, monkeypatch):
    monkeypatch.delenv("RAZORLAB_REDIS_URL", raising=False)
    assert type(l2_store(_Clock())) is InMemoryL2
    shared = l2_store(_Clock(), url=redis_url, namespace="factory")
    assert isinstance(shared, RedisL2)
    await shared.close()
