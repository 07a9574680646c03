"""Frames queued together go out together: one ``batch`` envelope for a client that opted in,
one frame at a time for one that did not, in order either way and never oversized."""

import json

import aiohttp
import pytest

from razorlab.social.messaging import ChatClient, Connection, start_chat_server
from razorlab.social.messaging.connection import ENVELOPE_BYTES

USERS = {"asha": "asha-token", "ben": "ben-token"}


class RecordingSocket:
    def __init__(self):
        self.sent: list[str] = []

    async def send_str(self, data):
        self.sent.append(data)

    async def close(self, *, code, message):
        return True


def _frames(sent: list[str]) -> list[dict]:
    """Every frame a device got, envelopes unpacked, in order."""
    out = []
    for data in sent:
        frame = json.loads(data)
        out += frame["frames"] if frame["op"] == "batch" else [frame]
    return out


async def test_a_batch_is_one_envelope_for_a_device_that_opted_in_and_frames_otherwise():
    frames = [{"op": "msg", "chat": "dm:asha:ben", "seq": s, "text": f"m{s}"} for s in (1, 2, 3)]
    for batch, writes in ((True, 1), (False, 3)):
        socket = RecordingSocket()
        conn = Connection("ben", socket, batch=batch)
        await conn.write(*frames, frames[1])  # the repeated seq 2 is dropped: once only
        assert len(socket.sent) == writes
        assert _frames(socket.sent) == frames
        assert conn.sent["msg"] == 3 and conn.envelopes == (1 if batch else 0)


async def test_envelopes_stay_bounded_and_a_lone_frame_goes_as_itself():
    text = "x" * (ENVELOPE_BYTES // 3)
    frames = [{"op": "msg", "chat": "c", "seq": s, "text": text} for s in range(1, 8)]
    socket = RecordingSocket()
    conn = Connection("ben", socket, batch=True)
    await conn.write(*frames)
    assert len(socket.sent) > 1
    assert all(len(data) <= ENVELOPE_BYTES + len(text) + 100 for data in socket.sent)
    assert _frames(socket.sent) == frames
    await conn.write({"op": "pong"})
    assert json.loads(socket.sent[-1]) == {"op": "pong"}


@pytest.mark.parametrize("batch", [True, False])
async def test_a_live_device_gets_queued_frames_in_one_envelope_only_if_it_asked(
    tmp_path, clock, batch
):
    async with (
        await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv,
        aiohttp.ClientSession() as session,
        session.ws_connect(srv.url) as ws,
    ):
        await ws.send_json({"op": "auth", "token": "ben-token", "ref": 0, "batch": batch})
        assert (await ws.receive_json())["op"] == "welcome"
        await ws.send_json({"op": "ping", "ref": 1})  # the writer is live after this reply
        assert await ws.receive_json() == {"op": "pong", "ref": 1}
        conn = srv.server.connections["ben"]
        for i in range(3):  # no await in between: the writer finds all three queued
            conn.offer({"op": "pong", "ref": f"q{i}"})
        first = await ws.receive_json()
        got = first["frames"] if batch else [first] + [await ws.receive_json() for _ in "ab"]
        assert first["op"] == ("batch" if batch else "pong")
        assert got == [{"op": "pong", "ref": f"q{i}"} for i in range(3)]


async def test_batch_must_be_a_boolean_and_the_chat_client_opts_in(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        async with aiohttp.ClientSession() as session, session.ws_connect(srv.url) as ws:
            await ws.send_json({"op": "auth", "token": "ben-token", "batch": "yes"})
            error = (await ws.receive_json())["error"]
            assert (error["code"], error["field"]) == ("BAD_REQUEST_ERROR", "batch")
        async with await ChatClient.connect(srv.url, "asha-token"):
            assert srv.server.connections["asha"].batch is True
