"""The seed's chat design, rebuilt for the lab so the checker can break it.

The seed's messaging service (read in the course's seed text, paraphrased here): the server
gives each message a fresh id and saves it; a WebSocket manager keeps *one connection per
user* and writes the message into that connection's send buffer if the user is online,
otherwise leaves it to a push notification; reading a chat marks its messages read in the
background, with no acknowledgement from the device. As a delivery service:

* ``send`` numbers the message by reading the chat's last number and writing the next one,
  stores it under that number, then pushes it into the recipient's in-memory buffer if that
  *user* has fetched since the process started, else appends it to the user's stored inbox;
* ``fetch`` hands over the buffer and the inbox and empties both — delivered means deleted;
* ``ack`` accepts anything: delivery already removed the message.

The checker finds, in a few steps: a linked device never gets what the phone fetched first
(one queue per user, not a cursor per device); a fetch whose reply is lost deletes messages
nobody received; a crash empties the in-memory buffers of online users; a retried send is
stored twice (nothing looks the id up); two sends read the same last number and share it;
an ack for messages that do not exist is accepted.
"""

from __future__ import annotations

from typing import Any

from razorlab.labs.messaging import AckResult, Delivery, Directory, SendAck
from razorlab.labs.store import Store

__all__ = ["SeedMessages"]


class SeedMessages:
    """Push to the user's connection if online, else store; delete on delivery; no acks."""

    def __init__(self, store: Store, directory: Directory) -> None:
        self.store, self.directory = store, directory
        self.online: dict[str, list[dict[str, Any]]] = {}  # user -> the socket's send buffer

    async def send(self, message_id: str, sender: str, chat: str, text: str) -> SendAck:
        seq = (await self.store.get(f"last/{chat}") or 0) + 1  # read the last number ...
        await self.store.put(f"last/{chat}", seq)  # ... then write the next: not atomic
        message = {"chat": chat, "seq": seq, "message_id": message_id, "sender": sender,
                   "text": text}  # fmt: skip
        await self.store.put(f"msg/{chat}/{seq}", message)  # saved: a new message every call
        for user in self.directory.recipients(chat, sender):
            if user in self.online:
                self.online[user].append(message)  # push to the open socket (memory)
            else:
                inbox = await self.store.get(f"inbox/{user}") or []
                await self.store.put(f"inbox/{user}", [*inbox, message])  # for when they connect
        return SendAck(message_id, chat, seq)

    async def fetch(self, user: str, device: str) -> list[Delivery]:
        pushed = self.online.get(user, [])
        self.online[user] = []  # the user is online now: one connection per user
        inbox = await self.store.get(f"inbox/{user}") or []
        await self.store.put(f"inbox/{user}", [])  # delivered means deleted
        return [Delivery(**m) for m in inbox + pushed]

    async def ack(self, user: str, device: str, chat: str, upto: int) -> AckResult:
        return AckResult("acked")  # nothing to do: the messages left at delivery
