"""Messaging (WhatsApp scenario): the durable store — messages, receipts and offline inboxes.

A message is safe once :meth:`ChatStore.send` returns: the message row, one receipt row and
one *inbox* row per recipient are written in one SQLite transaction (WAL journal), together
with the chat's next ``seq``. The inbox is the offline queue: a device receives its inbox in
insertion order (so every chat in ``seq`` order) and acknowledgements delete the rows.
Anything not acknowledged — the phone was off, the connection dropped, the server restarted —
is still there on the next connection. Delivery is therefore *at least once*; the client
drops a ``(chat, seq)`` it has already shown, which makes display *exactly once*.

Design note: acknowledgements and reads are cumulative per chat ("everything up to seq 42"),
like TCP's: one frame confirms a burst, and a lost ack is repaired by the next one. Receipts
are updated with ``WHERE status < new`` so they only move forward, whatever order acks and
reads arrive in. A retried send (same sender and ``client_id``) returns the stored message
and writes nothing. WhatsApp keeps undelivered messages up to 30 days; we keep them until
acknowledged.

Receipts are stored too. Every change of a recipient's status appends one row to the
*receipt feed* of the message's sender, in the ack's own transaction, numbered by a global
``receipt_id``. A connected sender is told "new receipts" and her connection's writer sends the
feed in ``receipt_id`` order; an offline one gets it when she reconnects, from the last
``receipt_id`` her device saw. Without the feed a receipt made while the sender's phone was off
was lost, and her ticks stayed grey forever. (The feed grows by at most two rows per recipient
of a message — delivered, then read; a real deployment would trim what every device has seen.)

Several devices per user (WhatsApp's multi-device: the phone and up to four linked devices).
The inbox stays one row per recipient *user*; each device has its own durable cursor per chat
(``device_acks``, cumulative like the acks it records) and its ``linked_after`` inbox position,
so a device is owed every row after its linking that it has not acknowledged. A row leaves the
inbox once no device of its user is owed it. The sender's other devices are owed her own
message too (a row in her inbox, *sent-message sync*), the sending device is not. Receipts stay
per user: the first device to acknowledge (read) makes the message delivered (read). Simplified:
one stored copy per user where WhatsApp stores one encrypted copy per device. A device can be
unlinked (logged out) by the user, and one not seen for :data:`DEVICE_IDLE_S` is unlinked by the
server (WhatsApp logs out a linked device after about 30 days of inactivity; WhatsApp Help
Center, "About linked devices"): its cursors go and the rows only it was owed leave the inbox,
so a device that never returns does not pin its user's inbox forever. The user's last device is
never unlinked — it owns the inbox.

Sends and acks are plain functions run on the database thread through
:class:`~razorlab.sqlite.GroupCommitter`: every send or ack that arrives while a commit is
being written joins the next one, each still atomic on its own (a savepoint), so a busy
server pays one commit for many messages instead of one per message. Each send and each ack
is four statements in the common case (see ``_send_tx``, ``_advance_tx``), and an ack finds
the receipts still behind it through an index instead of scanning the chat's past. Receipt
feeds read at the same time (every sender one ack batch woke) share one hop to the database
thread (:class:`~razorlab.sqlite.GroupReader`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from typing import NoReturn

import aiosqlite

from razorlab.clock import Clock
from razorlab.errors import ConflictError, ValidationError
from razorlab.social.messaging.directory import SCHEMA, ChatDirectory
from razorlab.social.messaging.models import (
    DEFAULT_DEVICE,
    DEVICE_IDLE_S,
    LastDeviceError,
    Message,
    NotAMemberError,
    Status,
    UnknownChatError,
    UnknownDeviceError,
    validate_client_id,
    validate_device_id,
    validate_seq,
    validate_text,
)
from razorlab.sqlite import GroupReader

__all__ = ["ChatStore", "Receipt", "SendResult", "HistoryPage", "SCHEMA", "HISTORY_PAGE"]

HISTORY_PAGE = 50  # messages per history page unless the caller asks for fewer
MAX_HISTORY_PAGE = 200  # the most one history request may fetch
_MESSAGE_COLUMNS = "chat_id, seq, sender, client_id, text, sent_at"
# inbox row ``i`` is still owed to device ``d`` of its user: linked before the row, not yet
# acknowledged in the row's chat, and not the device that sent the message itself
_OWED = (
    "i.id > d.linked_after AND i.seq > COALESCE((SELECT a.acked_seq FROM device_acks a "
    "WHERE a.user_id = d.user_id AND a.device_id = d.device_id AND a.chat_id = i.chat_id), 0) "
    "AND NOT EXISTS (SELECT 1 FROM messages s WHERE s.chat_id = i.chat_id AND s.seq = i.seq "
    "AND s.sender = d.user_id AND s.device_id IS d.device_id)"
)


@dataclass(frozen=True)
class SendResult:
    """A stored message, who must receive it, and whether this send was a retry.

    ``synced``: a copy was queued for the sender's other devices too (sent-message sync).
    """

    message: Message
    recipients: tuple[str, ...]
    duplicate: bool
    synced: bool = False


@dataclass(frozen=True)
class Receipt:
    """One recipient's status moved forward; ``message_status`` is the whole message's now."""

    chat_id: str
    seq: int
    sender: str
    user: str
    status: Status
    message_status: Status
    receipt_id: int = 0  # position in the sender's receipt feed (0: not from the feed)

    def to_dict(self) -> dict[str, object]:
        return {
            "chat": self.chat_id,
            "seq": self.seq,
            "user": self.user,
            "status": self.status.label,
            "message_status": self.message_status.label,
            "receipt_id": self.receipt_id,
        }


@dataclass(frozen=True)
class HistoryPage:
    """Messages in ascending ``seq``; pass ``next_before`` for the older page (None: no more)."""

    messages: tuple[Message, ...]
    next_before: int | None


class _NotAMember(Exception):
    """Raised on the database thread; the caller finds out which error is precise."""


def _rows(conn: sqlite3.Connection, sql: str, args: tuple) -> list[tuple]:
    return conn.execute(sql, args).fetchall()  # fetch all: a RETURNING statement must finish


def _send_tx(
    sender: str,
    device: str,
    chat_id: str,
    client_id: str,
    text: str,
    now: float,
    conn: sqlite3.Connection,
) -> tuple[int, tuple[str, ...] | None, bool]:
    """One send's transaction (runs on the database thread): ``(seq, recipients, synced)``.

    Recipients are ``None`` for a retry of an already stored ``client_id``. ``synced``: the
    sender has other devices, so the message was queued in her own inbox for them as well.
    Four statements in the common case: the message takes the chat's next ``seq`` (unless it
    is a retry or the sender is no member: then nothing is written and we find out which),
    the chat's ``last_seq`` follows, and one statement each fills the inboxes and receipts.
    """
    inserted = _rows(
        conn,
        f"INSERT INTO messages ({_MESSAGE_COLUMNS}, device_id) "
        "SELECT chat_id, last_seq + 1, ?, ?, ?, ?, ? FROM chats WHERE chat_id = ? AND EXISTS "
        "(SELECT 1 FROM members WHERE chat_id = ? AND user_id = ?) "
        "ON CONFLICT (chat_id, sender, client_id) DO NOTHING RETURNING seq",
        (sender, client_id, text, now, device, chat_id, chat_id, sender),
    )
    if not inserted:
        return _stored_send(sender, chat_id, client_id, text, conn)
    seq = inserted[0][0]
    conn.execute("UPDATE chats SET last_seq = ? WHERE chat_id = ?", (seq, chat_id))
    queued = _rows(  # the other members, and the sender herself if she has another device
        conn,
        "INSERT INTO inbox (user_id, chat_id, seq) SELECT user_id, chat_id, ? FROM members "
        "WHERE chat_id = ? AND (user_id != ? OR EXISTS (SELECT 1 FROM devices "
        "WHERE user_id = ? AND device_id != ?)) ORDER BY user_id RETURNING user_id",
        (seq, chat_id, sender, sender, device),
    )
    conn.execute(
        "INSERT INTO receipts (chat_id, seq, user_id, status, updated_at) "
        "SELECT chat_id, ?, user_id, ?, ? FROM members WHERE chat_id = ? AND user_id != ?",
        (seq, int(Status.SENT), now, chat_id, sender),
    )
    recipients = tuple(sorted(user for (user,) in queued if user != sender))
    return seq, recipients, len(recipients) < len(queued)


def _stored_send(
    sender: str, chat_id: str, client_id: str, text: str, conn: sqlite3.Connection
) -> tuple[int, None, bool]:
    """A send that wrote nothing: a retry of ``client_id`` (its ``seq``), else not a member."""
    stored = _rows(
        conn,
        "SELECT seq, text FROM messages WHERE chat_id = ? AND sender = ? AND client_id = ?",
        (chat_id, sender, client_id),
    )
    if not stored:
        raise _NotAMember
    if stored[0][1] != text:
        raise ConflictError(
            f"client_id {client_id!r} was already used for a different message",
            field="client_id",
        )
    return stored[0][0], None, False


def _advance_tx(
    user: str,
    device: str,
    chat_id: str,
    upto: int,
    status: int,
    now: float,
    conn: sqlite3.Connection,
) -> list[tuple[int, str, int, int]]:
    """Move ``device``'s cursor to ``upto``, dequeue what no device of ``user`` still needs,
    and move receipts forward (database thread).

    Returns ``(seq, sender, message_status, receipt_id)`` per receipt moved, each also
    appended to its sender's receipt feed in this same transaction. Four statements in the
    common case: the cursor (only if the ack is valid; otherwise nothing is written and we
    find out why), the dequeue, the feed rows (each with the message's status as it will
    be), and the receipts themselves.
    """
    moved_cursor = _rows(
        conn,
        "INSERT INTO device_acks (user_id, device_id, chat_id, acked_seq) "
        "SELECT ?, ?, chat_id, ? FROM chats c WHERE c.chat_id = ? AND c.last_seq >= ? AND EXISTS "
        "(SELECT 1 FROM members m WHERE m.chat_id = c.chat_id AND m.user_id = ?) "
        "ON CONFLICT DO UPDATE SET acked_seq = MAX(acked_seq, excluded.acked_seq) RETURNING 1",
        (user, device, upto, chat_id, upto, user),
    )
    if not moved_cursor:
        _refuse_advance(user, chat_id, upto, conn)
    conn.execute(
        "DELETE FROM inbox AS i WHERE i.user_id = ? AND i.chat_id = ? AND i.seq <= ? AND NOT "
        f"EXISTS (SELECT 1 FROM devices d WHERE d.user_id = i.user_id AND {_OWED})",
        (user, chat_id, upto),
    )
    behind = "r.chat_id = ? AND r.user_id = ? AND r.status < ? AND r.seq <= ?"
    feed = _rows(
        conn,
        "INSERT INTO receipt_feed (sender, chat_id, seq, user_id, status, message_status) "
        "SELECT m.sender, r.chat_id, r.seq, r.user_id, ?, (SELECT MIN(CASE WHEN o.user_id = "
        "r.user_id THEN ? ELSE o.status END) FROM receipts o WHERE o.chat_id = r.chat_id "
        "AND o.seq = r.seq) FROM receipts r INDEXED BY receipts_behind JOIN messages m "
        f"ON m.chat_id = r.chat_id AND m.seq = r.seq WHERE {behind} ORDER BY r.seq "
        "RETURNING seq, sender, message_status, id",
        (status, status, chat_id, user, status, upto),
    )
    if feed:
        conn.execute(
            f"UPDATE receipts AS r SET status = ?, updated_at = ? WHERE {behind}",
            (status, now, chat_id, user, status, upto),
        )
    return sorted(feed, key=lambda row: row[3])  # feed order is receipt_id order


def _feed_page(sender: str, after: int, limit: int, conn: sqlite3.Connection) -> list[tuple]:
    return _rows(
        conn,
        "SELECT id, chat_id, seq, user_id, status, message_status FROM receipt_feed "
        "WHERE sender = ? AND id > ? ORDER BY id LIMIT ?",
        (sender, after, limit),
    )


def _refuse_advance(user: str, chat_id: str, upto: int, conn: sqlite3.Connection) -> NoReturn:
    """Why an ack or read wrote nothing: not a member, or ``upto`` is beyond the chat."""
    row = _rows(
        conn,
        "SELECT c.last_seq, EXISTS (SELECT 1 FROM members m WHERE m.chat_id = c.chat_id "
        "AND m.user_id = ?) FROM chats c WHERE c.chat_id = ?",
        (user, chat_id),
    )
    if not row or not row[0][1]:
        raise _NotAMember
    raise ValidationError(
        f"chat {chat_id!r} has no message {upto} yet (last is {row[0][0]})", field="seq"
    )


class ChatStore(ChatDirectory):
    """The whole durable state of the chat service: ``store = await ChatStore.open(path)``."""

    def __init__(self, db: aiosqlite.Connection, clock: Clock):
        super().__init__(db, clock)
        self._reads = GroupReader(db)  # receipt feeds woken together are read together

    async def close(self) -> None:
        await self._reads.drain()
        await super().close()

    async def send(
        self, sender: str, chat_id: str, client_id: str, text: str, device: str = DEFAULT_DEVICE
    ) -> SendResult:
        """Store a message and queue it for every other member (and the sender's other
        devices), atomically; retries are no-ops."""
        text, client_id = validate_text(text), validate_client_id(client_id)
        now = self._clock.now()
        try:
            seq, recipients, synced = await self._committer.run(
                partial(_send_tx, sender, device, chat_id, client_id, text, now)
            )
        except _NotAMember:
            await self._not_a_member(sender, chat_id)
        if recipients is None:  # a retry: the stored message, nothing written
            return SendResult(await self.message(chat_id, seq), (), duplicate=True)
        message = Message(chat_id, seq, sender, client_id, text, now)
        return SendResult(message, recipients, duplicate=False, synced=synced)

    async def _not_a_member(self, user: str, chat_id: str) -> NoReturn:
        await self._require_member(user, chat_id)  # raises the precise error
        raise NotAMemberError(f"{user!r} is not a member of {chat_id!r}", field="chat")

    async def message(self, chat_id: str, seq: int) -> Message:
        """One message with every recipient's status."""
        row = await self._one(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND seq = ?",
            (chat_id, seq),
        )
        if row is None:
            raise UnknownChatError(f"no message {seq} in chat {chat_id!r}", field="seq")
        statuses = {
            user: Status(status)
            for user, status in await self._all(
                "SELECT user_id, status FROM receipts WHERE chat_id = ? AND seq = ? "
                "ORDER BY user_id",
                (chat_id, seq),
            )
        }
        return Message(*row, status=min(statuses.values(), default=Status.SENT), statuses=statuses)

    @staticmethod
    def _owed(device: str | None) -> tuple[str, str, tuple[str, ...]]:
        """``(join, where, args)`` selecting inbox rows ``i`` of a user (``?``), or only the
        rows one ``device`` of hers is still owed."""
        if device is None:
            return "", "i.user_id = ?", ()
        join = "JOIN devices d ON d.user_id = i.user_id AND d.device_id = ?"
        return join, f"i.user_id = ? AND {_OWED}", (device,)

    async def pending(
        self, user: str, after: int = 0, limit: int = 100, device: str | None = None
    ) -> list[tuple[int, Message]]:
        """The undelivered messages of ``user`` (of one ``device`` of hers, if given) after
        inbox position ``after``, oldest first."""
        join, where, args = self._owed(device)
        rows = await self._all(
            f"SELECT i.id, m.{_MESSAGE_COLUMNS.replace(', ', ', m.')} FROM inbox i "
            f"JOIN messages m ON m.chat_id = i.chat_id AND m.seq = i.seq {join} "
            f"WHERE {where} AND i.id > ? ORDER BY i.id LIMIT ?",
            (*args, user, after, limit),
        )
        return [(row[0], Message(*row[1:])) for row in rows]

    async def pending_count(self, user: str, device: str | None = None) -> int:
        """Inbox rows of ``user`` (or only those one ``device`` of hers is still owed)."""
        join, where, args = self._owed(device)
        sql = f"SELECT COUNT(*) FROM inbox i {join} WHERE {where}"
        return (await self._one(sql, (*args, user)))[0]

    async def ack(
        self, user: str, chat_id: str, upto: int, device: str = DEFAULT_DEVICE
    ) -> list[Receipt]:
        """``device`` has everything in ``chat_id`` up to ``upto``: its cursor moves, rows no
        device still needs are dequeued, and the user's receipts say delivered."""
        return await self._advance(user, device, chat_id, upto, Status.DELIVERED)

    async def read(
        self, user: str, chat_id: str, upto: int, device: str = DEFAULT_DEVICE
    ) -> list[Receipt]:
        """The user opened the chat up to ``upto`` on ``device``: read implies delivered."""
        return await self._advance(user, device, chat_id, upto, Status.READ)

    async def _advance(
        self, user: str, device: str, chat_id: str, upto: int, status: Status
    ) -> list[Receipt]:
        upto = validate_seq(upto)
        now = self._clock.now()
        try:
            moved = await self._committer.run(
                partial(_advance_tx, user, device, chat_id, upto, int(status), now)
            )
        except _NotAMember:
            await self._not_a_member(user, chat_id)
        return [
            Receipt(chat_id, seq, sender, user, status, Status(low), receipt_id)
            for seq, sender, low, receipt_id in moved
        ]

    async def unlink_device(self, user: str, device: str) -> None:
        """Log ``device`` out: its cursors go, and inbox rows only it was still owed leave.

        :class:`UnknownDeviceError` if the user has no such device; :class:`LastDeviceError`
        for her only device (the inbox would have nobody to deliver to). Linking the same id
        again later makes a new device, owed only what arrives from then on.
        """
        device = validate_device_id(device)
        async with self._write() as db:
            (count,) = await self._one("SELECT COUNT(*) FROM devices WHERE user_id = ?", (user,))
            if not await self._one(
                "SELECT 1 FROM devices WHERE user_id = ? AND device_id = ?", (user, device)
            ):
                raise UnknownDeviceError(f"{user!r} has no device {device!r}", field="device")
            if count == 1:
                raise LastDeviceError(
                    f"{device!r} is {user!r}'s only device; link another one first",
                    field="device",
                )
            for table in ("device_acks", "devices"):
                await db.execute(
                    f"DELETE FROM {table} WHERE user_id = ? AND device_id = ?", (user, device)
                )
            await db.execute(
                "DELETE FROM inbox AS i WHERE i.user_id = ? AND NOT EXISTS "
                f"(SELECT 1 FROM devices d WHERE d.user_id = i.user_id AND {_OWED})",
                (user,),
            )

    async def idle_devices(
        self, idle_s: float = DEVICE_IDLE_S, *, connected: Collection[tuple[str, str]] = ()
    ) -> list[tuple[str, str]]:
        """``(user, device)`` pairs not seen for ``idle_s`` and not ``connected`` now, oldest
        first; a user none of whose devices would stay keeps her most recently seen one."""
        cutoff = self._clock.now() - idle_s
        rows = await self._all(
            "SELECT user_id, device_id, seen_at FROM devices WHERE user_id IN "
            "(SELECT user_id FROM devices WHERE seen_at < ?) "
            "ORDER BY user_id, seen_at DESC, device_id",
            (cutoff,),
        )
        idle: list[tuple[float, str, str]] = []
        for user, devices in groupby(rows, key=lambda row: row[0]):
            mine = [(at, user, device) for _, device, at in devices]
            stale = [d for d in mine if d[0] < cutoff and (user, d[2]) not in connected]
            idle += stale[1:] if len(stale) == len(mine) else stale
        return [(user, device) for _, user, device in sorted(idle)]

    async def receipts_for(self, sender: str, after: int = 0, limit: int = 100) -> list[Receipt]:
        """The sender's receipt feed after ``receipt_id`` ``after``, oldest first (feeds read
        at the same time, e.g. every sender an ack batch woke, share one database hop)."""
        rows = await self._reads.run(partial(_feed_page, sender, after, limit))
        return [
            Receipt(chat, seq, sender, user, Status(status), Status(overall), receipt_id)
            for receipt_id, chat, seq, user, status, overall in rows
        ]

    async def delivered_upto(self, user: str, chat_id: str, device: str = DEFAULT_DEVICE) -> int:
        """The highest ``seq`` of ``chat_id`` that ``device`` of ``user`` is known to have.

        That is the newest message the device acknowledged (acks are cumulative) or sent.
        """
        row = await self._one(
            "SELECT MAX(COALESCE((SELECT acked_seq FROM device_acks WHERE user_id = ? "
            "AND device_id = ? AND chat_id = ?), 0), COALESCE((SELECT MAX(seq) FROM messages "
            "WHERE chat_id = ? AND sender = ? AND device_id IS ?), 0))",
            (user, device, chat_id, chat_id, user, device),
        )
        return row[0] if row else 0

    async def history(
        self, user: str, chat_id: str, before: int | None = None, limit: int = HISTORY_PAGE
    ) -> HistoryPage:
        """Up to ``limit`` messages older than ``before`` (default: the newest), oldest first."""
        joined = await self._require_member(user, chat_id)  # history starts at joining
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 0 < limit <= MAX_HISTORY_PAGE
        ):
            raise ValidationError(
                f"limit must be an integer in 1..{MAX_HISTORY_PAGE}, got {limit!r}", field="limit"
            )
        before = validate_seq(before, "before") if before is not None else None
        rows = await self._all(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND seq < ? "
            "AND seq > ? ORDER BY seq DESC LIMIT ?",
            (chat_id, before if before is not None else 2**62, joined, limit),
        )
        rows.reverse()
        if not rows:
            return HistoryPage((), None)
        overall = dict(
            await self._all(
                "SELECT seq, MIN(status) FROM receipts WHERE chat_id = ? AND seq BETWEEN ? AND ? "
                "GROUP BY seq",
                (chat_id, rows[0][1], rows[-1][1]),
            )
        )
        messages = tuple(Message(*r, status=Status(overall.get(r[1], Status.SENT))) for r in rows)
        first = messages[0].seq
        return HistoryPage(messages, first if first > joined + 1 else None)

    async def row_counts(self) -> dict[str, int]:
        """Rows per table: what a workload cost the store (fan-out shows up in inbox/receipts)."""
        tables = ("messages", "receipts", "inbox")
        return {t: (await self._one(f"SELECT COUNT(*) FROM {t}"))[0] for t in tables}
