"""Ticks are eventually right: receipts for an offline sender are stored and replayed, and a
device may acknowledge or read only what it was actually given."""

import aiohttp
import pytest

from razorlab.errors import RazorlabError
from razorlab.social.messaging import ChatClient, Status, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token", "chen": "chen-token"}


async def _auth(ws, token: str) -> dict:
    await ws.send_json({"op": "auth", "token": token, "ref": "auth"})
    return await ws.receive_json()


async def test_receipts_made_while_the_sender_is_offline_reach_her_on_reconnect(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        asha = await ChatClient.connect(srv.url, "asha-token")
        dm = (await asha.direct("ben"))["chat"]
        group = (await asha.group("trip", ["ben", "chen"]))["chat"]
        await asha.send(dm, "one")
        await asha.send(group, "two")
        await asha.close()  # asha's phone goes offline before anyone receives anything
        async with (
            await ChatClient.connect(srv.url, "ben-token") as ben,
            await ChatClient.connect(srv.url, "chen-token") as chen,
        ):
            await ben.wait_until(lambda c: len(c.messages) == 2)
            await chen.wait_until(lambda c: len(c.messages) == 1)
            await ben.read(dm, 1)
            await ben.read(group, 1)
            await chen.ping()  # chen's auto-ack is processed before this request
        async with await ChatClient.connect(srv.url, "asha-token") as asha:
            await asha.wait_until(
                lambda c: (
                    c.message_status.get((dm, 1)) == "read"
                    and c.message_status.get((group, 1)) == "delivered"
                )
            )
            assert asha.receipts[(group, 1)] == {"ben": "read", "chen": "delivered"}


async def test_receipts_survive_a_server_restart_and_a_reconnect_replays_only_new_ones(
    tmp_path, clock
):
    db = str(tmp_path / "c.db")
    srv = await start_chat_server(db, clock=clock, users=USERS)
    asha = await ChatClient.connect(srv.url, "asha-token")
    try:
        dm = (await asha.direct("ben"))["chat"]
        await asha.send(dm, "first")
        async with await ChatClient.connect(srv.url, "ben-token") as ben:
            await ben.wait_until(lambda c: len(c.messages) == 1)
            await ben.ping()
        await asha.wait_until(lambda c: c.message_status.get((dm, 1)) == "delivered")
        await asha.send(dm, "second")
        await asha.close()
        await srv.stop()

        srv = await start_chat_server(db, clock=clock)
        async with await ChatClient.connect(srv.url, "ben-token") as ben:
            await ben.wait_until(lambda c: len(c.messages) == 1)
            await ben.read(dm, 2)
        replayed_before = srv.server.frames_sent()["receipt"]
        await asha.reconnect(srv.url)
        await asha.wait_until(lambda c: c.message_status.get((dm, 2)) == "read")
        assert asha.message_status[(dm, 1)] == "read"
        await asha.ping()
        sent = srv.server.frames_sent()["receipt"] - replayed_before
        # made while she was away: 2 delivered (ben's auto-ack), then 1 and 2 read
        assert sent == 3, f"only the receipts made while away are replayed, not {sent}"
    finally:
        await asha.close()
        await srv.stop()


async def test_acking_or_reading_ahead_of_what_the_device_got_is_refused(
    tmp_path, clock, monkeypatch
):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        dm = (await srv.store.direct("asha", "ben")).chat_id
        for i in range(3):
            await srv.store.send("asha", dm, f"c{i}", f"m{i}")
        pending = srv.store.pending

        async def lost_in_transit(*args, **kwargs):
            return []  # this connection's catch-up finds nothing: the device gets no message

        monkeypatch.setattr(srv.store, "pending", lost_in_transit)
        async with (
            await ChatClient.connect(srv.url, "asha-token") as asha,
            aiohttp.ClientSession() as session,
        ):
            async with session.ws_connect(srv.url) as ben:
                assert (await _auth(ben, "ben-token"))["op"] == "welcome"
                for op in ("ack", "read"):
                    await ben.send_json({"op": op, "chat": dm, "seq": 3, "ref": op})
                    reply = await ben.receive_json()
                    assert reply["op"] == "error", reply
                    error = reply["error"]
                    assert (error["code"], error["field"]) == ("NOT_DELIVERED", "seq"), error
            assert (await srv.store.message(dm, 3)).statuses == {"ben": Status.SENT}
            assert await srv.store.pending_count("ben") == 3, "nothing was dequeued"
            await asha.ping()
            assert asha.receipts == {}, "no tick for a message ben never got"

            monkeypatch.setattr(srv.store, "pending", pending)
            async with session.ws_connect(srv.url) as ben:
                assert (await _auth(ben, "ben-token"))["op"] == "welcome"
                got = [(await ben.receive_json())["seq"] for _ in range(3)]
                assert got == [1, 2, 3]
                await ben.send_json({"op": "read", "chat": dm, "seq": 3, "ref": "r"})
                assert (await ben.receive_json())["op"] == "read_ok"
            await asha.wait_until(lambda c: c.message_status.get((dm, 3)) == "read")


async def test_a_new_connection_may_read_what_an_earlier_one_received(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        async with await ChatClient.connect(srv.url, "asha-token") as asha:
            dm = (await asha.direct("ben"))["chat"]
            await asha.send(dm, "hi")
            async with await ChatClient.connect(srv.url, "ben-token") as ben:
                await ben.wait_until(lambda c: len(c.messages) == 1)
                await ben.ping()
            async with await ChatClient.connect(srv.url, "ben-token") as ben:
                await ben.read(dm, 1)  # delivered to this phone before, so readable now
                with pytest.raises(RazorlabError) as err:
                    await ben.read(dm, 2)
                assert err.value.field == "seq", "there is no message 2 yet"
            await asha.wait_until(lambda c: c.message_status.get((dm, 1)) == "read")
            await asha.send(dm, "my own message")
            await asha.read(dm, 2)  # a sender has seen her own message
