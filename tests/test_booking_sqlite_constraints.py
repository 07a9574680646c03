"""The SQLite schema refuses double booking even when the application code is wrong."""

import sqlite3

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.social.booking import HOLD_TTL_S, SeatsUnavailable, SqliteSeatStore
from razorlab.social.booking.simulation import popular_show
from tests.booking_support import raw, store_fixture  # noqa: F401  (the store fixture)

T0 = EPOCH_2026


async def test_unique_index_rejects_a_second_live_claim_on_a_seat(store):
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    await raw(store, "INSERT INTO holds VALUES (NULL, 's1', 'bob', 0, ?, ?, 'held', NULL)", T0, T0)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await raw(store, "INSERT INTO claims VALUES (?, 's1', 'A1', 1)", hold.token + 1)


async def test_index_still_guards_when_the_application_check_is_skipped(store, monkeypatch):
    await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)

    async def broken_check(show_id, seats, now):
        return [], []

    monkeypatch.setattr(store, "_taken", broken_check)
    with pytest.raises(SeatsUnavailable):
        await store.hold("s1", ["A2", "A1"], "bob", T0, HOLD_TTL_S)
    claims = await store.claims("s1")
    assert [(c.seat_id, c.user_id) for c in claims] == [("A1", "amy")], "nothing half-held"


async def test_confirmed_needs_a_payment_and_final_states_are_final(store):
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await raw(store, "UPDATE holds SET status = 'confirmed' WHERE token = ?", hold.token)
    await store.confirm(hold.token, "amy", "pay_1", T0)
    with pytest.raises(sqlite3.IntegrityError, match="final"):
        await raw(store, "UPDATE holds SET status = 'released' WHERE token = ?", hold.token)


async def test_claim_for_a_seat_not_on_the_map_is_refused(store):
    await raw(store, "INSERT INTO holds VALUES (NULL, 's1', 'bob', 0, ?, ?, 'held', NULL)", T0, T0)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await raw(store, "INSERT INTO claims VALUES (1, 's1', 'Z99', 1)")


async def test_ending_a_hold_frees_its_claims_through_the_trigger(store):
    hold = await store.hold("s1", ["A1", "A2"], "amy", T0, HOLD_TTL_S)
    await raw(store, "UPDATE holds SET status = 'expired' WHERE token = ?", hold.token)
    again = await store.hold("s1", ["A1", "A2"], "bob", T0, HOLD_TTL_S)
    assert again.token == hold.token + 1


async def test_state_survives_reopening_the_database(tmp_path):
    path = str(tmp_path / "t.db")
    first = await SqliteSeatStore.open(path)
    await first.add_show(popular_show("s1"))
    hold = await first.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    await first.close()
    second = await SqliteSeatStore.open(path)
    try:
        assert await second.show("s1") == popular_show("s1"), "the seat map reloads as written"
        assert (await second.get(hold.token, T0)).seat_ids == ("A1",)
        with pytest.raises(SeatsUnavailable):
            await second.hold("s1", ["A1"], "bob", T0, HOLD_TTL_S)
    finally:
        await second.close()
