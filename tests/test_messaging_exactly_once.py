"""Retries and redeliveries never show a message twice: at-least-once delivery, once on screen."""

import pytest

from razorlab.errors import ConflictError, RazorlabError
from razorlab.social.messaging import ChatClient, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token"}


@pytest.fixture
async def running(tmp_path, clock):
    server = await start_chat_server(str(tmp_path / "chat.db"), clock=clock, users=USERS)
    yield server
    await server.stop()


async def test_a_retried_send_returns_the_same_seq_and_is_shown_once(running):
    async with (
        await ChatClient.connect(running.url, "asha-token") as asha,
        await ChatClient.connect(running.url, "ben-token") as ben,
    ):
        dm = (await asha.direct("ben"))["chat"]
        first = await asha.send(dm, "lunch?", client_id="phone-77")
        retry = await asha.send(dm, "lunch?", client_id="phone-77")  # the reply was "lost"
        await asha.send(dm, "1pm?")
        assert (retry["seq"], retry["duplicate"]) == (first["seq"], True)
        await ben.wait_until(lambda c: len(c.messages) == 2)
        assert ben.texts() == ["lunch?", "1pm?"]
    assert (await running.store.row_counts())["messages"] == 2


async def test_reusing_a_client_id_for_other_text_is_refused(running):
    dm = (await running.store.direct("asha", "ben")).chat_id
    await running.store.send("asha", dm, "c1", "hello")
    with pytest.raises(ConflictError, match="already used"):
        await running.store.send("asha", dm, "c1", "something else")


async def test_unacked_messages_come_again_after_reconnect_but_show_once(running):
    dm = (await running.store.direct("asha", "ben")).chat_id
    ben = await ChatClient.connect(running.url, "ben-token", auto_ack=False)
    try:
        for i in range(3):
            await running.store.send("asha", dm, f"c{i}", f"m{i}")
        await ben.reconnect()  # nothing was acked: the inbox replays all three
        await ben.wait_until(lambda c: len(c.messages) == 3)
        await ben.ack(dm, 3)
        await ben.reconnect()  # acked: nothing comes again
        await ben.ping()
        assert ben.texts() == ["m0", "m1", "m2"]
        assert await running.store.pending_count("ben") == 0
    finally:
        await ben.close()


async def test_sending_while_disconnected_fails_loudly(running):
    asha = await ChatClient.connect(running.url, "asha-token")
    await asha.close()
    with pytest.raises(ConnectionError):
        await asha.send("dm:asha:ben", "are you there?")
    with pytest.raises(RazorlabError):
        await running.store.send("asha", "dm:asha:ben", "c1", "no such chat yet")
