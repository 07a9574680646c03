"""Messaging (WhatsApp scenario): the directory — users, tokens, 1:1 chats and groups.

This is the half of the durable store that changes rarely: who exists, which token is
theirs, who is in which chat and who may change a group. ``ChatStore`` (in
``store``) extends it with messages, receipts and offline inboxes; both live in one
SQLite database so a membership check and a send can share a transaction.

Design note: one aiosqlite connection runs one statement at a time, but coroutines could
interleave statements of different transactions, so every write transaction holds an
asyncio lock — the same single-writer rule SQLite applies across processes. Group size is
checked before insert so an oversized group is refused with a clear error and nothing stored.
Group ids the server generates (``group-N``) form a namespace clients may not name, so nobody
can squat the next one and make every later group creation fail with a conflict.
A member added later sees the group's history from the moment they joined (``joined_seq``),
not what was said before they were there. A user's devices (at most :data:`MAX_DEVICES`) are
registered here the first time each connects, so delivery cursors survive a restart, and each
remembers when it was last seen, so one that never returns can be unlinked (see ``store``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import aiosqlite

from razorlab.clock import Clock, SystemClock
from razorlab.errors import ConflictError, ValidationError
from razorlab.social.messaging.models import (
    MAX_DEVICES,
    MAX_GROUP_MEMBERS,
    AuthError,
    Chat,
    GroupFullError,
    NotAdminError,
    NotAMemberError,
    TooManyDevicesError,
    UnknownChatError,
    UnknownUserError,
    direct_chat_id,
    validate_chat_id,
    validate_device_id,
    validate_user_id,
)
from razorlab.sqlite import GroupCommitter, open_database, write_transaction

__all__ = ["ChatDirectory", "SCHEMA", "GROUP_ID_PREFIX"]

GROUP_ID_PREFIX = "group-"  # server-generated group ids; a client may not choose one

_D = TypeVar("_D", bound="ChatDirectory")  # ChatStore.open returns a ChatStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id   TEXT PRIMARY KEY,
    token     TEXT NOT NULL UNIQUE,
    last_seen REAL
);
CREATE TABLE IF NOT EXISTS chats (
    chat_id  TEXT PRIMARY KEY,
    kind     TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    name     TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
    chat_id  TEXT NOT NULL REFERENCES chats(chat_id),
    user_id  TEXT NOT NULL REFERENCES users(user_id),
    is_admin INTEGER NOT NULL DEFAULT 0,
    joined_seq INTEGER NOT NULL DEFAULT 0,  -- the chat's last seq when this member joined
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    chat_id   TEXT NOT NULL REFERENCES chats(chat_id),
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    sender    TEXT NOT NULL,
    client_id TEXT NOT NULL,
    text      TEXT NOT NULL,
    sent_at   REAL NOT NULL,
    device_id TEXT,  -- the sender's device (its other devices get the message as a sync)
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, sender, client_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS receipts (
    chat_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    user_id    TEXT NOT NULL,
    status     INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    updated_at REAL NOT NULL,
    PRIMARY KEY (chat_id, seq, user_id)
) WITHOUT ROWID;
-- an ack or read moves the receipts still behind it: found without scanning the chat's past
CREATE INDEX IF NOT EXISTS receipts_behind ON receipts (chat_id, user_id, status, seq);
CREATE TABLE IF NOT EXISTS inbox (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    UNIQUE (user_id, chat_id, seq)
);
CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox (user_id, id);
CREATE TABLE IF NOT EXISTS receipt_feed (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sender         TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    user_id        TEXT NOT NULL,
    status         INTEGER NOT NULL CHECK (status BETWEEN 2 AND 3),
    message_status INTEGER NOT NULL CHECK (message_status BETWEEN 1 AND 3)
);
CREATE INDEX IF NOT EXISTS receipt_feed_by_sender ON receipt_feed (sender, id);
CREATE TABLE IF NOT EXISTS devices (
    user_id      TEXT NOT NULL REFERENCES users(user_id),
    device_id    TEXT NOT NULL,
    linked_after INTEGER NOT NULL,  -- inbox id when linked: the device gets later rows only
    seen_at      REAL NOT NULL DEFAULT 0,  -- last connected or disconnected (idle expiry)
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_acks (
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    acked_seq INTEGER NOT NULL,  -- the device's delivery cursor in this chat (cumulative)
    PRIMARY KEY (user_id, device_id, chat_id)
) WITHOUT ROWID;
"""

