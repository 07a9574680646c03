"""Payments sharded by merchant across N PostgreSQL databases, and online resharding.

Scenario: one PostgreSQL server cannot take every merchant's payments, so they are split across
N databases by merchant: a merchant's payments, its reports and its settlement batch all live
together, and a query never spans shards. When a shard is added the consistent-hash ring
(:class:`~razorlab.infra.sharding.HashRing`) says which merchants now belong to it — about
``1/(N+1)`` of them — and each one is moved while the gateway keeps taking payments.

Design note
-----------
* **Why by merchant.** Every read and write of the gateway names a merchant, so routing is one
  lookup and no statement crosses shards. The price is skew: a big merchant makes a hot shard
  (:func:`~razorlab.infra.sharding.hot_shard_report`), and moving a merchant moves all its rows.
* **Shards are databases**, ``razorlab_shard_<shard>`` on the one local server (``CREATE
  DATABASE``; the services' role is the superuser ``postgres``, so it may). Separate databases,
  unlike schemas, share no transaction, no lock and no table with each other — as separate
  servers would not — so the move below is written without a distributed transaction; only the
  URL would change to put a shard on its own server. Inside each, a store named ``<name>`` keeps
  ``payments``, ``fences`` and ``move_log`` in schema ``<name>``, so several stores (tests,
  tenants) share the databases, which are created once (about a second each) and kept; the
  directory (``shards``, ``routes``, ``moves``) is schema ``<name>`` of the URL's own database.
* **The ring places, the directory routes.** A merchant gets a ``routes`` row (shard and a
  version) on its first payment, on the shard the ring names then. Adding a shard changes no
  route by itself: :meth:`ShardedPayments.add_shard` returns the plan — merchants whose route
  differs from the ring's placement — and :meth:`~ShardedPayments.move_merchant` carries one
  out. Clients cache routes and re-read one only when a shard refuses it (Vitess's routing
  rules plus "denied tables" and MongoDB's ``StaleConfig`` work the same way): a higher route
  version means the flip happened, go there; the same version means it has not, back off.
* **Fences on the shards, not trust in clients.** A write is one call of the shard's
  ``put_payment`` function: it takes ``pg_advisory_xact_lock_shared(merchant key)``, then (a
  new statement, so a fresh READ COMMITTED snapshot) reads the merchant's fence row. Fence
  ``moved_out`` (the merchant left) or ``moving_in`` (it has not arrived) refuses the write and
  the client re-reads the route; fence ``copying`` accepts it and logs its id in ``move_log``.
  A read checks the fence in the same statement (one snapshot), so it is refused the same way.
  The mover takes the same key exclusively, which waits for that merchant's writes in flight
  and holds back new ones — other merchants' keys are untouched, so they never wait.
* **The move** (source S, destination D; Citus's and Vitess's shard moves in miniature, with a
  trigger-less change log instead of logical replication):
  1. directory: a ``moves`` row (S, D, phase ``copying``); D: fence ``moving_in``;
  2. S, under the exclusive key: fence ``copying`` and an empty ``move_log``;
  3. bulk copy: the merchant's rows, pages in id order, upserted into D — no lock held;
  4. cutover, S under the exclusive key (a few ms): fence ``moved_out``, take the logged ids;
  5. the delta — those ids' rows, now frozen on S — upserted into D; D's fence removed (no
     client routes to D yet, bar one whose cache predates an earlier move away from D: its
     write lands on the new home and is kept);
  6. directory: the route flips to D with ``version + 1``, the move's phase is ``flipped``;
  7. S's rows deleted (its ``moved_out`` fence stays: a client with an old route must still
     be refused there), the ``moves`` row deleted.
  From step 4 to step 6 the merchant's writes are refused and retried with backoff: that is the
  moving merchant's stall. A writer that raced the cutover either committed before step 4 (and
  was logged, so the delta carries it) or is refused and retried on D after the flip: it is
  never lost and never lands on S after the fence.
* **Idempotent, restartable.** Every step is an upsert or a delete, and a re-run resumes from
  the ``moves`` row: phase ``flipped`` only finishes (step 7); phase ``copying`` redoes steps
  1–6, but if S is already ``moved_out`` its rows are frozen and all of them are copied again.
  A move that crashed leaves only that merchant's writes refused (typed :class:`MerchantMoving`
  after ``max_stall_s``) until it is re-run. One move per merchant runs at a time (a session
  advisory lock in the directory, dropped when its connection goes back to the pool).
* **Cost of a move**: the bulk copy reads and writes every row of the merchant once (online,
  no lock); the cutover copies only the rows written during the copy. Durable: each step
  commits before the next starts.
* Simplifications: statuses are overwritten (last write wins; a real gateway checks its state
  machine); the directory is a single database (a real one is replicated, e.g. etcd for Vitess).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from razorlab.clock import Clock, SystemClock
from razorlab.errors import ConflictError, NotFoundError, ValidationError
from razorlab.infra.backends.postgres_conn import (
    SCHEMA_RE,
    create_pool,
    required_database_url,
    translated,
)
from razorlab.infra.sharding import HashRing, stable_hash64

__all__ = [
    "STATUSES",
    "MOVE_PHASES",
    "Payment",
    "Move",
    "MoveResult",
    "MerchantMoving",
    "ShardedPayments",
]

STATUSES = ("created", "authorized", "captured", "failed", "refunded")
# Where move_merchant's checkpoint is called: after each durable step (what a crash test cuts).
MOVE_PHASES = ("dest_fenced", "logging", "copied", "source_fenced", "delta_copied", "flipped")
SHARD_DB_PREFIX = "razorlab_shard_"
_DUPLICATE_DATABASE = "42P04"  # SQLSTATE of a CREATE DATABASE that lost a race
SHARD_NAME_RE = re.compile(r"[a-z0-9_]{1,24}")
MAX_ID_LEN = 64
PAGE_ROWS = 2_000  # rows per page of the bulk copy
BACKOFF_S, BACKOFF_CAP_S = 0.001, 0.02  # a refused client's retry delay: doubling, capped

_DIRECTORY_SQL = """
CREATE TABLE IF NOT EXISTS shards (
    seq BIGINT GENERATED ALWAYS AS IDENTITY, name TEXT PRIMARY KEY, dbname TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS routes (
    merchant_id TEXT PRIMARY KEY, shard TEXT NOT NULL REFERENCES shards, version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS moves (
    merchant_id TEXT PRIMARY KEY, source TEXT NOT NULL, dest TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('copying', 'flipped')));
"""
_SHARD_SQL = """
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL,
    amount_paise BIGINT NOT NULL CHECK (amount_paise > 0), status TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS payments_by_merchant ON payments (merchant_id, id);
CREATE TABLE IF NOT EXISTS fences (
    merchant_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('copying', 'moved_out', 'moving_in')));
