"""Home timelines on real Redis sorted sets: the seed's ``ZADD``/``ZREVRANGE`` design, built.

Scenario: the in-memory strategies (:mod:`~razorlab.social.timelines.strategies`) count
"lists merged per read" and "timeline inserts per post"; on a real Redis those become round
trips and commands. These classes keep the home timelines and the authors' own tweet lists
in Redis and answer exactly as their in-memory twins, so the same tests and the same workload
run over both backends and the benchmark measures the real store.

Design note
-----------
- **Keys.** ``razorlab:timelines:<namespace>:home:<user>`` is a home timeline and
  ``...:author:<user>`` an author's tweets, both sorted sets whose member and score are the
  tweet id. Ids grow with time (one counter, like Snowflake), so ``ZREVRANGE 0 k-1`` is
  "the k newest" and no clock is needed in Redis.
- **Push** sends, per fan-out batch (``FANOUT_BATCH`` followers, Twitter pipelined 4K), one
  pipeline of ``ZADD`` + ``ZREMRANGEBYRANK 0 -(cap+1)`` per follower: one round trip per
  batch, and the cap (Twitter's 800) holds after every command. The author's own ``ZADD``
  rides in the first batch. **Pull** stores nothing per reader and reads one pipeline of
  ``ZREVRANGE`` per followee, merged in Python. The **hybrid** reads its home timeline and
  the lists of the celebrities it follows in one pipeline too: one round trip per read.
- **What stays in the process.** The tweets (bodies, deletes), the follow graph, last-read
  times, the hybrid's set of pulled authors and the "this timeline dropped old entries" flags
  stay where the in-memory engine keeps them; Redis holds the timelines, the part whose cost
  the chapter measures. Deleted tweets are filtered on read (the store is the truth); a page
  that filtering leaves short is read further, one more round trip, only then.
- **One round trip, lean.** Every operation is one write of packed commands on a connection
  the strategy holds (checked out of the client's pool on first use, released by ``close``),
  then one reply read per command, in order: what redis-py's ``Pipeline.execute`` does, without
  its per-call pool checkout, event hooks and retry wrapper, which cost more than the loopback
  round trip itself. Push, pull and the hybrid share this path. An error reply is read
  past (the connection stays in step) and then raised. A connection that fails is closed and
  the next call connects again; if it had answered the call before (so Redis restarted in
  between), the round trip is sent once more, as redis-py's own retry would: every command
  here is idempotent. One connection means one caller at a time, like the in-memory engine.
- **Replacing a timeline** (backfill on follow, rebuild for a returning reader) is ``DEL`` +
  ``ZADD`` in one ``MULTI``/``EXEC``, so no reader sees it empty halfway.
- **Unreachable Redis** raises :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable`
  (HTTP 503). A post whose fan-out fails is withdrawn (marked deleted in the tweet store) before
  the error propagates, so a tweet the caller was told failed never shows up later.
- Counters are the in-memory ones (timeline writes, lists and items read, rebuilds), plus
  ``round_trips`` and ``commands`` actually sent to Redis.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from razorlab.clock import Clock, ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    connect,
    import_client,
    sync_client,
    translated,
    unavailable,
    unavailable_errors,
)
from razorlab.social.timelines.strategies import (
    TIMELINE_CAP,
    Counters,
    FanoutOnRead,
    FanoutOnWrite,
    Hybrid,
    Strategy,
    Timelines,
)
from razorlab.social.timelines.tweets import SocialGraph, Tweet, TweetStore
from razorlab.social.timelines.workload import Workload

__all__ = [
    "KEY_PREFIX",
    "RedisCounters",
    "RedisFanoutOnWrite",
    "RedisFanoutOnRead",
    "RedisHybrid",
    "REDIS_STRATEGIES",
    "RedisTimelines",
    "build_redis_service",
    "STORED_RUN",
    "load_stored_run",
]

KEY_PREFIX = "razorlab:timelines"  # + ":<namespace>:home:<user>" / ":author:<user>"
Command = Sequence[str | int]  # one Redis command, name first: ("ZREVRANGE", key, 0, 19)
#: The chapter graph replayed on a real Redis (``python -m benchmarks.timelines_redis --save``).
STORED_RUN = Path(__file__).resolve().parents[3] / "data" / "timelines" / "redis_measurements.json"


def load_stored_run() -> dict:
    """The stored run :data:`STORED_RUN`: graph, machine, and per-strategy costs and times."""
    return json.loads(STORED_RUN.read_text())


@dataclass
class RedisCounters(Counters):
    """The in-memory counters, plus what was actually sent to Redis."""

    round_trips: int = 0
    commands: int = 0


def _newest_first(lists: Iterable[list[int]], k: int) -> list[int]:
    return sorted(set(itertools.chain.from_iterable(lists)), reverse=True)[:k]


class _RedisTimelineMixin(Strategy):
    """Storage hooks of :class:`Strategy`, on Redis sorted sets (see the module note)."""

    def __init__(
        self,
        graph: SocialGraph,
        store: TweetStore,
        clock: Clock,
        cap: int = TIMELINE_CAP,
        *,
        url: str | None = None,
        namespace: str = "default",
        client: Any = None,
        **options: float,
    ):
        super().__init__(graph, store, clock, cap, **options)
        self.url, self.client, self.prefix = connect(
            url, client, namespace, key_prefix=KEY_PREFIX, make=sync_client
        )
        self.counters = RedisCounters()
        redis = import_client("redis", "redis", "the redis client")
        self._error_reply = redis.exceptions.ResponseError
        self._connection_lost = redis.exceptions.ConnectionError
        self._failures = unavailable_errors()
        self._conn: Any = None  # checked out of the client's pool on first use, until close()
        self._answered = False  # the held connection answered the last round trip

    # -- Redis plumbing -----------------------------------------------------------------
    def home_key(self, user: int) -> str:
        return f"{self.prefix}home:{user}"

    def author_key(self, user: int) -> str:
        return f"{self.prefix}author:{user}"

    def _run(self, commands: list[Command], *, transaction: bool = False) -> list[Any]:
        """One round trip: ``commands`` packed into one write, their replies read in order.

        Every reply is read even after an error reply, so the connection stays in step; the
        first error then surfaces (as :class:`BackendUnavailable`, like every Redis failure).
        ``transaction`` wraps them in ``MULTI``/``EXEC`` and returns ``EXEC``'s replies.
        """
        if not commands:
            return []
        sent = [("MULTI",), *commands, ("EXEC",)] if transaction else commands
        answered, self._answered = self._answered, False
        try:
            try:
                replies, errors = self._round_trip(sent)
            except self._connection_lost:
                if not answered:
                    raise
                replies, errors = self._round_trip(sent)  # a stale socket (a restart): once more
            self._answered = True
            if transaction and isinstance(replies[-1], list):
                replies = replies[-1]  # EXEC's replies; a command failing in it is one of them
                errors = [reply for reply in replies if isinstance(reply, Exception)]
            if errors:
                raise errors[0]
        except self._failures as exc:
            raise unavailable(self.url, exc) from exc
        self.counters.round_trips += 1
        self.counters.commands += len(commands)
        return replies

    def _round_trip(self, sent: list[Command]) -> tuple[list[Any], list[Exception]]:
        """Replies, and the error replies among them, on the held connection.

        After a failure the connection is closed; its next use connects again.
        """
        if self._conn is None:
            self._conn = self.client.connection_pool.get_connection()
        conn = self._conn
        try:
            conn.send_packed_command(conn.pack_commands(sent), check_health=False)
            replies, errors = [], []
            for _ in sent:
                try:
                    replies.append(conn.read_response(disable_decoding=True))
                except self._error_reply as exc:  # an error reply: the later replies follow
                    replies.append(exc)
                    errors.append(exc)
        except BaseException:
            conn.disconnect()  # half-read replies must never answer the next call
            raise
        return replies, errors

    def _newest_visible(self, keys: list[str], k: int) -> list[list[int]]:
        """The ``k`` newest visible ids of each sorted set: one pipelined ``ZREVRANGE`` each.

        A set whose page held deleted tweets is read further (another round trip, rare).
        """
        pages = self._run([("ZREVRANGE", key, 0, k - 1) for key in keys])
        visible = self.store.visible  # one pass per page: ids parsed and filtered together
        out = [[i for i in map(int, page) if visible(i)] for page in pages]
        short = [j for j, page in enumerate(pages) if len(page) == k and len(out[j]) < k]
        offset = k
        while short:
            pages = self._run([("ZREVRANGE", keys[j], offset, offset + k - 1) for j in short])
            still = []
            for j, page in zip(short, pages, strict=True):
                out[j] += [i for i in map(int, page) if visible(i)]
                del out[j][k:]
                if len(page) == k and len(out[j]) < k:
                    still.append(j)
            short, offset = still, offset + k
        return out

    # -- writes -------------------------------------------------------------------------
    def on_post(self, tweet: Tweet) -> None:
        try:
            self._post(tweet)
        except BaseException:
            self.store.delete(tweet.author, tweet.id)  # withdrawn: the caller sees an error
            raise

    def _post(self, tweet: Tweet) -> None:
        tid, drop = tweet.id, -(self.cap + 1)
        own = [("ZADD", self.author_key(tweet.author), tid, tid)]  # rides in the first batch
        for batch in self.fanout_batches(tweet):
            commands = list(own)
            for user in batch:
                key = self.home_key(user)
                commands += [("ZADD", key, tid, tid), ("ZREMRANGEBYRANK", key, 0, drop)]
            out = self._run(commands)
            removed = out[len(own) + 1 :: 2]
            own = []
            self._truncated.update(u for u, r in zip(batch, removed, strict=True) if r)
            self.counters.timeline_writes += len(batch)
            self.counters.fanout_batches += 1
        self._run(own)  # pull, a celebrity, or nobody to push to: the author's list only

    def _home_ids(self, user: int) -> list[int]:
        return [int(i) for i in self._run([("ZRANGE", self.home_key(user), 0, -1)])[0]]

    def on_unfollow(self, follower: int, followee: int) -> None:
        gone = [i for i in self._home_ids(follower) if self.store.author_of(i) == followee]
        if gone:
            self._run([("ZREM", self.home_key(follower), *gone)])

    def _replace_home(self, user: int, newest_first: list[int]) -> None:
        if len(newest_first) == self.cap:
            self._truncated.add(user)
        else:
            self._truncated.discard(user)
        key = self.home_key(user)
        commands: list[Command] = [("DEL", key)]
        if newest_first:
            commands.append(("ZADD", key, *(x for i in newest_first for x in (i, i))))
        self._run(commands, transaction=True)

    def _backfill(self, follower: int, followee: int) -> None:
        home = self._home_ids(follower)
        was_truncated = follower in self._truncated
        (recent,) = self._newest_visible([self.author_key(followee)], self.cap)
        ids = _newest_first([home, recent], self.cap)
        self.counters.timeline_writes += len(set(ids).difference(home))  # new entries only
        self._replace_home(follower, ids)
        if was_truncated:
            self._truncated.add(follower)  # entries dropped earlier stay dropped

    # -- reads --------------------------------------------------------------------------
    def _pull(self, authors: list[int], k: int) -> list[int]:
        lists = self._newest_visible([self.author_key(a) for a in authors], k)
        self.counters.read_sources += len(lists)
        self.counters.read_items += sum(map(len, lists))
        return _newest_first(lists, k)

    def _from_home(self, user: int, k: int, authors: Callable[[], list[int]]) -> list[int]:
        (ids,) = self._newest_visible([self.home_key(user)], k)
        return self._settle_home(user, ids, k, authors)

    def _settle_home(
        self, user: int, ids: list[int], k: int, authors: Callable[[], list[int]]
    ) -> list[int]:
        if len(ids) < k and user in self._truncated:
            self._rebuild(user, authors())
            (ids,) = self._newest_visible([self.home_key(user)], k)
        self.counters.read_sources += 1
        self.counters.read_items += len(ids)
        return ids

    def entries(self, user: int) -> int:
        """Tweet ids held in ``user``'s home timeline in Redis (0 for pull)."""
        return int(self._run([("ZCARD", self.home_key(user))])[0])

    @property
    def stored_entries(self) -> int:
        """Tweet ids held in all home timelines of this namespace (``SCAN`` + ``ZCARD``)."""
        with translated(self.url):
            keys = list(self.client.scan_iter(match=f"{self.prefix}home:*", count=1000))
        return int(sum(self._run([("ZCARD", key) for key in keys])))

    def clear(self) -> int:
        """Delete this namespace's keys (a test or a benchmark starting over); how many."""
        with translated(self.url):
            keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start : start + 1000])
        return len(keys)

    def close(self) -> None:
        if self._conn is not None:
            self.client.connection_pool.release(self._conn)
            self._conn = None
        self.client.close()


