"""SQLite seat store (aiosqlite): the schema itself makes double booking impossible.

The application checks seats before claiming them, but the last defence is the database:

* ``claims`` has one row per (hold, seat) and a partial UNIQUE index on (show, seat) over
  rows with ``live = 1`` — a second live claim on a seat fails with an integrity error, even
  if the Python check above it is wrong or skipped;
* triggers keep ``claims.live`` in step with ``holds.status`` (a released or expired hold's
  claims stop being live) and make released, expired and confirmed holds final;
* a CHECK ties ``status = 'confirmed'`` to a non-null ``payment_id``: no booking without a
  payment;
* ``token`` is an AUTOINCREMENT key, so fencing tokens only grow and are never reused;
* a claim is live only while its hold is: a claim cannot be inserted live for a hold that is
  not held, a freed claim can never become live again, and a live hold's claims cannot be
  freed or deleted behind its back (triggers) — so no raw UPDATE resurrects a released seat;
* ``payment_attempts`` holds one row per paid-for hold, written before the charge and after
  it; a trigger allows only the attempt state machine's moves (``ATTEMPT_MOVES``), another
  lets an attempt be ``confirmed`` only when its hold is confirmed with that very payment.

Races between connections (two processes, or two stores on one file) surface as typed
booking errors: each write re-checks the state it read in its WHERE clause, and when that
matches no row the hold is read again and the usual checks raise the right error.

A multi-seat hold is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): all seats or none.
One aiosqlite connection runs one statement at a time but coroutines could interleave
*between* statements of different transactions, so each transaction holds an asyncio lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

import aiosqlite

from razorlab.money import Money
from razorlab.social.booking.memory_store import (
    check_attempt_move,
    check_confirmable,
    check_not_refunded,
    check_releasable,
)
from razorlab.social.booking.models import (
    AttemptState,
    Claim,
    Hold,
    HoldExpired,
    HoldNotActive,
    HoldStatus,
    PaymentAttempt,
    Seat,
    SeatsUnavailable,
    Show,
    StaleToken,
    UnknownHold,
    UnknownShow,
    validate_request,
)
from razorlab.sqlite import open_database, write_transaction

__all__ = ["SqliteSeatStore", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS shows (
    show_id   TEXT PRIMARY KEY,
    title     TEXT NOT NULL,
    starts_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    show_id     TEXT NOT NULL REFERENCES shows(show_id),
    seat_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    price_paise INTEGER NOT NULL CHECK (price_paise >= 0),
    position    INTEGER NOT NULL,  -- order on the seat map, front row first
    PRIMARY KEY (show_id, seat_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS holds (
    token        INTEGER PRIMARY KEY AUTOINCREMENT,
    show_id      TEXT NOT NULL REFERENCES shows(show_id),
    user_id      TEXT NOT NULL,
    amount_paise INTEGER NOT NULL CHECK (amount_paise >= 0),
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'released', 'expired')),
    payment_id   TEXT,
    CHECK ((status = 'confirmed') = (payment_id IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS claims (
    token   INTEGER NOT NULL REFERENCES holds(token),
    show_id TEXT NOT NULL,
    seat_id TEXT NOT NULL,
    live    INTEGER CHECK (live = 1),
    PRIMARY KEY (token, seat_id),
    FOREIGN KEY (show_id, seat_id) REFERENCES seats(show_id, seat_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_claim_per_seat
    ON claims(show_id, seat_id) WHERE live = 1;
CREATE INDEX IF NOT EXISTS holds_due ON holds(expires_at) WHERE status = 'held';
CREATE TRIGGER IF NOT EXISTS final_states_are_final
    BEFORE UPDATE OF status ON holds WHEN OLD.status != 'held' AND NEW.status != OLD.status
    BEGIN SELECT RAISE(ABORT, 'released, expired and confirmed holds are final'); END;
CREATE TRIGGER IF NOT EXISTS ended_holds_free_seats
    AFTER UPDATE OF status ON holds WHEN NEW.status IN ('released', 'expired')
    BEGIN UPDATE claims SET live = NULL WHERE token = NEW.token; END;
CREATE TRIGGER IF NOT EXISTS claims_start_with_a_held_hold
    BEFORE INSERT ON claims WHEN NEW.live IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM holds WHERE token = NEW.token AND status = 'held'
        AND show_id = NEW.show_id)
    BEGIN SELECT RAISE(ABORT, 'a live claim needs a held hold of the same show'); END;
CREATE TRIGGER IF NOT EXISTS freed_claims_stay_free
    BEFORE UPDATE OF live ON claims WHEN OLD.live IS NULL AND NEW.live IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a freed claim can never be live again'); END;
CREATE TRIGGER IF NOT EXISTS live_holds_keep_their_claims
    BEFORE UPDATE OF live ON claims WHEN NEW.live IS NULL AND EXISTS (
        SELECT 1 FROM holds WHERE token = OLD.token AND status IN ('held', 'confirmed'))
    BEGIN SELECT RAISE(ABORT, 'a live hold keeps its claims'); END;
CREATE TRIGGER IF NOT EXISTS live_claims_are_not_deleted
    BEFORE DELETE ON claims WHEN OLD.live IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a live hold keeps its claims'); END;
CREATE TABLE IF NOT EXISTS payment_attempts (
    token           INTEGER PRIMARY KEY REFERENCES holds(token),
    idempotency_key TEXT NOT NULL,  -- "hold-<token>", unique as the token is
    amount_paise    INTEGER NOT NULL CHECK (amount_paise >= 0),
    state           TEXT NOT NULL CHECK (state IN ('started', 'paid', 'declined', 'abandoned',
                                                   'confirmed', 'refunding', 'refunded')),
    payment_id      TEXT,
    started_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    CHECK ((state IN ('paid', 'confirmed', 'refunding', 'refunded')) = (payment_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS open_attempts
    ON payment_attempts(token) WHERE state IN ('started', 'paid', 'refunding');
CREATE TRIGGER IF NOT EXISTS attempts_follow_their_state_machine
    BEFORE UPDATE ON payment_attempts WHEN NOT (
        (OLD.state = NEW.state AND NEW.payment_id IS OLD.payment_id)
        OR (OLD.state = 'started' AND NEW.state IN ('paid', 'declined', 'abandoned',
                                                     'confirmed'))
        OR (OLD.state = 'paid' AND NEW.state IN ('confirmed', 'refunding')
            AND NEW.payment_id = OLD.payment_id)
        OR (OLD.state = 'refunding' AND NEW.state = 'refunded'
            AND NEW.payment_id = OLD.payment_id))
    BEGIN SELECT RAISE(ABORT, 'illegal payment attempt move'); END;
CREATE TRIGGER IF NOT EXISTS confirmed_attempts_bought_their_hold
    BEFORE UPDATE OF state ON payment_attempts WHEN NEW.state = 'confirmed' AND NOT EXISTS (
        SELECT 1 FROM holds WHERE token = NEW.token AND status = 'confirmed'
        AND payment_id = NEW.payment_id)
    BEGIN SELECT RAISE(ABORT, 'an attempt is confirmed only with its hold'); END;
"""