CREATE TABLE IF NOT EXISTS move_log (merchant_id TEXT, id TEXT, PRIMARY KEY (merchant_id, id));
CREATE OR REPLACE FUNCTION put_payment(
    k BIGINT, p_id TEXT, m TEXT, amount BIGINT, st TEXT, at DOUBLE PRECISION,
    OUT state TEXT, OUT created DOUBLE PRECISION)
LANGUAGE plpgsql AS $$
DECLARE fence TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(k);
    SELECT f.state INTO fence FROM fences f WHERE f.merchant_id = m;  -- after the lock: fresh
    IF fence IN ('moved_out', 'moving_in') THEN state := 'moved'; RETURN; END IF;
    INSERT INTO payments AS p VALUES (p_id, m, amount, st, at)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status
        WHERE p.merchant_id = EXCLUDED.merchant_id AND p.amount_paise = EXCLUDED.amount_paise
        RETURNING p.created_at INTO created;
    IF NOT FOUND THEN state := 'conflict'; RETURN; END IF;
    IF fence = 'copying' THEN
        INSERT INTO move_log VALUES (m, p_id) ON CONFLICT DO NOTHING;
    END IF;
    state := 'ok';
END $$;
"""
_COLUMNS = "id, merchant_id, amount_paise, status, created_at"
_READ = (
    "SELECT (SELECT state FROM fences WHERE merchant_id = $1) AS fence, "
    f"{', '.join('p.' + c for c in _COLUMNS.split(', '))} FROM (SELECT 1) AS one "
    "LEFT JOIN payments p ON p.merchant_id = $1 ORDER BY p.id"
)  # one statement, one snapshot: the fence and the rows agree
_PAGE = f"SELECT {_COLUMNS} FROM payments WHERE merchant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
_BY_IDS = f"SELECT {_COLUMNS} FROM payments WHERE merchant_id = $1 AND id = ANY($2::text[])"
_UPSERT = (
    "INSERT INTO payments SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], "
    "$5::float8[]) ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status"
)
_SET_FENCE = "INSERT INTO fences VALUES ($1, $2) ON CONFLICT (merchant_id) DO UPDATE SET state = $2"
_ROUTE_OR_CREATE = (
    "WITH ins AS (INSERT INTO routes VALUES ($1, $2, 1) ON CONFLICT (merchant_id) DO NOTHING "
    "RETURNING shard, version) SELECT shard, version FROM ins "
    "UNION ALL SELECT shard, version FROM routes WHERE merchant_id = $1"
)


def _lock_key(merchant_id: str) -> int:
    """The merchant's advisory-lock key: its 64-bit stable hash as a signed ``bigint``."""
    h = stable_hash64(merchant_id)
    return h - 2**64 if h >= 2**63 else h


