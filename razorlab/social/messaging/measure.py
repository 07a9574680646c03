"""Messaging (WhatsApp scenario): count what a group message really costs on the running engine.

The fan-out model in ``capacity`` says a message to ``n`` members costs
``2 + 5(n - 1)`` frames and ``1 + 2(n - 1)`` stored rows. :func:`measure_fanout` checks it on
a live server with real clients: for each group size it sends one message, lets every member
receive (auto-ack) and read it, and counts the frames the server received and sent; a second
message stored without live delivery (as if every member were offline) counts the rows
written: the inbox rows stay until acknowledged. Counts, not timings: the result is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from razorlab.clock import ManualClock
from razorlab.social.messaging.service import ChatClient, start_chat_server

__all__ = ["measure_fanout"]


def _readers(client: ChatClient, chat: str) -> int:
    """Members whose "read" receipt for message 1 of ``chat`` has reached ``client``."""
    return sum(s == "read" for s in client.receipts.get((chat, 1), {}).values())


async def measure_fanout(sizes: Sequence[int]) -> pd.DataFrame:
    """Frames and rows per message for each group size, counted on a live in-memory server."""
    users = {f"m{i:03d}": f"token-m{i:03d}" for i in range(max(sizes))}
    async with await start_chat_server(":memory:", clock=ManualClock(), users=users) as running:
        server, store = running.server, running.store
        clients = [await ChatClient.connect(running.url, token) for token in users.values()]
        rows = []
        try:
            for n in sizes:
                sender, others = clients[0], clients[1:n]
                chat = (await sender.group(f"size {n}", [c.user for c in others]))["chat"]
                before = sum(server.frames_received().values()) + sum(server.frames_sent().values())
                await sender.send(chat, "hello everyone")
                for member in others:
                    await member.wait_until(lambda c, chat=chat: c.has(chat, 1))
                    await member.post("read", chat=chat, seq=1)
                await sender.wait_until(  # every member's own "read" receipt: the overall
                    lambda c, chat=chat, n=n: _readers(c, chat) == n - 1  # status can come first
                )
                after = sum(server.frames_received().values()) + sum(server.frames_sent().values())
                offline = await store.create_group(
                    clients[0].user, "offline", [c.user for c in others]
                )
                counted = await store.row_counts()
                await store.send(clients[0].user, offline.chat_id, "offline-1", "anyone?")
                written = sum((await store.row_counts()).values()) - sum(counted.values())
                rows.append({"group_size": n, "frames": after - before, "rows": written})
        finally:
            for client in clients:
                await client.close()
    return pd.DataFrame(rows).set_index("group_size")
