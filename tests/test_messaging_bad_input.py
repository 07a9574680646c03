"""Every malformed frame gets a BAD_REQUEST error frame: no crash, no INTERNAL_ERROR, no silence."""

import json

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from razorlab.social.messaging import start_chat_server
from razorlab.social.messaging.server import HARD_FRAME_BYTES, MAX_FRAME_BYTES

USERS = {"asha": "asha-token", "ben": "ben-token"}
DM = "dm:asha:ben"


@pytest.fixture
async def running(clock):
    server = await start_chat_server(":memory:", clock=clock, users=USERS)
    await server.store.direct("asha", "ben")
    await server.store.send("ben", DM, "c1", "hello")
    yield server
    await server.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


async def _authed(session, url):
    ws = await session.ws_connect(url)
    await ws.send_json({"op": "auth", "token": "asha-token", "ref": "a"})
    assert (await ws.receive_json())["op"] == "welcome"
    assert (await ws.receive_json())["op"] == "msg"  # the one message in her inbox
    return ws


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("[" * 30_000 + "]" * 30_000, "frame"),
        ('{"op": "ping", "ref": NaN}', "frame"),
        (
            '{"op": "history", "chat": "dm:asha:ben", "before": 18446744073709551616, "ref": 1}',
            "before",
        ),
        ('{"op": "ack", "chat": "dm:asha:ben", "seq": 18446744073709551616, "ref": 1}', "seq"),
        ('{"op": "read", "chat": ["dm:asha:ben"], "seq": 1, "ref": 1}', "chat"),
        ('{"op": "group", "name": "g", "members": [1, {"a": 2}], "ref": 1}', "user"),
        ('{"op": "group", "name": {"x": 1}, "members": [], "ref": 1}', "name"),
        ('{"op": "presence", "user": null, "ref": 1}', "user"),
        ('{"op": "history", "chat": "dm:asha:ben", "limit": "10", "ref": 1}', "limit"),
    ],
)
async def test_malformed_frames_are_bad_requests(running, session, raw, field):
    ws = await _authed(session, running.url)
    await ws.send_str(raw)
    reply = await ws.receive_json()
    assert reply["op"] == "error", reply
    assert (reply["error"]["code"], reply["error"]["field"]) == ("BAD_REQUEST_ERROR", field)
    await ws.send_json({"op": "ping", "ref": "p"})
    assert (await ws.receive_json())["op"] == "pong"
    await ws.close()


@pytest.mark.parametrize("token", [["asha-token"], {"t": "asha-token"}, 7, None])
async def test_a_token_of_the_wrong_type_is_unauthorized_not_a_crash(running, session, token):
    ws = await session.ws_connect(running.url)
    await ws.send_json({"op": "auth", "token": token, "ref": 1})
    assert (await ws.receive_json())["error"]["code"] == "UNAUTHORIZED"
    await ws.send_str("[" * 30_000)
    assert (await ws.receive_json())["error"]["code"] == "BAD_REQUEST_ERROR"
    await ws.close()


async def test_an_oversized_frame_is_answered_and_a_huge_one_closes_the_socket(running, session):
    ws = await _authed(session, running.url)
    await ws.send_json({"op": "ping", "ref": 1, "pad": "x" * MAX_FRAME_BYTES})
    reply = await ws.receive_json()
    assert (reply["error"]["code"], reply["error"]["field"]) == ("BAD_REQUEST_ERROR", "frame")
    await ws.send_str("x" * (HARD_FRAME_BYTES + 1))
    closing = await ws.receive(timeout=10)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing
    assert ws.close_code == 1009, "message too big"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_ops = st.sampled_from(
    ["send", "ack", "read", "history", "presence", "ping", "direct", "group", "add_member", "x"]
)
_fields = st.sampled_from(
    ["chat", "seq", "text", "client_id", "before", "limit", "user", "name", "members"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(op=_ops, fields=st.dictionaries(_fields, _json, max_size=4))
async def test_random_frames_never_cause_an_internal_error(running, session, op, fields):
    ws = await _authed(session, running.url)
    try:
        await ws.send_str(json.dumps({**fields, "op": op, "ref": "r"}))
        reply = await ws.receive_json()
        assert reply["ref"] == "r"
        if reply["op"] == "error":
            assert reply["error"]["code"] != "INTERNAL_ERROR", reply
    finally:
        await ws.close()
