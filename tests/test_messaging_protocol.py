"""Auth is required, and malformed frames get an error frame — the server keeps serving."""

import aiohttp
import pytest

from razorlab.errors import RazorlabError
from razorlab.social.messaging import CLOSE_REPLACED, ChatClient, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token"}


@pytest.fixture
async def running(tmp_path, clock):
    server = await start_chat_server(str(tmp_path / "chat.db"), clock=clock, users=USERS)
    yield server
    await server.stop()


@pytest.fixture
async def ws(running):
    async with aiohttp.ClientSession() as session, session.ws_connect(running.url) as ws:
        yield ws


async def test_nothing_works_before_auth_and_a_bad_token_is_refused(ws):
    await ws.send_json({"op": "send", "chat": "dm:asha:ben", "text": "hi", "client_id": "1"})
    assert (await ws.receive_json())["error"]["code"] == "UNAUTHORIZED"
    await ws.send_json({"op": "auth", "token": "guess-123"})
    assert (await ws.receive_json())["error"]["code"] == "UNAUTHORIZED"
    await ws.send_json({"op": "auth", "token": "asha-token", "ref": 1})
    assert await ws.receive_json() == {"op": "welcome", "user": "asha", "pending": 0, "ref": 1}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not json", "frame"),
        ("[1, 2]", "op"),
        ('{"op": 7}', "op"),
        ('{"op": "teleport", "ref": 1}', "op"),
        ('{"op": "send", "ref": 1}', "chat"),
        ('{"op": "send", "chat": "dm:asha:ben", "client_id": "c", "text": 5, "ref": 1}', "text"),
        ('{"op": "ack", "chat": "dm:asha:ben", "seq": true, "ref": 1}', "seq"),
        ('{"op": "history", "chat": "dm:asha:ben", "limit": 100000, "ref": 1}', "limit"),
    ],
)
async def test_malformed_frames_get_an_error_frame_and_the_connection_survives(ws, raw, field):
    await ws.send_json({"op": "auth", "token": "asha-token"})
    await ws.receive_json()
    await ws.send_json({"op": "direct", "user": "ben", "ref": 0})
    await ws.receive_json()
    await ws.send_str(raw)
    reply = await ws.receive_json()
    assert reply["op"] == "error" and reply["error"]["field"] == field, reply
    await ws.send_json({"op": "ping", "ref": 2})
    assert await ws.receive_json() == {"op": "pong", "ref": 2}


async def test_binary_frames_are_refused_politely(ws):
    await ws.send_bytes(b"\x00\x01")
    assert (await ws.receive_json())["error"]["field"] == "frame"


async def test_client_raises_the_servers_typed_error(running):
    async with await ChatClient.connect(running.url, "asha-token") as asha:
        with pytest.raises(RazorlabError) as err:
            await asha.send("dm:asha:nobody", "hello?")
        assert err.value.code == "UNKNOWN_CHAT"
        with pytest.raises(RazorlabError) as err:
            await asha.history("group-404")
        assert err.value.code == "UNKNOWN_CHAT"


async def test_a_second_connection_of_the_same_user_replaces_the_first(running):
    first = await ChatClient.connect(running.url, "asha-token")
    async with await ChatClient.connect(running.url, "asha-token") as second:
        assert await first.wait_closed() == CLOSE_REPLACED
        assert (await second.ping())["op"] == "pong"
        assert running.server.connections["asha"] is not None
    await first.close()


async def test_a_client_with_a_bad_token_gets_a_typed_error_and_leaks_nothing(running):
    with pytest.raises(RazorlabError) as err:
        await ChatClient.connect(running.url, "wrong-token")
    assert err.value.code == "UNAUTHORIZED"
