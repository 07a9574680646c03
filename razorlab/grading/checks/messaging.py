"""Self-checks for ``solutions/more_scenarios/02_messaging_exercises.ipynb``.

Expected values come from the messaging engine (``razorlab.social.messaging_*``), so a check
and the chapter can never disagree.
"""

from __future__ import annotations

from razorlab.grading.selfcheck import near, question
from razorlab.social.messaging.capacity import connection_servers, fanout_cost
from razorlab.social.messaging.models import Status, message_status

SET = "messaging"
Q1_DAILY_USERS, Q1_CONNECTED_SHARE, Q1_PER_SERVER = 1.5e9, 0.2, 2_000_000
Q5_PER_DAY, Q5_GROUP_SHARE, Q5_GROUP_SIZE = 100e9, 0.3, 50
SECONDS_PER_DAY = 86_400
LABELS = [s.label for s in Status]


def q1_expected() -> int:
    return connection_servers(Q1_DAILY_USERS * Q1_CONNECTED_SHARE, Q1_PER_SERVER)


def q5_expected() -> float:
    mix = (1 - Q5_GROUP_SHARE) * fanout_cost(2)["frames"]
    mix += Q5_GROUP_SHARE * fanout_cost(Q5_GROUP_SIZE)["frames"]
    return Q5_PER_DAY * mix / SECONDS_PER_DAY


@question(
    SET, "q1", covers="a whole number of servers, enough for every connected user and no more"
)
def _q1(servers) -> str | None:
    if isinstance(servers, bool) or not isinstance(servers, int | float):
        return f"servers should be a number, got {servers!r}."
    if servers == Q1_DAILY_USERS / Q1_PER_SERVER:
        return "that sizes a socket for every daily user: only the connected share holds one."
    if near(servers, q1_expected(), rel=0.0) is None and not isinstance(servers, int):
        return "right size, but servers come in whole units: return an int (round up)."
    return near(servers, q1_expected(), rel=0.0, what="the number of servers")


def _msg(chat: str, seq: int, text: str) -> dict:
    return {"op": "msg", "chat": chat, "seq": seq, "text": text}


@question(
    SET, "q2", covers="no frames, the same seq in two chats, equal texts, random redelivery runs"
)
def _q2(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q2', shown_once)."
    frames = [
        _msg("dm", 1, "hi"),
        _msg("dm", 2, "ok"),
        _msg("dm", 1, "hi"),  # redelivered after a reconnect
        _msg("group", 1, "hello all"),
        _msg("dm", 3, "ok"),  # same text, a different message
        _msg("group", 1, "hello all"),
    ]
    got = fn(frames)
    if not isinstance(got, list):
        return f"return a list of texts, got {type(got).__name__}."
    if got == ["hi", "ok", "hello all", "ok"]:
        return None
    if got.count("hi") > 1 or got.count("hello all") > 1:
        return "a redelivered message was shown twice: remember which messages you have shown."
    if "hello all" not in got:
        return "seq numbers are per chat: a message is identified by (chat, seq), not seq alone."
    if got.count("ok") < 2:
        return "two different messages may have the same text: don't deduplicate by text."
    return "not the texts in arrival order, each message once."


@question(SET, "q3", covers="every pair of statuses, including equal ones")
def _q3(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q3', apply_receipt)."
    for current in LABELS:
        for incoming in LABELS:
            got = fn(current, incoming)
            right = max(Status[current.upper()], Status[incoming.upper()]).label
            if got != right:
                if got == incoming:
                    return f"a late {incoming!r} must not undo {current!r}: statuses only move forward."
                return f"({current!r}, {incoming!r}) gives {got!r}: return one of {LABELS}."
    return None


@question(
    SET, "q4", covers="one member, all members equal, a member who has nothing yet, random groups"
)
def _q4(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q4', group_ticks)."
    cases = [
        {"ben": "read", "chen": "delivered", "dev": "read"},
        {"ben": "delivered", "chen": "sent"},
        {"ben": "read", "chen": "read"},
    ]
    for statuses in cases:
        right = message_status({u: Status[s.upper()] for u, s in statuses.items()}).label
        got = fn(statuses)
        if got != right:
            if got == "read" and right != "read":
                return "blue ticks in a group mean *every* member has read it."
            return f"{statuses} gives {got!r}: the group is only as far as its slowest member."
    return None


@question(SET, "q5", covers="the frame count from fanout_cost, within 2%")
def _q5(frames_per_s) -> str | None:
    return near(frames_per_s, q5_expected(), rel=0.02, what="frames per second")
