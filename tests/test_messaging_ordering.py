"""Messages in a chat get seq 1, 2, 3 … and every member sees them in that order."""

import asyncio

import pytest

from razorlab.social.messaging import ChatClient, start_chat_server

USERS = {name: f"{name}-token" for name in ("asha", "ben", "chen", "dev")}


@pytest.fixture
async def running(tmp_path, clock):
    server = await start_chat_server(str(tmp_path / "chat.db"), clock=clock, users=USERS)
    yield server
    await server.stop()


async def test_concurrent_senders_get_gapless_seqs_and_everyone_sees_one_order(running):
    clients = [await ChatClient.connect(running.url, token) for token in USERS.values()]
    try:
        group = (await clients[0].group("team", ["ben", "chen", "dev"]))["chat"]
        replies = await asyncio.gather(
            *(c.send(group, f"{c.user} says {i}") for c in clients for i in range(5))
        )
        assert sorted(r["seq"] for r in replies) == list(range(1, 21)), "seq has no gaps or dupes"
        for c in clients:
            await c.wait_until(lambda c: len(c.messages) == 15)
            seqs = [m["seq"] for m in c.messages]
            assert seqs == sorted(seqs), f"{c.user} saw messages out of seq order"
            if c.user != "ben":
                from_ben = [m["text"] for m in c.messages if m["sender"] == "ben"]
                assert from_ben == [f"ben says {i}" for i in range(5)], "one sender's order kept"
    finally:
        for c in clients:
            await c.close()


async def test_each_chat_has_its_own_sequence(running):
    store = running.store
    dm = await store.direct("asha", "ben")
    other = await store.direct("asha", "chen")
    seqs = [
        (await store.send("asha", chat.chat_id, f"x{i}", "hello")).message.seq
        for i, chat in enumerate([dm, other, dm, other, dm])
    ]
    assert seqs == [1, 1, 2, 2, 3]


async def test_history_pages_backwards_without_gaps(running):
    store = running.store
    dm = (await store.direct("asha", "ben")).chat_id
    for i in range(7):
        await store.send("asha", dm, f"c{i}", f"message {i}")
    pages, before = [], None
    while True:
        page = await store.history("ben", dm, before=before, limit=3)
        pages.append([m.seq for m in page.messages])
        if page.next_before is None:
            break
        before = page.next_before
    assert pages == [[5, 6, 7], [2, 3, 4], [1]]
