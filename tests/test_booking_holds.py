"""Seat holds: all or none, TTL, holder-only, fencing tokens, idempotent confirm (both stores)."""

from uuid import uuid4

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.social.booking import (
    HOLD_TTL_S,
    AlreadyConfirmed,
    HoldExpired,
    HoldNotActive,
    HoldStatus,
    NotHolder,
    SeatsUnavailable,
)
from razorlab.social.booking.redis_holds import STORE_KINDS, open_seat_store
from razorlab.social.booking.simulation import popular_show

T0 = EPOCH_2026
SHOW = popular_show("s1")


@pytest.fixture(params=STORE_KINDS)
async def store(request):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    s = await open_seat_store(request.param, url, namespace=uuid4().hex, ephemeral=True)
    await s.add_show(SHOW)
    yield s
    await s.close()


async def held_seats(store):
    return sorted(c.seat_id for c in await store.claims("s1"))


async def test_a_multi_seat_hold_takes_all_seats_or_none(store):
    await store.hold("s1", ["A3"], "bob", T0, HOLD_TTL_S)
    with pytest.raises(SeatsUnavailable, match="A3"):
        await store.hold("s1", ["A1", "A2", "A3"], "amy", T0, HOLD_TTL_S)
    assert await held_seats(store) == ["A3"], "A1 and A2 must not stay half-locked"
    hold = await store.hold("s1", ["A1", "A2"], "amy", T0, HOLD_TTL_S)
    assert hold.seat_ids == ("A1", "A2") and hold.amount == SHOW.price_of(["A1", "A2"])


async def test_hold_lives_for_the_ttl_then_frees_its_seats_lazily(store):
    hold = await store.hold("s1", ["B1"], "amy", T0, HOLD_TTL_S)
    assert hold.expires_at == T0 + 600
    with pytest.raises(SeatsUnavailable):
        await store.hold("s1", ["B1"], "bob", T0 + HOLD_TTL_S - 1, HOLD_TTL_S)
    again = await store.hold("s1", ["B1"], "bob", T0 + HOLD_TTL_S, HOLD_TTL_S)
    assert again.token > hold.token, "fencing tokens only grow"
    assert (await store.get(hold.token, T0 + HOLD_TTL_S)).status is HoldStatus.EXPIRED


async def test_sweeper_expires_due_holds_only(store):
    await store.hold("s1", ["C1"], "amy", T0, 60)
    await store.hold("s1", ["C2"], "bob", T0, 600)
    assert await store.sweep(T0 + 59) == 0
    assert await store.sweep(T0 + 60) == 1
    assert await held_seats(store) == ["C2"]


async def test_only_the_holder_may_release_or_confirm(store):
    hold = await store.hold("s1", ["D1"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(NotHolder):
        await store.release(hold.token, "mallory", T0)
    with pytest.raises(NotHolder):
        await store.confirm(hold.token, "mallory", "pay_1", T0)
    released = await store.release(hold.token, "amy", T0)
    assert released.status is HoldStatus.RELEASED and await held_seats(store) == []
    with pytest.raises(HoldNotActive):
        await store.confirm(hold.token, "amy", "pay_1", T0)


async def test_stale_token_cannot_confirm_after_expiry_and_rehold_by_same_user(store):
    old = await store.hold("s1", ["E1"], "amy", T0, HOLD_TTL_S)
    new = await store.hold("s1", ["E1"], "amy", T0 + HOLD_TTL_S + 1, HOLD_TTL_S)
    with pytest.raises(HoldExpired):
        await store.confirm(old.token, "amy", "pay_old", T0 + HOLD_TTL_S + 2)
    confirmed = await store.confirm(new.token, "amy", "pay_new", T0 + HOLD_TTL_S + 2)
    assert confirmed.payment_id == "pay_new"


async def test_confirm_is_idempotent_for_the_same_payment(store):
    hold = await store.hold("s1", ["F1", "F2"], "amy", T0, HOLD_TTL_S)
    first = await store.confirm(hold.token, "amy", "pay_1", T0 + 5)
    again = await store.confirm(hold.token, "amy", "pay_1", T0 + HOLD_TTL_S * 3)
    assert first == again and again.status is HoldStatus.CONFIRMED
    with pytest.raises(AlreadyConfirmed):
        await store.confirm(hold.token, "amy", "pay_2", T0 + 6)
    assert await store.sweep(T0 + HOLD_TTL_S * 3) == 0, "confirmed seats never expire"
    assert await held_seats(store) == ["F1", "F2"]


async def test_release_after_expiry_says_expired(store):
    hold = await store.hold("s1", ["G1"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(HoldExpired):
        await store.release(hold.token, "amy", T0 + HOLD_TTL_S)