def _check_id(value: object, field: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LEN:
        raise ValidationError(f"{field} must be a string of 1-{MAX_ID_LEN} characters, "
                              f"got {value!r}", field=field)  # fmt: skip


@dataclass(frozen=True)
class Payment:
    """One payment row; validated on construction (integer paise, a known status)."""

    id: str
    merchant_id: str
    amount_paise: int
    status: str
    created_at: float

    def __post_init__(self) -> None:
        _check_id(self.id, "id")
        _check_id(self.merchant_id, "merchant_id")
        amount = self.amount_paise
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 2**63:
            raise ValidationError(f"amount_paise must be a positive integer (paise), got "
                                  f"{amount!r}", field="amount_paise")  # fmt: skip
        if self.status not in STATUSES:
            raise ValidationError(f"status must be one of {STATUSES}, got {self.status!r}",
                                  field="status")  # fmt: skip


@dataclass(frozen=True)
class Move:
    """A merchant whose route differs from the ring's placement: what resharding must move."""

    merchant_id: str
    source: str
    dest: str


@dataclass(frozen=True)
class MoveResult:
    """A finished move: rows copied in bulk (no lock) and in the cutover (the delta)."""

    merchant_id: str
    source: str
    dest: str
    copied: int
    delta: int


class MerchantMoving(ConflictError):
    """The merchant's shard refused it for longer than ``max_stall_s``: a move is in progress
    (or crashed and must be re-run). Retry later; nothing was stored."""

    code = "MERCHANT_MOVING"


Checkpoint = Callable[[str], Awaitable[None]]


async def _no_checkpoint(phase: str) -> None:
    return None


class ShardedPayments:
    """``db = await ShardedPayments.open(url, name="pay", shards=["s0", "s1"])``.

    Several instances on the same ``url`` and ``name`` are several gateway processes: they share
    the directory and the shards and keep their own route caches.
    """

    def __init__(self, url: str, name: str, clock: Clock, directory: Any, *, pool_size: int,
                 max_stall_s: float):  # fmt: skip
        self.url = url
        self.name = name
        self.clock = clock
        self.max_stall_s = max_stall_s
        self.reroutes = 0  # writes and reads a shard refused and this client sent again
        self._directory = directory
        self._pool_size = pool_size
        self._pools: dict[str, Any] = {}
        self._ring = HashRing()
        self._routes: dict[str, tuple[str, int]] = {}

    @classmethod
    async def open(
        cls,
        url: str | None = None,
        *,
        name: str = "payments",
        shards: tuple[str, ...] | list[str] = (),
        clock: Clock | None = None,
        pool_size: int = 4,
        max_stall_s: float = 5.0,
    ) -> ShardedPayments:
        """Connect (``url``, else ``RAZORLAB_DATABASE_URL``); create the directory and ``shards``
        that do not exist yet (existing ones are kept, with their data)."""
        url = required_database_url(url)
        if not isinstance(name, str) or not SCHEMA_RE.fullmatch(name) or len(name) > 32:
            raise ValidationError(f"name must match {SCHEMA_RE.pattern} (at most 32), got "
                                  f"{name!r}", field="name")  # fmt: skip
        directory = await create_pool(url, schema=name, size=pool_size)
        db = cls(url, name, clock or SystemClock(), directory, pool_size=pool_size,
                 max_stall_s=max_stall_s)  # fmt: skip
        try:
            async with db._connection() as conn:
                await _create_once(conn, name, _DIRECTORY_SQL, "routes")
            for shard in shards:
                await db._create_shard(shard)
            await db._load_shards()
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        for pool in [self._directory, *self._pools.values()]:
            await pool.close()
        self._pools.clear()

    async def drop(self) -> None:
        """Delete the store — its schema in every shard and the directory — and close it."""
        await self._load_shards()
        for pool in [*self._pools.values(), self._directory]:
            async with translated(self.url):
                await pool.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        await self.close()

    # ----- shards and the ring ----------------------------------------------------------------
    @property
    def shards(self) -> tuple[str, ...]:
        return self._ring.shards

    async def add_shard(self, shard: str) -> list[Move]:
        """Create and register a new shard database; return the moves the ring now asks for."""
        if shard in await self._shard_names():
            raise ConflictError(f"shard {shard!r} already exists", field="shard")
        await self._create_shard(shard)
        return await self.plan()

    async def plan(self) -> list[Move]:
        """Every merchant whose route differs from the ring's placement, as a move."""
        await self._load_shards()
        rows = await self._fetch("SELECT merchant_id, shard FROM routes ORDER BY merchant_id")
        if not rows:
            return []
        wanted = self._ring.shards_for([r[0] for r in rows])
        return [Move(r[0], r[1], d) for r, d in zip(rows, wanted, strict=True) if r[1] != d]

    async def rebalance(self) -> list[MoveResult]:
        """Carry out :meth:`plan`, one merchant at a time."""
        return [await self.move_merchant(m.merchant_id, m.dest) for m in await self.plan()]

    async def _shard_names(self) -> list[str]:
        return [r[0] for r in await self._fetch("SELECT name FROM shards ORDER BY seq")]

    async def _create_shard(self, shard: str) -> None:
        if not isinstance(shard, str) or not SHARD_NAME_RE.fullmatch(shard):
            raise ValidationError(f"shard must match {SHARD_NAME_RE.pattern}, got {shard!r}",
                                  field="shard")  # fmt: skip
        dbname = f"{SHARD_DB_PREFIX}{shard}"
        async with self._connection() as conn:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", dbname)
            try:
                if not exists:
                    await conn.execute(f"CREATE DATABASE {dbname} TEMPLATE template0")
            except Exception as exc:  # asyncpg's DuplicateDatabaseError: created meanwhile
                if getattr(exc, "sqlstate", None) != _DUPLICATE_DATABASE:
                    raise
        pool = await self._open_pool(dbname)
        try:
            async with translated(self.url), pool.acquire() as conn:
                await _create_once(conn, self.name, _SHARD_SQL, "payments")
        finally:
            await pool.close()
        await self._fetch("INSERT INTO shards (name, dbname) VALUES ($1, $2) "
                          "ON CONFLICT (name) DO NOTHING", shard, dbname)  # fmt: skip

    async def _open_pool(self, dbname: str) -> Any:
        url = urlsplit(self.url)._replace(path=f"/{dbname}").geturl()
        return await create_pool(url, schema=self.name, size=self._pool_size)

    async def _load_shards(self) -> None:
        """Open pools for shards other processes added, and rebuild the ring over all shards."""
        rows = await self._fetch("SELECT name, dbname FROM shards ORDER BY seq")
        for name, dbname in rows:
            if name not in self._pools:
                self._pools[name] = await self._open_pool(dbname)
        if len(rows) != len(self._ring):
            self._ring = HashRing([r[0] for r in rows])

    async def _shard_pool(self, shard: str) -> Any:
        if shard not in self._pools:
            await self._load_shards()
        if shard not in self._pools:
            raise NotFoundError(f"no shard {shard!r}", field="shard")
        return self._pools[shard]

    # ----- routing ---------------------------------------------------------------------------
    async def shard_of(self, merchant_id: str) -> str:
        """The shard that holds ``merchant_id`` now (from the directory, not the cache)."""
        return (await self._fresh_route(merchant_id))[0]

    async def _fresh_route(self, merchant_id: str) -> tuple[str, int]:
        _check_id(merchant_id, "merchant_id")
        rows = await self._fetch("SELECT shard, version FROM routes WHERE merchant_id = $1",
                                 merchant_id)  # fmt: skip
        if not rows:
            raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
        self._routes[merchant_id] = (rows[0][0], rows[0][1])
        return self._routes[merchant_id]

    async def _route(self, merchant_id: str, *, create: bool) -> tuple[str, int]:
        """The cached route; else the directory's; else (``create``) a new one from the ring."""
        if merchant_id in self._routes:
            return self._routes[merchant_id]
        if not create:
            return await self._fresh_route(merchant_id)
        if not len(self._ring):
            await self._load_shards()
        placed = self._ring.shard_for(merchant_id)
        rows: list = []
        while not rows:  # empty only if a concurrent first write committed mid-statement
            rows = await self._fetch(_ROUTE_OR_CREATE, merchant_id, placed)
        self._routes[merchant_id] = (rows[0][0], rows[0][1])
        return self._routes[merchant_id]

    async def _on_home(self, merchant_id: str, call: Callable[[Any], Awaitable[Any]], *,
                       create: bool) -> Any:  # fmt: skip
        """Run ``call(pool)`` on the merchant's shard; while it refuses (returns ``None``),
        re-read the route and back off until it flips, at most ``max_stall_s``."""
        route = await self._route(merchant_id, create=create)
        waited, delay = 0.0, BACKOFF_S
        while True:
            result = await call(await self._shard_pool(route[0]))
            if result is not None:
                return result
            self.reroutes += 1
            fresh = await self._fresh_route(merchant_id)
            if fresh == route:  # the flip has not happened yet
                if waited >= self.max_stall_s:
                    raise MerchantMoving(f"merchant {merchant_id!r} is being moved; retry",
                                         field="merchant_id")  # fmt: skip
                await self.clock.sleep(delay)
                waited, delay = waited + delay, min(delay * 2, BACKOFF_CAP_S)
            route = fresh

    # ----- payments --------------------------------------------------------------------------
    async def put_payment(
        self, payment_id: str, merchant_id: str, amount_paise: int, status: str = "created"
    ) -> Payment:
        """Store a payment on its merchant's shard, or set the status of the stored one.

        Idempotent: the same call again stores nothing new. The same id with another merchant
        or amount is a :class:`ConflictError`.
        """
        wanted = Payment(payment_id, merchant_id, amount_paise, status, self.clock.now())
        key = _lock_key(merchant_id)

        async def call(pool: Any) -> Payment | None:
            async with translated(self.url):
                state, created = await pool.fetchrow(
                    "SELECT * FROM put_payment($1, $2, $3, $4, $5, $6)",
                    key, payment_id, merchant_id, amount_paise, status, wanted.created_at,
                )  # fmt: skip
            if state == "conflict":
                raise ConflictError(f"payment {payment_id!r} exists with another merchant or "
                                    "amount", field="id")  # fmt: skip
            if state == "moved":
                return None
            return Payment(payment_id, merchant_id, amount_paise, status, created)

        return await self._on_home(merchant_id, call, create=True)

    async def payments(self, merchant_id: str) -> list[Payment]:
        """The merchant's payments in id order, read from its shard."""

        async def call(pool: Any) -> list[Payment] | None:
            async with translated(self.url):
                rows = await pool.fetch(_READ, merchant_id)
            if rows[0]["fence"] in ("moved_out", "moving_in"):
                return None
            return [Payment(*r[1:]) for r in rows if r["id"] is not None]

        return await self._on_home(merchant_id, call, create=False)

    async def rows_by_shard(self, merchant_id: str) -> dict[str, int]:
        """How many rows of the merchant each shard holds (a check: one shard, after a move)."""
        await self._load_shards()
        counts = {}
        for shard, pool in self._pools.items():
            async with translated(self.url):
                counts[shard] = await pool.fetchval(
                    "SELECT count(*) FROM payments WHERE merchant_id = $1", merchant_id
                )
        return counts

    # ----- moving a merchant -----------------------------------------------------------------
    async def move_merchant(
        self, merchant_id: str, dest: str, *, checkpoint: Checkpoint = _no_checkpoint
    ) -> MoveResult:
        """Move the merchant's rows to shard ``dest`` online (see the module note).

        Re-running after a crash at any point finishes the move. ``checkpoint(phase)`` is
        awaited after each step of :data:`MOVE_PHASES` (a test raises there to cut a move).
        """
        _check_id(merchant_id, "merchant_id")
        dest_pool = await self._shard_pool(dest)
        key = _lock_key(merchant_id)
        async with self._connection() as dconn:
            if not await dconn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                raise ConflictError(f"merchant {merchant_id!r} is already being moved",
                                    field="merchant_id")  # fmt: skip
            source, phase = await self._start_move(dconn, merchant_id, dest)
            if source == dest:
                return MoveResult(merchant_id, dest, dest, 0, 0)
            source_pool = await self._shard_pool(source)
            copied = delta = 0
            if phase == "copying":
                copied, delta = await self._copy(merchant_id, key, source_pool, dest_pool,
                                                 checkpoint)  # fmt: skip
                async with dconn.transaction():
                    await dconn.execute("UPDATE routes SET shard = $2, version = version + 1 "
                                        "WHERE merchant_id = $1", merchant_id, dest)  # fmt: skip
                    await dconn.execute("UPDATE moves SET phase = 'flipped' "
                                        "WHERE merchant_id = $1", merchant_id)  # fmt: skip
                await checkpoint("flipped")
            async with translated(self.url):
                await source_pool.execute("DELETE FROM payments WHERE merchant_id = $1",
                                          merchant_id)  # fmt: skip
            await dconn.execute("DELETE FROM moves WHERE merchant_id = $1", merchant_id)
        await self._fresh_route(merchant_id)
        return MoveResult(merchant_id, source, dest, copied, delta)

    async def _start_move(self, dconn: Any, merchant_id: str, dest: str) -> tuple[str, str]:
        """(source, phase) of the move: resumed from its ``moves`` row, or recorded anew."""
        move = await dconn.fetchrow("SELECT source, dest, phase FROM moves WHERE merchant_id = $1",
                                    merchant_id)  # fmt: skip
        if move is not None:
            if move["dest"] != dest:
                raise ConflictError(f"merchant {merchant_id!r} has an unfinished move to "
                                    f"{move['dest']!r}: re-run that first", field="dest")  # fmt: skip
            return move["source"], move["phase"]
        route = await dconn.fetchrow("SELECT shard FROM routes WHERE merchant_id = $1",
                                     merchant_id)  # fmt: skip
        if route is None:
            raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
        if route["shard"] != dest:
            await dconn.execute("INSERT INTO moves VALUES ($1, $2, $3, 'copying')",
                                merchant_id, route["shard"], dest)  # fmt: skip
        return route["shard"], "copying"

    async def _copy(self, merchant_id: str, key: int, source: Any, dest: Any,
                    checkpoint: Checkpoint) -> tuple[int, int]:  # fmt: skip
        """Steps 1-5: fence D, log S's writes, bulk copy, cut over, copy the delta, unfence D."""
        async with translated(self.url):
            await dest.execute(_SET_FENCE, merchant_id, "moving_in")
            await checkpoint("dest_fenced")
            fence = await source.fetchval("SELECT state FROM fences WHERE merchant_id = $1",
                                          merchant_id)  # fmt: skip
            if fence == "moved_out":  # resumed after the cutover: S is frozen, copy all of it
                copied, delta = await _copy_rows(source, dest, merchant_id, None), 0
            else:
                async with source.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
                    await conn.execute(_SET_FENCE, merchant_id, "copying")
                    await conn.execute("DELETE FROM move_log WHERE merchant_id = $1", merchant_id)
                await checkpoint("logging")
                copied = await _copy_rows(source, dest, merchant_id, None)
                await checkpoint("copied")
                async with source.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
                    await conn.execute(_SET_FENCE, merchant_id, "moved_out")
                    logged = await conn.fetch("DELETE FROM move_log WHERE merchant_id = $1 "
                                              "RETURNING id", merchant_id)  # fmt: skip
                await checkpoint("source_fenced")
                delta = await _copy_rows(source, dest, merchant_id, [r[0] for r in logged])
            await dest.execute("DELETE FROM fences WHERE merchant_id = $1", merchant_id)
        await checkpoint("delta_copied")
        return copied, delta

    # ----- the directory ---------------------------------------------------------------------
    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        async with translated(self.url), self._directory.acquire() as conn:
            yield conn

    async def _fetch(self, sql: str, *args: Any) -> list:
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)


async def _create_once(conn: Any, schema: str, sql: str, probe: str) -> None:
    """``schema`` and its tables unless ``probe`` exists; one creator at a time."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.{probe}") is not None:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('razorlab-shards'))")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}; {sql}")


async def _copy_rows(source: Any, dest: Any, merchant_id: str, ids: list[str] | None) -> int:
    """Upsert the merchant's rows — all of them in pages in id order, or only ``ids`` (the
    delta, by primary key) — from ``source`` into ``dest``; the number of rows copied."""
    if ids is not None:
        return await _upsert(dest, await source.fetch(_BY_IDS, merchant_id, ids))
    copied, after = 0, ""
    while rows := await source.fetch(_PAGE, merchant_id, after, PAGE_ROWS):
        copied, after = copied + await _upsert(dest, rows), rows[-1][0]
    return copied


async def _upsert(dest: Any, rows: list) -> int:
    if rows:
        await dest.execute(_UPSERT, *map(list, zip(*rows, strict=True)))
    return len(rows)
