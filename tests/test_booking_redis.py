"""Seat holds on a real Redis: the seed's race reproduced, the Lua hold script, faults.

Every test here needs the Redis `make services` started (``redis_url``: skipped locally
without one, failed under CI); the fault test runs a private server it stops and restarts.
"""

import asyncio
from collections import defaultdict
from uuid import uuid4

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.infra.backends.redis_conn import BackendUnavailable
from razorlab.infra.services import start_redis, stop_redis
from razorlab.rand import py_random
from razorlab.social.booking import (
    HoldExpired,
    HoldStatus,
    NotHolder,
    SeatsUnavailable,
    StaleToken,
)
from razorlab.social.booking.redis_holds import RedisSeatHolds, RedisSeatStore
from razorlab.social.booking.redis_race import (
    STORED_FENCE,
    STORED_LOSS,
    STORED_RACE,
    find_redis,
    race_two_clients,
    redis_forgets,
    stale_confirm,
)
from razorlab.social.booking.simulation import popular_show, rush_requests

T0 = EPOCH_2026
SHOW = popular_show("s1")


@pytest.fixture
async def holds(redis_url):
    layer = RedisSeatHolds(redis_url, namespace=uuid4().hex)
    yield layer
    await layer.clear()
    await layer.close()


async def test_get_then_set_double_books_on_real_redis_but_set_nx_and_the_script_do_not(
    redis_url,
):
    outcomes = {o.strategy: o for o in await race_two_clients(redis_url, uuid4().hex)}
    naive = outcomes["get-then-set"]
    assert naive.double_booked and naive.winners == ("amy", "bob") and naive.owner == "bob"
    for fixed in ("set-nx", "lua-hold"):
        assert outcomes[fixed].winners == ("amy",) and outcomes[fixed].owner == "amy", fixed


async def test_the_chapter_s_stored_results_are_what_a_real_redis_gives(redis_url):
    namespace = uuid4().hex
    assert tuple(await race_two_clients(redis_url, namespace)) == STORED_RACE
    assert await stale_confirm(redis_url, namespace) == STORED_FENCE
    assert await redis_forgets(redis_url, namespace) == STORED_LOSS


def test_find_redis_answers_only_for_a_redis_that_answers(redis_url, monkeypatch, tmp_path):
    monkeypatch.setenv("RAZORLAB_REDIS_URL", redis_url)
    assert find_redis(tmp_path) == redis_url
    monkeypatch.setenv("RAZORLAB_REDIS_URL", "redis://127.0.0.1:1/0")  # the env var wins
    assert find_redis() is None
    monkeypatch.delenv("RAZORLAB_REDIS_URL")
    assert find_redis(tmp_path) is None, "no .services/redis.url there"


async def test_the_script_holds_all_seats_or_none_with_a_real_ttl(holds):
    await holds.hold(SHOW, ["A3"], "bob", T0, 60)
    with pytest.raises(SeatsUnavailable, match="A3"):
        await holds.hold(SHOW, ["A1", "A2", "A3"], "amy", T0, 60)
    assert await holds.holder("s1", "A1") is None, "A1 must not stay half-locked"
    token = await holds.hold(SHOW, ["A1", "A2"], "amy", T0, 60)
    assert await holds.holder("s1", "A2") == (token, "amy", repr(float(T0 + 60)))
    assert 0 < await holds.command("PTTL", holds.seat_key("s1", "A1")) <= 60_000


async def test_an_older_token_cannot_confirm_seats_held_again(holds):
    old = await holds.hold(SHOW, ["B1", "B2"], "amy", T0, 60)
    with pytest.raises(HoldExpired):
        await holds.confirm("s1", ["B1", "B2"], old, "amy", T0 + 60)
    new = await holds.hold(SHOW, ["B2"], "amy", T0 + 61, 60)
    assert new > old, "fencing tokens only grow"
    with pytest.raises(StaleToken):
        await holds.confirm("s1", ["B1", "B2"], old, "amy", T0 + 62)
    with pytest.raises(NotHolder):
        await holds.confirm("s1", ["B2"], new, "mallory", T0 + 62)
    assert await holds.confirm("s1", ["B2"], new, "amy", T0 + 62) is False
    assert await holds.confirm("s1", ["B2"], new, "amy", T0 + 63) is True, "a replay"