class RedisFanoutOnRead(_RedisTimelineMixin, FanoutOnRead):
    """Pull on Redis: each read is one pipeline of ``ZREVRANGE`` over the followees' lists."""


class RedisFanoutOnWrite(_RedisTimelineMixin, FanoutOnWrite):
    """Push on Redis: pipelined ``ZADD`` + ``ZREMRANGEBYRANK`` per follower, per batch."""


class RedisHybrid(_RedisTimelineMixin, Hybrid):
    """Push for ordinary authors, pull for celebrities; a read is one pipeline."""

    def read(self, user: int, k: int) -> list[int]:
        pulled = self._start_read(user)
        keys = [self.home_key(user), *(self.author_key(a) for a in pulled)]
        home, *lists = self._newest_visible(keys, k)  # one round trip: home and celebrities
        home = self._settle_home(user, home, k, lambda: self._pushed_authors(user))
        if not pulled:
            return home
        self.counters.read_sources += len(lists)
        lists = [ids for ids in lists if ids]
        if not lists:
            return home
        self.counters.read_items += sum(map(len, lists))
        return _newest_first([home, *lists], k)


REDIS_STRATEGIES: dict[str, type[_RedisTimelineMixin]] = {
    "push": RedisFanoutOnWrite,
    "pull": RedisFanoutOnRead,
    "hybrid": RedisHybrid,
}


