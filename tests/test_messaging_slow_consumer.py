"""A full send buffer disconnects the device (never drops silently); silence past the heartbeat timeout means offline."""

import asyncio

from razorlab.social.messaging import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_SLOW_CONSUMER,
    HEARTBEAT_TIMEOUT_S,
    ChatClient,
    Connection,
    Presence,
    start_chat_server,
)

USERS = {"asha": "asha-token", "ben": "ben-token"}


class StalledSocket:
    """A device that stopped reading: sends never complete."""

    def __init__(self):
        self.closed_with = None

    async def send_str(self, data):
        await asyncio.Event().wait()

    async def close(self, *, code, message):
        self.closed_with = (code, message.decode())
        return True


async def test_a_full_buffer_closes_the_connection_with_the_slow_consumer_code():
    socket = StalledSocket()
    conn = Connection("ben", socket, buffer=2)
    assert conn.offer({"op": "msg", "seq": 1}) and conn.offer({"op": "msg", "seq": 2})
    assert not conn.offer({"op": "msg", "seq": 3}), "the third frame does not fit"
    await conn.closed()
    assert socket.closed_with[0] == CLOSE_SLOW_CONSUMER
    assert "resume from your last ack" in socket.closed_with[1]
    assert not conn.offer({"op": "msg", "seq": 4}), "a kicked connection takes nothing more"


async def test_a_kicked_device_resumes_from_its_last_ack_and_loses_nothing(tmp_path, clock):
    async with await start_chat_server(
        str(tmp_path / "c.db"), clock=clock, users=USERS, send_buffer=1
    ) as srv:
        dm = (await srv.store.direct("asha", "ben")).chat_id
        async with await ChatClient.connect(srv.url, "ben-token") as ben:
            await ben.ping()
            sent = [(await srv.store.send("asha", dm, f"c{i}", f"m{i}")).message for i in range(5)]
            conn = srv.server.connections["ben"]
            for message in sent:  # offered faster than the writer can run: the 2nd overflows
                conn.offer({"op": "msg", **message.to_dict()})
            assert await ben.wait_closed() == CLOSE_SLOW_CONSUMER
            await ben.reconnect()
            await ben.wait_until(lambda c: len(c.messages) == 5)
            assert ben.texts() == [f"m{i}" for i in range(5)]
        assert srv.server.stats[f"kicked:{CLOSE_SLOW_CONSUMER}"] == 1


async def test_silence_past_the_heartbeat_timeout_disconnects_and_sets_last_seen(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        async with (
            await ChatClient.connect(srv.url, "asha-token") as asha,
            await ChatClient.connect(srv.url, "ben-token") as ben,
        ):
            start = clock.now()
            await clock.run_for(HEARTBEAT_TIMEOUT_S - 10)
            await asha.ping()  # asha keeps beating, ben is silent
            await clock.run_for(20)
            assert await ben.wait_closed() == CLOSE_HEARTBEAT_TIMEOUT
            seen = await asha.presence("ben")
            assert (seen["online"], seen["last_seen"]) == (False, start)
            assert (await asha.presence("asha"))["online"] is True
        assert await srv.store.last_seen("ben") == start


def test_presence_counts_a_user_online_until_the_timeout(clock):
    presence = Presence(clock, timeout_s=30)
    presence.beat("asha")
    clock.advance(30)
    assert presence.is_online("asha") and presence.expired() == []
    clock.advance(1)
    assert not presence.is_online("asha") and presence.expired() == ["asha"]
    assert presence.leave("asha") == clock.now() - 31
