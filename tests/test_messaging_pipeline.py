"""A device's sends are pipelined: they share commits, keep frame order, and later frames wait."""

import asyncio
import json

import aiohttp
import pytest

from razorlab.social.messaging import ChatClient, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token"}
BURST = 120


@pytest.fixture
async def running(tmp_path, clock):
    server = await start_chat_server(str(tmp_path / "chat.db"), clock=clock, users=USERS)
    yield server
    await server.stop()


async def _raw_burst(url: str, frames: list[dict]) -> list[dict]:
    """Send ``frames`` back to back on one socket (after auth); the replies, in arrival order."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"op": "auth", "token": "asha-token", "ref": 0}))
        assert (await ws.receive_json())["op"] == "welcome"
        for frame in frames:
            await ws.send_str(json.dumps(frame))
        replies = []
        while len(replies) < len(frames):
            reply = await ws.receive_json(timeout=30)
            if reply.get("ref") is not None:
                replies.append(reply)
        return replies


def _send(chat: str, i: int) -> dict:
    return {"op": "send", "chat": chat, "client_id": f"c{i}", "text": f"m{i}", "ref": i + 1}


async def test_a_burst_of_sends_keeps_frame_order_and_shares_commits(running):
    dm = (await running.store.direct("asha", "ben")).chat_id
    before = running.store.commits
    replies = await _raw_burst(running.url, [_send(dm, i) for i in range(BURST)])
    assert [r["op"] for r in replies] == ["sent"] * BURST
    assert [r["ref"] for r in replies] == list(range(1, BURST + 1)), "replies in frame order"
    assert [r["seq"] for r in replies] == list(range(1, BURST + 1)), "seq follows frame order"
    assert running.store.commits - before < BURST / 2, "the burst shared group commits"


async def test_a_frame_after_sends_sees_them_done(running):
    dm = (await running.store.direct("asha", "ben")).chat_id
    frames = [_send(dm, i) for i in range(20)]
    frames.append({"op": "history", "chat": dm, "limit": 50, "ref": 99})
    replies = await _raw_burst(running.url, frames)
    assert replies[-1]["ref"] == 99
    assert [m["seq"] for m in replies[-1]["messages"]] == list(range(1, 21))


async def test_a_device_connecting_during_a_flood_gets_each_message_once_in_order(running):
    async with await ChatClient.connect(running.url, "asha-token") as asha:
        dm = (await asha.direct("ben"))["chat"]
        flood = asyncio.gather(*(asha.send(dm, f"m{i}") for i in range(300)))
        await asyncio.sleep(0)
        async with await ChatClient.connect(running.url, "ben-token") as ben:
            await flood
            await ben.wait_until(lambda c: len(c.messages) == 300, timeout=60)
            assert [m["seq"] for m in ben.messages] == list(range(1, 301))
            assert ben.redeliveries == 0, "nothing written to the device twice"
