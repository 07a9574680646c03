"""The reference answer to the messaging lab: one stored copy per chat, one cursor per device.

Scenario: a phone's send is answered, the answer is lost and the phone sends again; a laptop
fetches while the phone is offline; the service dies after answering a fetch. The design that
survives all three never lets *delivery* change what is stored — only an acknowledgement
does, and only for the device that sent it.

1. **A send is one transaction**: look the message id up (a retry gets its first answer), take
   the chat's next ``seq``, store the message and the id's position, commit. Order and
   idempotency come from the same atomic step, so two sends cannot take one position.
2. **Fetch only reads**: each device has a durable cursor per chat (the last ``seq`` it
   acknowledged); it is owed every message of its chats after that cursor that another member
   sent. Nothing is deleted or marked when a message goes out, so a lost reply, a crash or a
   second device loses nothing — the next fetch sends it again (at least once).
3. **An ack moves one device's cursor forward** (never back), and is refused beyond the chat's
   last message — a cursor past the end would silently skip the next messages.

This is :mod:`razorlab.social.messaging.store`'s delivery path (``device_acks`` cursors,
cumulative acks, a ``client_id`` that makes a retry a no-op) on the lab's in-process store,
simplified: the messages of a chat are scanned rather than kept in an inbox per user, so a
message is never dequeued (the real store deletes an inbox row once no device needs it).
"""

from __future__ import annotations

from razorlab.errors import ValidationError
from razorlab.labs.messaging import AckResult, Delivery, Directory, SendAck
from razorlab.labs.store import Store

__all__ = ["ReferenceMessages"]


class ReferenceMessages:
    """A delivery service that passes every invariant of the lab (the oracle)."""

    def __init__(self, store: Store, directory: Directory) -> None:
        self.store, self.directory = store, directory

    def _member(self, user: str, chat: str) -> None:
        if user not in self.directory.chats.get(chat, ()):
            raise ValidationError(f"{user!r} is not a member of {chat!r}", field="chat")

    def _device(self, user: str, device: str) -> None:
        if device not in self.directory.devices.get(user, ()):
            raise ValidationError(f"{user!r} has no device {device!r}", field="device")

    async def send(self, message_id: str, sender: str, chat: str, text: str) -> SendAck:
        self._member(sender, chat)
        async with self.store.transaction() as tx:
            placed = await tx.get(f"id/{message_id}")
            if placed is not None:
                return SendAck(message_id, **placed)  # a retry: the first answer, nothing stored
            seq = (await tx.get(f"chat/{chat}") or 0) + 1
            await tx.put(f"chat/{chat}", seq)
            message = {"id": message_id, "sender": sender, "text": text}
            await tx.put(f"msg/{chat}/{seq:08d}", message)  # zero-padded: scans are in order
            await tx.put(f"id/{message_id}", {"chat": chat, "seq": seq})
        return SendAck(message_id, chat, seq)

    async def fetch(self, user: str, device: str) -> list[Delivery]:
        self._device(user, device)
        owed = []
        for chat in self.directory.chats_of(user):
            cursor = await self.store.get(f"cursor/{user}/{device}/{chat}") or 0
            for key, m in await self.store.scan(f"msg/{chat}/"):
                seq = int(key.rsplit("/", 1)[1])
                if seq > cursor and m["sender"] != user:
                    owed.append(Delivery(chat, seq, m["id"], m["sender"], m["text"]))
        return owed

    async def ack(self, user: str, device: str, chat: str, upto: int) -> AckResult:
        self._device(user, device)
        self._member(user, chat)
        key = f"cursor/{user}/{device}/{chat}"
        async with self.store.transaction() as tx:
            last = await tx.get(f"chat/{chat}") or 0
            if not 0 <= upto <= last:
                return AckResult("refused", f"{chat} has no message #{upto} (last is #{last})")
            if upto > (await tx.get(key) or 0):
                await tx.put(key, upto)
        return AckResult("acked")
