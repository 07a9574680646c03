"""The messaging lab's invariants: small pure functions over (history, final drain).

Scenario: after a run of retried sends, duplicated fetches, lost acks and a crash or two, did
every device get every message once, in order? Each rule is one sentence an interviewer at a
chat company asks, judged from what phones and devices were *told* (``ok`` answers) and what
each device receives when a fresh instance is drained after the final crash.

Design note. Like :mod:`~razorlab.labs.invariants`, each checker is
``(history, final) -> list[str]``, pure, and tested against hand-written states that break
it. Everything a device did becomes its *log* (:func:`device_logs`): its fetch answers and ack
answers in the order they happened — the run's, from the history (an entry starts when its
successful attempt was sent and ends when the answer arrived), then the final drain's.
Delivery is at least once, so receiving a message again is allowed until an ack covering it
was confirmed; timeouts (``info``) promise nothing, so only ``ok`` answers are read. A device
is owed what *other* members send to its chats; what it gets of its own user's messages is not
judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from razorlab.labs.history import Event, History
from razorlab.labs.messaging import DIRECTORY, AckResult, Delivery, MessagingFinal, SendAck

__all__ = [
    "MESSAGING_INVARIANTS",
    "MessagingInvariant",
    "Seen",
    "device_logs",
    "acknowledged_send_reaches_every_device",
    "retried_send_stored_once",
    "no_redelivery_after_ack",
    "conversation_order_per_device",
    "ack_only_what_was_delivered",
]

MessagingInvariant = Callable[[History, MessagingFinal], list[str]]
AFTER_THE_RUN = 10.0**9  # the drain's entries come after everything the run did


@dataclass(frozen=True)
class Seen:
    """One fetch or ack answer a device received: when it was sent and answered, and what."""

    start: float
    end: float
    deliveries: tuple[Delivery, ...] = ()
    ack: tuple[str, int, str] | None = None  # (chat, upto, status) for an ack

    def when(self) -> str:
        return "after the final restart" if self.start >= AFTER_THE_RUN else f"t={self.end:.3f}s"


def _answered(history: History) -> Iterator[tuple[Event, Event]]:
    """``(invoke, ok)`` for every answered attempt, in the order the answers arrived."""
    invokes = {(e.op, e.attempt): e for e in history.of_kind("invoke")}
    for ok in history.of_kind("ok"):
        invoke = invokes.get((ok.op, ok.attempt))
        if invoke is not None:
            yield invoke, ok


def _sends(history: History) -> dict[str, list[tuple[Event, Event, SendAck]]]:
    found: dict[str, list[tuple[Event, Event, SendAck]]] = defaultdict(list)
    for invoke, ok in _answered(history):
        result = ok.get("result")
        if isinstance(result, SendAck):
            found[result.message_id].append((invoke, ok, result))
    return found


def device_logs(history: History, final: MessagingFinal) -> dict[str, list[Seen]]:
    """``"user/device"`` -> its fetch and ack answers in order: the run's, then the drain's."""
    logs: dict[str, list[Seen]] = defaultdict(list)
    for invoke, ok in _answered(history):
        result, args = ok.get("result"), invoke.get("args")
        if isinstance(result, SendAck) or not isinstance(args, tuple):
            continue
        label = f"{args[0]}/{args[1]}"
        if isinstance(result, AckResult):
            logs[label].append(Seen(invoke.t, ok.t, ack=(args[2], args[3], result.status)))
        elif isinstance(result, tuple):
            logs[label].append(Seen(invoke.t, ok.t, deliveries=result))
    for label, steps in final.drains.items():
        for i, step in enumerate(steps):
            t = AFTER_THE_RUN + i
            if not step or isinstance(step[0], Delivery):
                logs[label].append(Seen(t, t, deliveries=step))  # type: ignore[arg-type]
            else:
                logs[label].append(Seen(t, t, ack=step))  # type: ignore[arg-type]
    return logs


def _received(log: list[Seen]) -> Iterator[tuple[Seen, Delivery]]:
    for seen in log:
        for delivery in seen.deliveries:
            yield seen, delivery


def _describe(final: MessagingFinal, key: str) -> str:
    sender, chat, _ = final.sent.get(key, ("?", "?", ""))
    return f"{key} ({sender} → {chat})"


def acknowledged_send_reaches_every_device(history: History, final: MessagingFinal) -> list[str]:
    """Every message the sender was told is stored reaches every device of every recipient.

    "Stored" is the single grey tick: the phone stops retrying, the user walks away. From then
    on the message must arrive at each recipient's phone *and* each linked device — even if the
    service crashed after it answered, a device fetched it but never got the reply, or another
    device of the same user took it first. A queue per user instead of a cursor per device, an
    in-memory buffer, or deleting a message when it is sent rather than when it is acknowledged
    each lose it.
    """
    logs = device_logs(history, final)
    problems = []
    for key in sorted(_sends(history)):
        sender, chat, _ = final.sent[key]
        for user in DIRECTORY.recipients(chat, sender):
            for device in DIRECTORY.devices[user]:
                label = f"{user}/{device}"
                if not any(d.message_id == key for _, d in _received(logs.get(label, []))):
                    problems.append(f"{_describe(final, key)} was acknowledged as stored; "
                                    f"{label} never received it")  # fmt: skip
    return problems


def retried_send_stored_once(history: History, final: MessagingFinal) -> list[str]:
    """A message id is stored once: every answer and every delivery names one chat position.

    The phone names each message before sending it, so a retry after a lost answer, or a
    request the network delivered twice, carries the same id. A service that stores each
    arrival as a new message shows the recipient the message twice; one that gives two
    messages the same position overwrites one of them.
    """
    places: dict[str, set[tuple[str, int]]] = defaultdict(set)
    holders: dict[tuple[str, int], set[str]] = defaultdict(set)
    for key, answers in _sends(history).items():
        places[key] |= {(a.chat, a.seq) for _, _, a in answers}
    for log in device_logs(history, final).values():
        for _, d in _received(log):
            places[d.message_id].add((d.chat, d.seq))
    for key, where in places.items():
        for place in where:
            holders[place].add(key)
    problems = [f"{_describe(final, key)} was stored {len(where)} times: as "
                + ", ".join(f"{c} #{s}" for c, s in sorted(where))
                for key, where in sorted(places.items()) if len(where) > 1]  # fmt: skip
    problems += [f"{chat} #{seq} holds {len(keys)} messages: {', '.join(sorted(keys))}"
                 for (chat, seq), keys in sorted(holders.items()) if len(keys) > 1]  # fmt: skip
    return problems


def no_redelivery_after_ack(history: History, final: MessagingFinal) -> list[str]:
    """A device never receives again a message it has acknowledged.

    Until its ack is confirmed a device may get a message again (its ack was lost; the client
    drops a repeat it has shown). Once the service said "acked", the device's cursor is past
    it: sending it again means the cursor was not stored, or stored per user rather than per
    device, and the user sees it twice after every reconnect.
    """
    problems = []
    for label, log in sorted(device_logs(history, final).items()):
        acked = [s for s in log if s.ack is not None and s.ack[2] == "acked"]
        for seen, d in _received(log):
            for ack in acked:
                chat, upto, _ = ack.ack  # type: ignore[misc]
                if ack.end < seen.start and d.chat == chat and d.seq <= upto:
                    problems.append(f"{label} acked {chat} up to #{upto} ({ack.when()}), then "
                                    f"received {d} again ({seen.when()})")  # fmt: skip
                    break
    return problems


def conversation_order_per_device(history: History, final: MessagingFinal) -> list[str]:
    """Each chat has one order: later sends get later positions, and every device sees it.

    A message sent after another was acknowledged must come after it in the chat, and a device
    must receive a chat's messages in that order — a device shown #3 and only later #2 shows
    the conversation scrambled. Only a position assigned in the same atomic step that stores
    the message, read back by a cursor per chat, gives both.
    """
    problems = []
    first_sent: dict[str | None, float] = {}  # an earlier attempt may be the one that stored it
    for invoke in reversed(history.of_kind("invoke")):
        first_sent[invoke.key] = invoke.t
    by_chat: dict[str, list[tuple[float, float, SendAck]]] = defaultdict(list)
    for key, answers in _sends(history).items():
        _, ok, ack = min(answers, key=lambda a: a[1].t)
        by_chat[ack.chat].append((first_sent.get(key, ok.t), ok.t, ack))
    for chat, sends in sorted(by_chat.items()):
        for _, stored, a in sends:
            for sent, _, b in sends:
                if stored < sent and a.seq >= b.seq:
                    problems.append(f"{chat}: {b.message_id} was sent after {a.message_id} was "
                                    f"stored as #{a.seq}, but got #{b.seq}")  # fmt: skip
    for label, log in sorted(device_logs(history, final).items()):
        newest: dict[str, Delivery] = {}
        seen_ids: set[tuple[str, int]] = set()
        for seen, d in _received(log):
            if (d.chat, d.seq) in seen_ids:
                continue  # a redelivery: allowed until acknowledged
            seen_ids.add((d.chat, d.seq))
            before = newest.get(d.chat)
            if before is not None and d.seq < before.seq:
                problems.append(f"{label} received {d} ({seen.when()}) after {before}")
            else:
                newest[d.chat] = d
    return problems


def ack_only_what_was_delivered(history: History, final: MessagingFinal) -> list[str]:
    """An ack is accepted for what the device received and refused beyond the chat's end.

    A device that acknowledges the messages it got must have its cursor moved, or it gets them
    forever. A device that claims messages no one has sent yet — a bug, a restored backup, a
    hostile client — must be refused: a cursor moved past the chat's end silently skips the
    messages that arrive next.
    """
    newest: dict[str, int] = defaultdict(int)  # the highest position any answer names, per chat
    for answers in _sends(history).values():
        for _, _, a in answers:
            newest[a.chat] = max(newest[a.chat], a.seq)
    logs = device_logs(history, final)
    for log in logs.values():
        for _, d in _received(log):
            newest[d.chat] = max(newest[d.chat], d.seq)
    problems = []
    for label, log in sorted(logs.items()):
        got: dict[str, int] = defaultdict(int)
        for seen in log:
            for d in seen.deliveries:
                got[d.chat] = max(got[d.chat], d.seq)
            if seen.ack is None:
                continue
            chat, upto, status = seen.ack
            if status == "acked" and upto > newest[chat]:
                problems.append(f"{label}: ack of {chat} up to #{upto} was accepted; the chat's "
                                f"last message is #{newest[chat]}")  # fmt: skip
            elif status == "refused" and upto <= got[chat]:
                problems.append(f"{label}: ack of {chat} up to #{upto} was refused; the device "
                                f"had received up to #{got[chat]}")  # fmt: skip
    return problems


MESSAGING_INVARIANTS: tuple[MessagingInvariant, ...] = (
    acknowledged_send_reaches_every_device,
    retried_send_stored_once,
    no_redelivery_after_ack,
    conversation_order_per_device,
    ack_only_what_was_delivered,
)
