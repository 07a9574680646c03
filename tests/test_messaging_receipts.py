"""Receipts move sent -> delivered -> read and never back; a group message is as far as its slowest member."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.social.messaging import (
    ChatClient,
    ChatStore,
    Status,
    message_status,
    start_chat_server,
)

USERS = {"asha": "asha-token", "ben": "ben-token", "chen": "chen-token"}


async def _store_with_group(clock) -> tuple[ChatStore, str]:
    store = await ChatStore.open(":memory:", clock)
    for user, token in USERS.items():
        await store.register(user, token)
    group = await store.create_group("asha", "trip", ["ben", "chen"])
    return store, group.chat_id


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ack", "read"]), st.integers(1, 4)), max_size=12))
async def test_status_never_moves_backwards_whatever_order_acks_and_reads_arrive(ops):
    store, group = await _store_with_group(ManualClock())
    try:
        for i in range(4):
            await store.send("asha", group, f"c{i}", f"m{i}")
        best = {seq: Status.SENT for seq in range(1, 5)}
        for op, upto in ops:
            await getattr(store, op)("ben", group, upto)
            for seq in range(1, upto + 1):
                best[seq] = max(best[seq], Status.READ if op == "read" else Status.DELIVERED)
            for seq in range(1, 5):
                assert (await store.message(group, seq)).statuses["ben"] == best[seq]
    finally:
        await store.close()


async def test_group_message_is_read_only_when_every_member_has_read_it(clock):
    store, group = await _store_with_group(clock)
    try:
        await store.send("asha", group, "c1", "hello both")
        await store.read("ben", group, 1)
        message = await store.message(group, 1)
        assert message.statuses == {"ben": Status.READ, "chen": Status.SENT}
        assert message.status is Status.SENT, "chen has not even received it"
        await store.ack("chen", group, 1)
        assert (await store.message(group, 1)).status is Status.DELIVERED
        receipts = await store.read("chen", group, 1)
        assert [(r.user, r.status, r.message_status) for r in receipts] == [
            ("chen", Status.READ, Status.READ)
        ]
        assert await store.read("chen", group, 1) == [], "a repeated read changes nothing"
    finally:
        await store.close()


async def test_acking_a_message_that_does_not_exist_is_refused(clock):
    store, group = await _store_with_group(clock)
    try:
        with pytest.raises(ValidationError, match="no message 1"):
            await store.ack("ben", group, 1)
    finally:
        await store.close()


def test_message_status_is_the_lowest_recipient_status():
    assert message_status({"a": Status.READ, "b": Status.DELIVERED}) is Status.DELIVERED
    assert message_status([]) is Status.SENT


async def test_sender_sees_ticks_turn_blue_over_the_wire(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        async with (
            await ChatClient.connect(srv.url, "asha-token") as asha,
            await ChatClient.connect(srv.url, "ben-token") as ben,
        ):
            dm = (await asha.direct("ben"))["chat"]
            await asha.send(dm, "seen this?")
            await asha.wait_until(lambda c: c.message_status.get((dm, 1)) == "delivered")
            await ben.read(dm, 1)
            await asha.wait_until(lambda c: c.message_status.get((dm, 1)) == "read")
            await ben.ack(dm, 1)  # a late ack after the read
            await asha.ping()
            assert asha.receipts[(dm, 1)] == {"ben": "read"}, "a late ack does not undo read"