class RedisTimelines(Timelines):
    """:class:`Timelines` whose strategy keeps its timelines in Redis."""

    strategy: _RedisTimelineMixin

    @classmethod
    def create(
        cls, strategy: str, users: int | SocialGraph, *, clock: Clock | None = None,
        cap: int = TIMELINE_CAP, url: str | None = None, namespace: str = "default",
        **options: float,
    ) -> RedisTimelines:  # fmt: skip
        """As :meth:`Timelines.create`, on the Redis at ``url`` (else ``RAZORLAB_REDIS_URL``)."""
        if strategy not in REDIS_STRATEGIES:
            raise ValidationError(
                f"strategy must be one of {sorted(REDIS_STRATEGIES)}, got {strategy!r}",
                field="strategy",
            )
        clock = clock if clock is not None else ManualClock()
        if isinstance(users, SocialGraph):
            graph = users
        else:
            graph = SocialGraph()
            for user in range(users):
                graph.add_user(user)
        store = TweetStore(graph, clock)
        kind = REDIS_STRATEGIES[strategy]
        return cls(kind(graph, store, clock, cap, url=url, namespace=namespace, **options))

    def clear(self) -> int:
        return self.strategy.clear()

    def close(self) -> None:
        self.strategy.close()


def build_redis_service(
    workload: Workload,
    strategy: str,
    *,
    url: str | None = None,
    namespace: str = "default",
    cap: int = TIMELINE_CAP,
    celebrity_followers: int = 1_000,
) -> RedisTimelines:
    """:func:`~razorlab.social.timelines.workload.build_service`, on Redis (namespace emptied)."""
    graph = SocialGraph.from_follows(workload.n_users, workload.follower, workload.followee)
    options = {"celebrity_followers": celebrity_followers} if strategy == "hybrid" else {}
    service = RedisTimelines.create(
        strategy, graph, cap=cap, url=url, namespace=namespace, **options
    )
    service.clear()
    if isinstance(service.strategy, Hybrid):
        for user in np.flatnonzero(workload.active):
            service.strategy.mark_active(int(user))
    return service