_ATTEMPT_COLUMNS = "token, idempotency_key, amount_paise, state, payment_id, started_at, updated_at"

_HOLD_COLUMNS = "token, show_id, user_id, amount_paise, created_at, expires_at, status, payment_id"


class SqliteSeatStore:
    """``SeatStore`` on one aiosqlite connection; ``await SqliteSeatStore.open(path)``."""

    def __init__(self, db: aiosqlite.Connection):
        self._db = db
        self._lock = asyncio.Lock()
        self._shows: dict[str, Show] = {}  # read-mostly catalogue cache; rows are the truth

    @classmethod
    async def open(cls, path: str = ":memory:") -> SqliteSeatStore:
        return cls(await open_database(path, SCHEMA))

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        return write_transaction(self._db, self._lock)

    def _begin(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction; the caller holds ``self._lock``."""
        return write_transaction(self._db, None)

    async def add_show(self, show: Show) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO shows VALUES (?, ?, ?)", (show.show_id, show.title, show.starts_at)
            )
            await db.executemany(
                "INSERT INTO seats VALUES (?, ?, ?, ?, ?)",
                [
                    (show.show_id, s.seat_id, s.category, s.price.paise, i)
                    for i, s in enumerate(show.seats)
                ],
            )
        self._shows[show.show_id] = show

    async def show(self, show_id: str) -> Show:
        if show_id not in self._shows:
            async with self._lock:
                rows = await self._db.execute_fetchall(
                    "SELECT s.title, s.starts_at, t.seat_id, t.category, t.price_paise"
                    " FROM shows s JOIN seats t USING (show_id) WHERE show_id = ? ORDER BY t.position",
                    (show_id,),
                )
            if not rows:
                raise UnknownShow(f"no show {show_id!r}", field="show_id")
            seats = tuple(Seat(r[2], r[3], Money(r[4])) for r in rows)
            self._shows[show_id] = Show(show_id, rows[0][0], rows[0][1], seats)
        return self._shows[show_id]

    async def show_ids(self) -> list[str]:
        """Every show in the file, oldest first: a restarted server's catalogue."""
        async with self._lock:
            rows = await self._db.execute_fetchall("SELECT show_id FROM shows ORDER BY rowid")
        return [r[0] for r in rows]

    async def hold(
        self, show_id: str, seat_ids: Sequence[str], user_id: str, now: float, ttl_s: float
    ) -> Hold:
        show = await self.show(show_id)
        seats = validate_request(show, seat_ids, user_id)
        async with self._lock:
            taken, due = await self._taken(show_id, seats, now)
            if taken:  # the common case in a rush: rejected with one read, no transaction
                raise SeatsUnavailable(f"seats {', '.join(taken)} are taken", field="seat_ids")
            amount = show.price_of(seats)
            async with self._begin() as db:
                if due:  # lazy expiry of the holds that still claim these seats
                    await db.execute(
                        f"UPDATE holds SET status = 'expired' WHERE status = 'held'"
                        f" AND token IN ({','.join('?' * len(due))})",
                        due,
                    )
                cursor = await db.execute(
                    "INSERT INTO holds (show_id, user_id, amount_paise, created_at, expires_at,"
                    " status) VALUES (?, ?, ?, ?, ?, 'held')",
                    (show_id, user_id, amount.paise, now, now + ttl_s),
                )
                token = cursor.lastrowid
                try:
                    await db.executemany(
                        "INSERT INTO claims VALUES (?, ?, ?, 1)",
                        [(token, show_id, s) for s in seats],
                    )
                except sqlite3.IntegrityError:  # the index caught what the check missed
                    raise SeatsUnavailable("some seats were taken", field="seat_ids") from None
        return Hold(token, show_id, user_id, seats, amount, now, now + ttl_s)

    async def _taken(
        self, show_id: str, seats: tuple[str, ...], now: float
    ) -> tuple[list[str], list[int]]:
        """Seats in live unexpired holds, and tokens of expired holds still claiming some.

        This is the application-level check; the UNIQUE index guards if it is wrong.
        """
        rows = await self._db.execute_fetchall(
            "SELECT c.seat_id, c.token, h.status = 'held' AND h.expires_at <= ?"
            " FROM claims c JOIN holds h USING (token) WHERE c.show_id = ? AND c.live = 1"
            f" AND c.seat_id IN ({','.join('?' * len(seats))}) ORDER BY c.seat_id",
            (now, show_id, *seats),
        )
        taken = [seat for seat, _, due in rows if not due]
        return taken, sorted({token for _, token, due in rows if due})

    async def release(self, token: int, user_id: str, now: float) -> Hold:
        async with self._lock:
            hold = await self._expire_and_read(token, now)
            check_releasable(hold, user_id)
            cursor = await self._db.execute(
                "UPDATE holds SET status = 'released' WHERE token = ? AND status = 'held'",
                (token,),
            )
            if cursor.rowcount == 0:  # another connection ended or confirmed it since our read
                check_releasable(await self._read(token), user_id)  # raises the typed error
            return await self._read(token)

    async def confirm(self, token: int, user_id: str, payment_id: str, now: float) -> Hold:
        async with self._lock:
            hold = await self._expire_and_read(token, now)
            replay = check_confirmable(hold, user_id, payment_id, now)
            async with self._begin() as db:
                if not replay and not await self._confirm_held(db, hold, payment_id, now):
                    raced = True  # another connection changed the hold since our read
                else:
                    raced = False
                    await db.execute(
                        "UPDATE payment_attempts SET state = 'confirmed', payment_id = ?,"
                        " updated_at = ? WHERE token = ? AND (state = 'started'"
                        " OR (state = 'paid' AND payment_id = ?))",
                        (payment_id, now, token, payment_id),
                    )
            hold = await self._expire_and_read(token, now)
            if raced and not check_confirmable(hold, user_id, payment_id, now):
                raise StaleToken(f"token {token} no longer owns its seats", field="token")
            return hold

    async def _confirm_held(
        self, db: aiosqlite.Connection, hold: Hold, payment_id: str, now: float
    ) -> bool:
        """Inside a write transaction: confirm if the hold is still held and owns its seats."""
        check_not_refunded(await self._attempt_row(hold.token), payment_id)
        live = await db.execute_fetchall(
            "SELECT count(*) FROM claims WHERE token = ? AND live = 1", (hold.token,)
        )
        if live[0][0] != len(hold.seat_ids):  # fencing: the token must own every seat
            raise StaleToken(f"token {hold.token} no longer owns its seats", field="token")
        cursor = await db.execute(
            "UPDATE holds SET status = 'confirmed', payment_id = ?"
            " WHERE token = ? AND status = 'held' AND expires_at > ?",
            (payment_id, hold.token, now),
        )
        return cursor.rowcount == 1

    async def begin_payment(self, token: int, now: float) -> PaymentAttempt:
        async with self._lock:
            async with self._begin() as db:  # one statement: the intent exists iff held in time
                await db.execute(
                    "INSERT INTO payment_attempts SELECT token, 'hold-' || token, amount_paise,"
                    " 'started', NULL, ?, ? FROM holds WHERE token = ? AND status = 'held'"
                    " AND expires_at > ? ON CONFLICT (token) DO NOTHING",
                    (now, now, token, now),
                )
            attempt = await self._attempt_row(token)
            if attempt is None:
                hold = await self._expire_and_read(token, now)
        if attempt is None:
            if hold.status is HoldStatus.EXPIRED:
                raise HoldExpired(f"hold {token} expired; hold the seats again", field="token")
            raise HoldNotActive(
                f"hold {token} is {hold.status.value}; nothing to pay", field="token"
            )
        return attempt

    async def advance_payment(
        self,
        token: int,
        expected: AttemptState,
        new: AttemptState,
        now: float,
        payment_id: str | None = None,
    ) -> bool:
        check_attempt_move(expected, new, payment_id)
        async with self._lock:
            if await self._attempt_row(token) is None:
                raise UnknownHold(f"hold {token!r} has no payment attempt", field="token")
            try:
                cursor = await self._db.execute(
                    "UPDATE payment_attempts SET state = ?, updated_at = ?,"
                    " payment_id = coalesce(?, payment_id) WHERE token = ? AND state = ?",
                    (new.value, now, payment_id, token, expected.value),
                )
            except sqlite3.IntegrityError as exc:  # e.g. confirmed while the hold is not
                raise StaleToken(f"hold {token}: {exc}", field="token") from None
            return cursor.rowcount == 1

    async def attempt(self, token: int) -> PaymentAttempt:
        async with self._lock:
            attempt = await self._attempt_row(token)
        if attempt is None:
            raise UnknownHold(f"hold {token!r} has no payment attempt", field="token")
        return attempt

    async def open_attempts(self) -> list[PaymentAttempt]:
        async with self._lock:
            rows = await self._db.execute_fetchall(
                f"SELECT {_ATTEMPT_COLUMNS} FROM payment_attempts"
                " WHERE state IN ('started', 'paid', 'refunding') ORDER BY token"
            )
        return [_attempt(r) for r in rows]

    async def _attempt_row(self, token: int) -> PaymentAttempt | None:
        rows = await self._db.execute_fetchall(
            f"SELECT {_ATTEMPT_COLUMNS} FROM payment_attempts WHERE token = ?", (token,)
        )
        return _attempt(rows[0]) if rows else None

    async def get(self, token: int, now: float) -> Hold:
        async with self._lock:
            return await self._expire_and_read(token, now)

    async def _expire_and_read(self, token: int, now: float) -> Hold:
        """Lazy expiry of one hold, committed on its own so a failed request keeps it."""
        await self._db.execute(
            "UPDATE holds SET status = 'expired'"
            " WHERE token = ? AND status = 'held' AND expires_at <= ?",
            (token, now),
        )
        return await self._read(token)

    async def _read(self, token: int) -> Hold:
        rows = await self._db.execute_fetchall(
            f"SELECT {_HOLD_COLUMNS} FROM holds WHERE token = ?", (token,)
        )
        if not rows:
            raise UnknownHold(f"no hold with token {token!r}", field="token")
        seats = await self._db.execute_fetchall(
            "SELECT seat_id FROM claims WHERE token = ? ORDER BY rowid", (token,)
        )
        t, show_id, user, paise, created, expires, status, payment = rows[0]
        return Hold(
            t,
            show_id,
            user,
            tuple(s[0] for s in seats),
            Money(paise),
            created,
            expires,
            HoldStatus(status),
            payment,
        )

    async def sweep(self, now: float) -> int:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE holds SET status = 'expired' WHERE status = 'held' AND expires_at <= ?",
                (now,),
            )
            return cursor.rowcount

    async def claims(self, show_id: str) -> list[Claim]:
        async with self._lock:  # never read another coroutine's half-done transaction
            rows = await self._db.execute_fetchall(
                "SELECT c.seat_id, h.token, h.user_id, h.status FROM claims c JOIN holds h"
                " USING (token) WHERE h.show_id = ? AND h.status IN ('held', 'confirmed')",
                (show_id,),
            )
        return [Claim(s, t, u, HoldStatus(st)) for s, t, u, st in rows]

    async def close(self) -> None:
        await self._db.close()


def _attempt(row: tuple) -> PaymentAttempt:
    token, key, paise, state, payment_id, started, updated = row
    return PaymentAttempt(
        token, key, Money(paise), AttemptState(state), payment_id, started, updated
    )