_ADDED_COLUMNS = (  # columns newer than some database files: added when such a file is opened
    ("members", "joined_seq", "INTEGER NOT NULL DEFAULT 0"),
    ("messages", "device_id", "TEXT"),
    ("devices", "seen_at", "REAL NOT NULL DEFAULT 0"),
)


class ChatDirectory:
    """Users and chats on one aiosqlite connection (the base of ``ChatStore``)."""

    def __init__(self, db: aiosqlite.Connection, clock: Clock):
        self._db = db
        self._clock = clock
        self._lock = asyncio.Lock()
        self._committer = GroupCommitter(db, self._lock)  # sends and acks share commits

    @classmethod
    async def open(cls: type[_D], path: str = ":memory:", clock: Clock | None = None) -> _D:
        db = await open_database(path, SCHEMA)
        for table, column, kind in _ADDED_COLUMNS:
            columns = [row[1] for row in await db.execute_fetchall(f"PRAGMA table_info({table})")]
            if column not in columns:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        clock = clock or SystemClock()
        # devices of an older file have no seen_at yet: their idle time starts now
        await db.execute("UPDATE devices SET seen_at = ? WHERE seen_at = 0", (clock.now(),))
        await db.commit()
        return cls(db, clock)

    @property
    def commits(self) -> int:
        """Group commits written so far (sends and acks that arrive together share one)."""
        return self._committer.batches

    async def close(self) -> None:
        await self._committer.drain()
        await self._db.close()

    async def __aenter__(self: _D) -> _D:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        return write_transaction(self._db, self._lock)

    async def _all(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:
        # one round trip to aiosqlite's thread (a cursor context manager would cost three)
        return list(await self._db.execute_fetchall(sql, tuple(args)))

    async def _one(self, sql: str, args: Iterable[object] = ()) -> tuple | None:
        rows = await self._all(sql, args)
        return rows[0] if rows else None

    # ---- users -------------------------------------------------------------------------

    async def register(self, user_id: str, token: str | None = None) -> str:
        """Create a user; returns the bearer token its devices authenticate with."""
        user_id = validate_user_id(user_id)
        token = token if token is not None else secrets.token_urlsafe(16)
        if not isinstance(token, str) or len(token) < 8:
            raise ValidationError("token must be a string of at least 8 characters", field="token")
        async with self._write() as db:
            if await self._one("SELECT 1 FROM users WHERE user_id = ?", (user_id,)):
                raise ConflictError(f"user {user_id!r} already exists", field="user")
            await db.execute("INSERT INTO users (user_id, token) VALUES (?, ?)", (user_id, token))
        return token

    async def user_exists(self, user_id: str) -> bool:
        return await self._one("SELECT 1 FROM users WHERE user_id = ?", (user_id,)) is not None

    async def authenticate(self, token: object) -> str:
        """The user a token belongs to, or :class:`AuthError`."""
        if not isinstance(token, str):  # a list or an object is no token (nor SQL input)
            raise AuthError("token must be a string: {'op': 'auth', 'token': '...'}")
        row = await self._one("SELECT user_id FROM users WHERE token = ?", (token,))
        if row is None:
            raise AuthError("a valid token is required: send {'op': 'auth', 'token': ...} first")
        return row[0]

    async def link_device(self, user_id: str, device_id: str) -> None:
        """Register ``device_id`` as a device of ``user_id`` (a no-op if it already is).

        The user's first device receives the whole inbox; a device linked later receives what
        arrives from then on (WhatsApp's phone sends a new companion an encrypted history sync
        instead; here the ``history`` request serves that). :class:`TooManyDevicesError` beyond
        :data:`MAX_DEVICES`, and nothing is stored.
        """
        device_id = validate_device_id(device_id)
        async with self._write() as db:
            seen = await db.execute(
                "UPDATE devices SET seen_at = ? WHERE user_id = ? AND device_id = ?",
                (self._clock.now(), user_id, device_id),
            )
            if seen.rowcount:
                return  # known already (perhaps linked by a racing connection of the device)
            (count,) = await self._one("SELECT COUNT(*) FROM devices WHERE user_id = ?", (user_id,))
            if count >= MAX_DEVICES:
                raise TooManyDevicesError(
                    f"{user_id!r} already has {count} devices (a primary and "
                    f"{MAX_DEVICES - 1} linked), the most allowed",
                    field="device",
                )
            await db.execute(
                "INSERT INTO devices (user_id, device_id, linked_after, seen_at) SELECT ?, ?, "
                "CASE WHEN ? = 0 THEN 0 ELSE COALESCE(MAX(id), 0) END, ? FROM inbox",
                (user_id, device_id, count, self._clock.now()),
            )

    async def device_seen(self, user_id: str, device_id: str) -> None:
        """``device_id`` was connected until now: its idle time starts again."""
        async with self._write() as db:
            await db.execute(
                "UPDATE devices SET seen_at = ? WHERE user_id = ? AND device_id = ?",
                (self._clock.now(), user_id, device_id),
            )

    async def devices(self, user_id: str) -> dict[str, float]:
        """The user's devices and when each was last seen (epoch seconds)."""
        rows = await self._all(
            "SELECT device_id, seen_at FROM devices WHERE user_id = ? ORDER BY device_id",
            (user_id,),
        )
        return dict(rows)

    async def _require_users(self, users: Iterable[str]) -> None:
        for user in users:
            if not await self._one("SELECT 1 FROM users WHERE user_id = ?", (user,)):
                raise UnknownUserError(f"no user {user!r}", field="user")

    async def set_last_seen(self, user_id: str, at: float) -> None:
        async with self._write() as db:
            await db.execute("UPDATE users SET last_seen = ? WHERE user_id = ?", (at, user_id))

    async def last_seen(self, user_id: str) -> float | None:
        row = await self._one("SELECT last_seen FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            raise UnknownUserError(f"no user {user_id!r}", field="user")
        return row[0]

    # ---- chats and groups --------------------------------------------------------------

    async def direct(self, a: str, b: str) -> Chat:
        """The 1:1 chat of ``a`` and ``b`` (created on first use)."""
        chat_id = direct_chat_id(a, b)
        await self._require_users((a, b))
        async with self._write() as db:
            if not await self._one("SELECT 1 FROM chats WHERE chat_id = ?", (chat_id,)):
                await db.execute(
                    "INSERT INTO chats (chat_id, kind, name) VALUES (?, 'direct', ?)",
                    (chat_id, f"{a} & {b}"),
                )
                await db.executemany(
                    "INSERT INTO members (chat_id, user_id) VALUES (?, ?)",
                    [(chat_id, a), (chat_id, b)],
                )
        return await self.chat(chat_id)

    async def create_group(
        self, creator: str, name: str, members: Iterable[str], chat_id: str | None = None
    ) -> Chat:
        """A group of ``creator`` (its first admin) and ``members``; at most 256 in all."""
        everyone = list(dict.fromkeys([validate_user_id(creator), *map(validate_user_id, members)]))
        if len(everyone) > MAX_GROUP_MEMBERS:
            raise GroupFullError(
                f"a group holds at most {MAX_GROUP_MEMBERS} members, this one would have "
                f"{len(everyone)}",
                field="members",
            )
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a group needs a name", field="name")
        await self._require_users(everyone)
        if chat_id is not None and validate_chat_id(chat_id).startswith(GROUP_ID_PREFIX):
            raise ValidationError(
                f"chat ids starting {GROUP_ID_PREFIX!r} are the server's to give; pick another "
                "or leave it out",
                field="chat",
            )
        async with self._write() as db:
            if chat_id is None:  # the next free number: explicit ids cannot take these
                count = (await self._one("SELECT COUNT(*) FROM chats WHERE kind = 'group'"))[0]
                while await self._one(
                    "SELECT 1 FROM chats WHERE chat_id = ?", (f"{GROUP_ID_PREFIX}{count + 1}",)
                ):
                    count += 1
                chat_id = f"{GROUP_ID_PREFIX}{count + 1}"
            chat_id = validate_chat_id(chat_id)
            if await self._one("SELECT 1 FROM chats WHERE chat_id = ?", (chat_id,)):
                raise ConflictError(f"chat {chat_id!r} already exists", field="chat")
            await db.execute(
                "INSERT INTO chats (chat_id, kind, name) VALUES (?, 'group', ?)", (chat_id, name)
            )
            await db.executemany(
                "INSERT INTO members (chat_id, user_id, is_admin) VALUES (?, ?, ?)",
                [(chat_id, user, int(user == creator)) for user in everyone],
            )
        return await self.chat(chat_id)

    async def add_member(self, actor: str, chat_id: str, user: str, admin: bool = False) -> Chat:
        """An admin adds ``user``; refused with :class:`GroupFullError` at 256 members."""
        chat = await self._group_for_admin(actor, chat_id)
        await self._require_users((validate_user_id(user),))
        if user in chat.members:
            raise ConflictError(f"{user!r} is already in {chat_id!r}", field="user")
        if len(chat.members) >= MAX_GROUP_MEMBERS:
            raise GroupFullError(
                f"{chat_id!r} already has {len(chat.members)} members, the most a group holds",
                field="user",
            )
        async with self._write() as db:
            await db.execute(  # history starts at joining: nothing sent before is visible
                "INSERT INTO members (chat_id, user_id, is_admin, joined_seq) "
                "SELECT ?, ?, ?, last_seq FROM chats WHERE chat_id = ?",
                (chat_id, user, int(admin), chat_id),
            )
        return await self.chat(chat_id)

    async def remove_member(self, actor: str, chat_id: str, user: str) -> Chat:
        """An admin removes ``user`` (or a member leaves); later messages no longer reach them."""
        chat = await self.chat(chat_id)
        if actor != user:
            await self._group_for_admin(actor, chat_id)
        if chat.kind != "group" or user not in chat.members:
            raise NotAMemberError(f"{user!r} is not in group {chat_id!r}", field="user")
        async with self._write() as db:
            await db.execute(
                "DELETE FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user)
            )
        return await self.chat(chat_id)

    async def _group_for_admin(self, actor: str, chat_id: str) -> Chat:
        chat = await self.chat(chat_id)
        if chat.kind != "group":
            raise ValidationError(f"{chat_id!r} is a direct chat, not a group", field="chat")
        if actor not in chat.admins:
            raise NotAdminError(f"only an admin of {chat_id!r} can change its members")
        return chat

    async def chat(self, chat_id: object) -> Chat:
        row = await self._one("SELECT kind, name FROM chats WHERE chat_id = ?", (chat_id,))
        if not isinstance(chat_id, str) or row is None:
            raise UnknownChatError(f"no chat {chat_id!r}", field="chat")
        members = await self._all(
            "SELECT user_id, is_admin FROM members WHERE chat_id = ? ORDER BY user_id", (chat_id,)
        )
        return Chat(
            chat_id,
            row[0],
            row[1],
            tuple(u for u, _ in members),
            tuple(u for u, admin in members if admin),
        )

    async def _require_member(self, user: str, chat_id: object) -> int:
        """The chat's ``seq`` when ``user`` joined; :class:`NotAMemberError` (or
        :class:`UnknownChatError`) unless ``user`` is in the chat."""
        row = await self._one(
            "SELECT joined_seq FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user)
        )
        if row is None:
            await self.chat(chat_id)  # UnknownChatError if there is no such chat
            raise NotAMemberError(f"{user!r} is not a member of {chat_id!r}", field="chat")
        return row[0]
