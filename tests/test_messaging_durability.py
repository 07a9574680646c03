"""Offline users get their messages in order on reconnect; a server restart loses nothing."""

import pytest

from razorlab.social.messaging import ChatClient, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token", "chen": "chen-token"}


async def test_offline_inbox_is_delivered_in_order_and_removed_on_ack(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        async with await ChatClient.connect(srv.url, "asha-token") as asha:
            dm = (await asha.direct("ben"))["chat"]
            group = (await asha.group("trip", ["ben", "chen"]))["chat"]
            for i in range(4):
                await asha.send(dm if i % 2 else group, f"m{i}")
        assert await srv.store.pending_count("ben") == 4
        async with await ChatClient.connect(srv.url, "ben-token") as ben:
            await ben.wait_until(lambda c: len(c.messages) == 4)
            assert ben.texts() == ["m0", "m1", "m2", "m3"], "inbox order is send order"
            await ben.ping()  # the acks were sent before this request, so they are processed
            assert await srv.store.pending_count("ben") == 0


async def test_nothing_is_lost_when_the_server_restarts_mid_conversation(tmp_path, clock):
    db = str(tmp_path / "chat.db")
    srv = await start_chat_server(db, clock=clock, users=USERS)
    asha = await ChatClient.connect(srv.url, "asha-token")
    ben = await ChatClient.connect(srv.url, "ben-token")
    try:
        dm = (await asha.direct("ben"))["chat"]
        await asha.send(dm, "before the crash")
        await ben.wait_until(lambda c: len(c.messages) == 1)
        await ben.close()  # ben goes offline
        await asha.send(dm, "while ben is away")  # stored, not yet delivered
        await srv.stop()
        assert await asha.wait_closed() == 1001, "clients are told the server went away"

        srv = await start_chat_server(db, clock=clock)
        await asha.reconnect(srv.url)
        ben = await ChatClient.connect(srv.url, "ben-token")
        await asha.send(dm, "after the restart")
        await ben.wait_until(lambda c: len(c.messages) == 2)
        assert ben.texts() == ["while ben is away", "after the restart"]
        history = await ben.history(dm)
        assert [m["text"] for m in history["messages"]] == [
            "before the crash",
            "while ben is away",
            "after the restart",
        ]
        assert [m["seq"] for m in history["messages"]] == [1, 2, 3], "seq continues after restart"
    finally:
        await asha.close()
        await ben.close()
        await srv.stop()


@pytest.mark.parametrize("buffer", [1, 3])
async def test_a_backlog_larger_than_the_send_buffer_still_arrives(tmp_path, clock, buffer):
    async with await start_chat_server(
        str(tmp_path / "c.db"), clock=clock, users=USERS, send_buffer=buffer
    ) as srv:
        dm = (await srv.store.direct("asha", "ben")).chat_id
        for i in range(25):
            await srv.store.send("asha", dm, f"c{i}", f"m{i}")
        async with await ChatClient.connect(srv.url, "ben-token") as ben:
            await ben.wait_until(lambda c: len(c.messages) == 25)
            assert ben.texts() == [f"m{i}" for i in range(25)]
