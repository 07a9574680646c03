"""Bad hold and confirm requests get clear typed errors, and nothing is stored."""

from uuid import uuid4

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.social.booking import (
    HOLD_TTL_S,
    DuplicateSeat,
    EmptySeatList,
    HoldExpired,
    SeatCategory,
    Show,
    TooManySeats,
    UnknownHold,
    UnknownSeat,
    UnknownShow,
    build_seat_map,
)
from razorlab.social.booking.redis_holds import STORE_KINDS, open_seat_store
from razorlab.social.booking.simulation import popular_show

T0 = EPOCH_2026


@pytest.fixture(params=STORE_KINDS)
async def store(request):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    s = await open_seat_store(request.param, url, namespace=uuid4().hex, ephemeral=True)
    await s.add_show(popular_show("s1"))
    yield s
    await s.close()


@pytest.mark.parametrize(
    "show_id, seats, error, code, http",
    [
        ("nope", ["A1"], UnknownShow, "SHOW_NOT_FOUND", 404),
        ("s1", [], EmptySeatList, "EMPTY_SEAT_LIST", 400),
        ("s1", ["A1", "A2", "A1"], DuplicateSeat, "DUPLICATE_SEAT", 400),
        ("s1", ["Z99"], UnknownSeat, "SEAT_NOT_FOUND", 400),
        ("s1", [f"B{n}" for n in range(1, 11)] + ["C1"], TooManySeats, "TOO_MANY_SEATS", 400),
        ("s1", "A1", ValidationError, "BAD_REQUEST_ERROR", 400),
    ],
)
async def test_bad_hold_request_is_a_typed_error_and_stores_nothing(
    store, show_id, seats, error, code, http
):
    with pytest.raises(error) as caught:
        await store.hold(show_id, seats, "amy", T0, HOLD_TTL_S)
    assert caught.value.code == code and caught.value.http_status == http
    assert caught.value.to_dict()["description"], "the error says what is wrong"
    assert await store.claims("s1") == []


async def test_empty_user_id_is_rejected(store):
    with pytest.raises(ValidationError, match="user_id"):
        await store.hold("s1", ["A1"], "", T0, HOLD_TTL_S)


async def test_unknown_token_and_expired_token_are_distinct_errors(store):
    with pytest.raises(UnknownHold):
        await store.confirm(12345, "amy", "pay_1", T0)
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(HoldExpired) as caught:
        await store.confirm(hold.token, "amy", "pay_1", T0 + HOLD_TTL_S)
    assert caught.value.http_status == 422 and caught.value.field == "token"


def test_seat_map_rejects_inconsistent_layouts():
    classic = SeatCategory("classic", Money.of(200))
    with pytest.raises(ValidationError, match="add up"):
        build_seat_map(3, 5, [(classic, 2)])
    seats = build_seat_map(2, 3, [(classic, 2)])
    assert [s.seat_id for s in seats] == ["A1", "A2", "A3", "B1", "B2", "B3"]
    with pytest.raises(DuplicateSeat):
        Show("dup", "Twice", T0, seats + seats[:1])