async def test_only_the_holder_releases_and_confirmed_seats_are_never_held_again(holds):
    token = await holds.hold(SHOW, ["C1", "C2"], "amy", T0, 60)
    assert await holds.release("s1", ["C1", "C2"], token, "mallory") == 0
    assert await holds.release("s1", ["C1", "C2"], token + 1, "amy") == 0
    assert await holds.release("s1", ["C1"], token, "amy") == 1
    assert await holds.holder("s1", "C1") is None and await holds.holder("s1", "C2")
    await holds.confirm("s1", ["C2"], token, "amy", T0 + 1)
    assert await holds.release("s1", ["C2"], token, "amy") == 0, "confirmed stays"
    assert await holds.command("PTTL", holds.seat_key("s1", "C2")) == -1, "no TTL"
    with pytest.raises(SeatsUnavailable):
        await holds.hold(SHOW, ["C2"], "bob", T0 + 10 * 365 * 86_400, 60)


async def test_fifty_clients_on_their_own_connections_never_confirm_a_seat_twice(redis_url):
    show = popular_show("hot", rows=2, per_row=6)  # 12 seats, 50 clients x 3 requests
    namespace = uuid4().hex
    requests = rush_requests(show, 150, seed=11)
    timing = py_random(11, "booking-redis-clients")
    plans = [
        [(requests[3 * c + k], timing.uniform(0, 300), timing.uniform(0, 90)) for k in range(3)]
        for c in range(50)
    ]
    confirmed = defaultdict(list)  # seat -> users told "confirmed"
    refusals = defaultdict(int)

    async def client(c: int) -> None:
        holds = RedisSeatHolds(redis_url, namespace=namespace)  # its own connection pool
        try:
            for seats, at, pays_after in plans[c]:
                try:
                    token = await holds.hold(show, seats, f"u{c}", T0 + at, 60)
                    await holds.confirm("hot", seats, token, f"u{c}", T0 + at + pays_after)
                except (SeatsUnavailable, StaleToken, HoldExpired) as refused:
                    refusals[type(refused).__name__] += 1
                    continue
                for seat in seats:
                    confirmed[seat].append(f"u{c}")
        finally:
            await holds.close()

    await asyncio.gather(*(client(c) for c in range(50)))
    audit = RedisSeatHolds(redis_url, namespace=namespace)
    try:
        assert confirmed and refusals["SeatsUnavailable"] > 0
        for seat, users in confirmed.items():
            assert len(users) == 1, f"{seat} confirmed for {users}"
            _, user, ends = await audit.holder("hot", seat)
            assert (user, ends) == (users[0], "confirmed")
    finally:
        await audit.clear()
        await audit.close()


async def test_redis_outage_is_typed_and_loses_no_confirmed_booking(private_redis):
    url, directory, port = private_redis
    store = await RedisSeatStore.open(url, namespace="outage")
    await store.add_show(SHOW)
    booked = await store.hold("s1", ["A1"], "amy", T0, 600)
    await store.confirm(booked.token, "amy", "pay_amy", T0)
    paying = await store.hold("s1", ["B1"], "bob", T0, 600)
    fence_before = await store.fence_of(paying)
    before = await store.claims("s1")

    stop_redis(directory)
    for call in (
        store.hold("s1", ["C1"], "cat", T0 + 1, 600),
        store.confirm(paying.token, "bob", "pay_bob", T0 + 1),
        store.release(paying.token, "bob", T0 + 1),
    ):
        with pytest.raises(BackendUnavailable) as down:
            await call
        assert down.value.http_status == 503 and str(port) in down.value.description
    assert await store.claims("s1") == before, "nothing stored, nothing lost"

    start_redis(directory, port=port)  # empty again: no persistence
    assert (await store.get(booked.token, T0 + 2)).status is HoldStatus.CONFIRMED
    with pytest.raises(SeatsUnavailable):  # Redis forgot A1; the SQL record did not
        await store.hold("s1", ["A1"], "cat", T0 + 2, 600)
    assert await store.holds.holder("s1", "A1") is None, "the Redis lock was given back"
    with pytest.raises(HoldExpired):  # bob's lock was lost: fail closed, the service refunds
        await store.confirm(paying.token, "bob", "pay_bob", T0 + 2)
    released = await store.release(paying.token, "bob", T0 + 2)  # the record frees B1
    assert released.status is HoldStatus.RELEASED
    fresh = await store.hold("s1", ["B1", "C1"], "cat", T0 + 2, 600)
    assert await store.fence_of(fresh) > fence_before, "tokens still grow after a restart"
    await store.close()
