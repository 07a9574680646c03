"""Lab 4, message delivery: the interface the learner implements and the workload it faces.

Scenario: a chat service for three people, two of whom use a phone *and* a linked device
(WhatsApp's multi-device: every device gets its own copy of every message). Phones send with a
message id they chose and retry it when the answer is lost; devices come online now and then,
fetch what they are owed and acknowledge it; the network duplicates requests and loses
replies, and the service crashes at any store call and restarts from its store. A correct
service stores a retried message once, delivers every acknowledged message to every device of
every recipient — across any restart — in each chat's order, never sends a device again what
it has acknowledged, and refuses an acknowledgement for messages that do not exist.

**The interface** (any class with this shape; a fresh instance is built after every crash, so
nothing in ``self`` survives one)::

    class MyMessages:
        def __init__(self, store, directory): ...
        async def send(self, message_id: str, sender: str, chat: str, text: str) -> SendAck: ...
        async def fetch(self, user: str, device: str) -> list[Delivery]: ...
        async def ack(self, user: str, device: str, chat: str, upto: int) -> AckResult: ...

* ``store``: :class:`~razorlab.labs.store.Store`, the only thing that survives a crash; its
  single-key calls answer after a simulated round trip (the ledger lab's
  :class:`~razorlab.labs.ledger.RoundTripStore`), so other requests run between a read and the
  write that depends on it.
* ``directory``: :class:`Directory` — each user's devices and each chat's members.
* ``send`` stores the message under the chat's next ``seq`` (1, 2, 3 … per chat) and answers
  ``SendAck(message_id, chat, seq)``; a retry of the same ``message_id`` gets the same answer.
* ``fetch`` answers, oldest first in each chat, every message *other* members sent to the
  device's chats that this device has not acknowledged (at-least-once: until an ack, a
  message is sent again on every fetch).
* ``ack(user, device, chat, upto)`` says "this device has everything in ``chat`` up to
  ``upto``" — cumulative, like TCP's; ``AckResult("acked")`` moves that device's cursor,
  ``AckResult("refused", reason)`` moves nothing.

Design note: this is :mod:`razorlab.social.messaging`'s delivery model on the lab's store —
per-chat ``seq`` assigned with the message, client-chosen ids that make a retried send a no-op,
per-device cursors moved by cumulative acks, an ack beyond the chat's last message refused.
Simplified: no sent-message sync (the sender's other devices are not owed her own message), no
receipts or ticks, no groups changing membership. The checker judges what clients were told
and what every device receives when a fresh instance is drained at the end, never the
learner's storage layout; there is no restart hook, because nothing needs resuming.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from razorlab.labs.harness import World
from razorlab.labs.ledger import RoundTripWorld
from razorlab.labs.plan import Fault, Op, Plan
from razorlab.rand import py_random

__all__ = [
    "DIRECTORY",
    "DRAIN_ROUNDS",
    "FAR_AHEAD",
    "MESSAGING_LAB",
    "AckResult",
    "Delivery",
    "Directory",
    "MessagingFinal",
    "MessagingLab",
    "MessagingWorld",
    "SendAck",
    "generate",
]

METHODS = ("send", "fetch", "ack")
ACK_STATUSES = ("acked", "refused")
FAR_AHEAD = 1_000  # what a confused device claims to have: more than any chat ever holds
DRAIN_ROUNDS = 3  # fetch-and-ack rounds per device after the final restart
WAIT_MS = (50, 400, 3_000, 15_000)  # how long a device stays offline between syncs
TEXTS = ("hi", "on my way", "call me?", "sent ₹500", "see you at 6")


@dataclass(frozen=True)
class Directory:
    """Who is who: ``devices`` user -> device ids (the phone first), ``chats`` chat -> members."""

    devices: Mapping[str, tuple[str, ...]]
    chats: Mapping[str, tuple[str, ...]]

    def recipients(self, chat: str, sender: str) -> tuple[str, ...]:
        return tuple(u for u in self.chats[chat] if u != sender)

    def chats_of(self, user: str) -> tuple[str, ...]:
        return tuple(c for c, members in self.chats.items() if user in members)

    def all_devices(self) -> list[tuple[str, str]]:
        return [(user, device) for user, ds in self.devices.items() for device in ds]


#: Every run's people and chats: a direct chat and a group; two users have a linked device.
#: Read-only, since every run's service is handed the same one.
DIRECTORY = Directory(
    devices=MappingProxyType(
        {"asha": ("phone", "laptop"), "meera": ("phone", "tablet"), "ravi": ("phone",)}
    ),
    chats=MappingProxyType({"asha-ravi": ("asha", "ravi"), "trio": ("asha", "meera", "ravi")}),
)


@dataclass(frozen=True)
class SendAck:
    """The service has the message: it is message ``seq`` of ``chat``."""

    message_id: str
    chat: str
    seq: int

    def __str__(self) -> str:
        return f"stored {self.message_id} as {self.chat} #{self.seq}"


@dataclass(frozen=True)
class Delivery:
    """One message as a device receives it."""

    chat: str
    seq: int
    message_id: str
    sender: str
    text: str

    def __str__(self) -> str:
        return f"{self.chat} #{self.seq} {self.message_id}"


@dataclass(frozen=True)
class AckResult:
    """``acked`` (the device's cursor moved) or ``refused`` (nothing moved), and why."""

    status: str
    reason: str = ""

    def __str__(self) -> str:
        return self.status + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class MessagingFinal:
    """Judged after the final crash and restart, from a fresh instance.

    ``drains``: ``"user/device"`` -> what :data:`DRAIN_ROUNDS` rounds of fetch-then-ack
    gave that device, in order: a tuple of deliveries per fetch, ``(chat, upto, status)``
    per ack. ``sent``: message id -> ``(sender, chat, text)`` as the phones sent it.
    """

    drains: Mapping[str, tuple[tuple[Delivery, ...] | tuple[str, int, str], ...]]
    sent: Mapping[str, tuple[str, str, str]]


def generate(seed: int, run: int) -> Plan:
    """Run ``run`` of a check seeded with ``seed``: 1–2 phones sending 1–3 messages each, and
    1–2 devices that wait, fetch and acknowledge once or twice — now and then skipping an ack,
    or claiming far more than they got — plus duplicates, lost replies and crashes."""
    r = py_random(seed, f"labs/messaging/plan/{run}")
    ops: list[Op] = []
    users = sorted(DIRECTORY.devices)

    def add(client: int, method: str, args: tuple[object, ...], replays: int = 0) -> None:
        ops.append(Op(len(ops) + 1, client, method, f"k{len(ops) + 1}", args, replays))

    senders = r.randint(1, 2)
    for client in range(1, senders + 1):
        sender = r.choice(users)
        for _ in range(r.randint(1, 3)):
            chat = r.choice(DIRECTORY.chats_of(sender))
            add(client, "send", (sender, chat, r.choice(TEXTS)), 1 if r.random() < 0.15 else 0)
    for client in range(senders + 1, senders + 1 + r.randint(1, 2)):
        user, device = r.choice(DIRECTORY.all_devices())
        for _ in range(r.randint(1, 2)):
            add(client, "wait", (r.choice(WAIT_MS),))
            add(client, "fetch", (user, device))
            for chat in DIRECTORY.chats_of(user):
                if r.random() < 0.8:
                    add(client, "ack", (user, device, chat))
            if r.random() < 0.1:
                add(client, "ack", (user, device, r.choice(DIRECTORY.chats_of(user)), FAR_AHEAD))
    faults: list[Fault] = []
    for op in ops:
        for attempt in (0, 1):
            if op.method != "wait" and r.random() < 0.1:
                faults.append(Fault("duplicate", op.id, attempt))
            if op.method != "wait" and r.random() < 0.1:
                faults.append(Fault("lose_reply", op.id, attempt))
    for odds in (0.5, 0.2):
        if r.random() < odds:
            faults.append(Fault("crash", r.randint(1, 5 * len(ops))))
    return Plan(r.randrange(2**32), tuple(ops), tuple(faults))


def newest(deliveries: tuple[Delivery, ...]) -> dict[str, int]:
    """Chat -> the highest ``seq`` among ``deliveries``: what a device acknowledges."""
    tops: dict[str, int] = {}
    for d in deliveries:
        tops[d.chat] = max(tops.get(d.chat, 0), d.seq)
    return tops


def describe_deliveries(deliveries: tuple[Delivery, ...]) -> str:
    return "got " + ", ".join(map(str, deliveries)) if deliveries else "nothing new"


class MessagingWorld(RoundTripWorld):
    """The shared harness with three changes: the service is built as ``Impl(store,
    directory)`` over a :class:`~razorlab.labs.ledger.RoundTripStore`; a ``wait`` op is a
    device staying offline (the client sleeps on virtual time); and an ``ack`` op without an
    ``upto`` acknowledges, per chat, the newest message of the device's last fetch answer
    (skipped if that answer had none), so acks carry only what the device really received."""

    store_salt = "labs/messaging/store"

    def lab_args(self) -> tuple[tuple[Any, ...], str]:
        return (DIRECTORY,), "store, directory"

    async def _client(self, number: int, ops: list[Op]) -> None:
        lane = f"client {number}"
        last: dict[str, int] = {}
        for op in ops:
            if op.method == "wait":
                (ms,) = op.args
                self.recorder.record(lane, "wait", f"offline for {ms / 1000:g} s", op=op.id)
                await asyncio.sleep(ms / 1000)  # type: ignore[operator]
                continue
            if op.method == "ack" and len(op.args) == 3:
                if op.args[2] not in last:
                    continue  # nothing of that chat arrived: nothing to acknowledge
                op = replace(op, args=(*op.args, last[op.args[2]]))  # type: ignore[index]
            await super()._client(number, [op])  # the harness's retries and re-sends
            if op.method == "fetch":
                got = self._answer_to(op)
                last = newest(got) if isinstance(got, tuple) else {}


async def _tuple_of(call: Awaitable[Any]) -> Any:
    """A fetch answer as a tuple (events hold immutable values); anything else unchanged."""
    got = await call
    return tuple(got) if isinstance(got, list) else got


class MessagingLab:
    """The harness's view of the messaging lab (see :class:`~razorlab.labs.harness.LabSpec`)."""

    name = "messaging"
    methods = METHODS
    constructor = ("store", "directory")
    world = MessagingWorld
    generate = staticmethod(generate)

    def call(self, service: Any, op: Op) -> Awaitable[Any]:
        inner = service.inner
        if op.method == "send":
            return inner.send(op.key, *op.args)
        if op.method == "fetch":
            return _tuple_of(inner.fetch(*op.args))
        return inner.ack(*op.args)

    def check_result(self, op: Op, result: Any) -> str | None:
        if op.method == "send":
            if not isinstance(result, SendAck):
                return f"must return a SendAck, got {type(result).__name__} {result!r}"
            if result.message_id != op.key or result.chat != op.args[1]:
                return f"answered {result}, asked to send {op.key} to {op.args[1]}"
            return None
        if op.method == "fetch":
            return _bad_deliveries(result)
        if not isinstance(result, AckResult) or result.status not in ACK_STATUSES:
            return f"must return AckResult('acked' or 'refused'), got {result!r}"
        return None

    def describe_op(self, op: Op) -> str:
        if op.method == "send":
            sender, chat, text = op.args
            return f"{sender} sends {op.key} to {chat}: {text!r}"
        user, device, *rest = op.args
        if op.method == "fetch":
            return f"{user}/{device} fetches"
        chat, upto = rest
        return f"{user}/{device} acks {chat} up to #{upto}"

    def describe_result(self, result: Any) -> str:
        return describe_deliveries(result) if isinstance(result, tuple) else str(result)

    async def read_back(self, world: World, service: Any) -> MessagingFinal:
        drains = {}
        for user, device in DIRECTORY.all_devices():
            drains[f"{user}/{device}"] = await self._drain(world, service.inner, user, device)
        sent = {op.key: op.args for op in world.plan.ops if op.method == "send"}
        return MessagingFinal(drains, sent)  # type: ignore[arg-type]

    @staticmethod
    async def _drain(world: World, inner: Any, user: str, device: str) -> tuple[Any, ...]:
        """Fetch and acknowledge, up to :data:`DRAIN_ROUNDS` times, until nothing is owed."""
        process = world.process
        assert process is not None
        steps: list[Any] = []
        got: tuple[Delivery, ...] = ()
        for _ in range(DRAIN_ROUNDS):
            label = f"fetch({user!r}, {device!r}) after the final restart"
            got = await world.guarded(process, label, lambda: _tuple_of(inner.fetch(user, device)))
            problem = _bad_deliveries(got)
            if problem:
                world.fail_interface(label, problem)
                return ()
            steps.append(got)
            if not got:
                break
            for chat, upto in sorted(newest(got).items()):
                label = f"ack({user!r}, {device!r}, {chat!r}, {upto}) after the final restart"
                answer = await world.guarded(
                    process, label, lambda c=chat, u=upto: inner.ack(user, device, c, u)
                )
                if not isinstance(answer, AckResult):
                    world.fail_interface(label, f"must return an AckResult, got {answer!r}")
                    return ()
                steps.append((chat, upto, answer.status))
        first = steps[0] if steps else ()
        world.recorder.record("harness", "final", f"after the final crash and restart, "
                              f"{user}/{device} {describe_deliveries(first)}")  # fmt: skip
        return tuple(steps)


def _bad_deliveries(result: Any) -> str | None:
    if not isinstance(result, tuple) or not all(isinstance(d, Delivery) for d in result):
        return f"fetch must return a list of Delivery, got {result!r}"
    return None


MESSAGING_LAB = MessagingLab()
