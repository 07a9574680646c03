"""The schema forbids what no code path should do: reviving a released claim, freeing or
deleting a live one, and moving a payment attempt outside its state machine."""

import sqlite3

import pytest

from razorlab.clock import EPOCH_2026
from razorlab.social.booking import HOLD_TTL_S, SqliteSeatStore
from razorlab.social.booking.simulation import popular_show
from tests.booking_support import raw, store_fixture  # noqa: F401  (the store fixture)

T0 = EPOCH_2026


async def test_a_released_claim_cannot_be_made_live_again_even_when_nobody_holds_the_seat(store):
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    await store.release(hold.token, "amy", T0)
    assert await store.claims("s1") == [], "nobody holds A1"
    with pytest.raises(sqlite3.IntegrityError, match="never be live again"):
        await raw(store, "UPDATE claims SET live = 1 WHERE token = ?", hold.token)
    with pytest.raises(sqlite3.IntegrityError, match="needs a held hold"):
        await raw(store, "INSERT INTO claims VALUES (?, 's1', 'A2', 1)", hold.token)


async def test_a_live_hold_keeps_its_claims(store):
    hold = await store.hold("s1", ["A1", "A2"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(sqlite3.IntegrityError, match="keeps its claims"):
        await raw(store, "UPDATE claims SET live = NULL WHERE token = ?", hold.token)
    with pytest.raises(sqlite3.IntegrityError, match="keeps its claims"):
        await raw(store, "DELETE FROM claims WHERE token = ?", hold.token)
    assert len(await store.claims("s1")) == 2


async def test_a_claim_must_match_its_holds_show(store):
    await store.add_show(popular_show("s2"))
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    with pytest.raises(sqlite3.IntegrityError, match="same show"):
        await raw(store, "INSERT INTO claims VALUES (?, 's2', 'A5', 1)", hold.token)


async def test_payment_attempts_only_move_along_their_state_machine(store):
    hold = await store.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    await store.begin_payment(hold.token, T0)
    update = "UPDATE payment_attempts SET state = ?, payment_id = ? WHERE token = ?"
    with pytest.raises(sqlite3.IntegrityError, match="illegal payment attempt move"):
        await raw(store, update, "refunded", "pay_1", hold.token)  # never paid
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await raw(store, update, "paid", None, hold.token)  # paid needs a payment id
    with pytest.raises(sqlite3.IntegrityError, match="confirmed only with its hold"):
        await raw(store, update, "confirmed", "pay_1", hold.token)  # the hold is not bought
    await raw(store, update, "paid", "pay_1", hold.token)
    with pytest.raises(sqlite3.IntegrityError, match="illegal payment attempt move"):
        await raw(store, update, "refunding", "pay_2", hold.token)  # swap the money
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE|PRIMARY"):
        await raw(store, "INSERT INTO payment_attempts VALUES (?, 'k', 0, 'started', NULL, 0, 0)",
                  hold.token)  # fmt: skip


async def test_an_old_database_gains_the_guards_when_reopened(tmp_path):
    path = str(tmp_path / "old.db")
    first = await SqliteSeatStore.open(path)
    await first.add_show(popular_show("s1"))
    hold = await first.hold("s1", ["A1"], "amy", T0, HOLD_TTL_S)
    await first._db.execute("DROP TRIGGER freed_claims_stay_free")  # as before the guard
    await first.release(hold.token, "amy", T0)
    await first.close()
    again = await SqliteSeatStore.open(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="never be live again"):
            await raw(again, "UPDATE claims SET live = 1 WHERE token = ?", hold.token)
    finally:
        await again.close()
