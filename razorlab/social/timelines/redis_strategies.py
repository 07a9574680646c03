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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from razorlab.clock import Clock, ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    connect,
    sync_client,
    translated,
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
]

KEY_PREFIX = "razorlab:timelines"  # + ":<namespace>:home:<user>" / ":author:<user>"


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

    # -- Redis plumbing -----------------------------------------------------------------
    def home_key(self, user: int) -> str:
        return f"{self.prefix}home:{user}"

    def author_key(self, user: int) -> str:
        return f"{self.prefix}author:{user}"

    def _run(self, build: Callable[[Any], None], *, transaction: bool = False) -> list[Any]:
        """One round trip: ``build`` queues commands on a pipeline, which is then sent."""
        with translated(self.url):
            pipe = self.client.pipeline(transaction=transaction)
            build(pipe)
            n = len(pipe)
            if n == 0:
                return []
            out = pipe.execute()
        self.counters.round_trips += 1
        self.counters.commands += n
        return out

    def _newest_visible(self, keys: list[str], k: int) -> list[list[int]]:
        """The ``k`` newest visible ids of each sorted set: one pipelined ``ZREVRANGE`` each.

        A set whose page held deleted tweets is read further (another round trip, rare).
        """
        pages = self._run(lambda p: [p.zrevrange(key, 0, k - 1) for key in keys])
        return self._complete([list(map(int, page)) for page in pages], keys, k)

    def _complete(self, raw: list[list[int]], keys: list[str], k: int) -> list[list[int]]:
        out = [[i for i in ids if self.store.visible(i)][:k] for ids in raw]
        offset = k
        short = [j for j, ids in enumerate(raw) if len(ids) == k and len(out[j]) < k]
        while short:
            pages = self._run(
                lambda p, js=short, lo=offset: [p.zrevrange(keys[j], lo, lo + k - 1) for j in js]
            )
            still = []
            for j, page in zip(short, pages, strict=True):
                ids = [int(i) for i in page]
                out[j].extend(i for i in ids if self.store.visible(i))
                del out[j][k:]
                if len(ids) == k and len(out[j]) < k:
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
        tid, cap = tweet.id, self.cap
        first = [True]

        def queue(pipe: Any, batch: list[int]) -> None:
            if first[0]:
                pipe.zadd(self.author_key(tweet.author), {tid: tid})
            for user in batch:
                pipe.zadd(self.home_key(user), {tid: tid})
                pipe.zremrangebyrank(self.home_key(user), 0, -(cap + 1))

        for batch in self.fanout_batches(tweet):
            out = self._run(lambda p, b=batch: queue(p, b))
            removed = out[2::2] if first[0] else out[1::2]
            first[0] = False
            self._truncated.update(u for u, r in zip(batch, removed, strict=True) if r)
            self.counters.timeline_writes += len(batch)
            self.counters.fanout_batches += 1
        if first[0]:  # pull, a celebrity, or nobody to push to: the author's list only
            self._run(lambda p: queue(p, []))

    def _home_ids(self, user: int) -> list[int]:
        return [int(i) for i in self._run(lambda p: p.zrange(self.home_key(user), 0, -1))[0]]

    def on_unfollow(self, follower: int, followee: int) -> None:
        gone = [i for i in self._home_ids(follower) if self.store.author_of(i) == followee]
        if gone:
            self._run(lambda p: p.zrem(self.home_key(follower), *gone))

    def _replace_home(self, user: int, newest_first: list[int]) -> None:
        if len(newest_first) == self.cap:
            self._truncated.add(user)
        else:
            self._truncated.discard(user)
        key = self.home_key(user)

        def build(pipe: Any) -> None:
            pipe.delete(key)
            if newest_first:
                pipe.zadd(key, {i: i for i in newest_first})

        self._run(build, transaction=True)

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
        return int(self._run(lambda p: p.zcard(self.home_key(user)))[0])

    @property
    def stored_entries(self) -> int:
        """Tweet ids held in all home timelines of this namespace (``SCAN`` + ``ZCARD``)."""
        with translated(self.url):
            keys = list(self.client.scan_iter(match=f"{self.prefix}home:*", count=1000))
        return int(sum(self._run(lambda p: [p.zcard(key) for key in keys])))

    def clear(self) -> int:
        """Delete this namespace's keys (a test or a benchmark starting over); how many."""
        with translated(self.url):
            keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start : start + 1000])
        return len(keys)

    def close(self) -> None:
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
