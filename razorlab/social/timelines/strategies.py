"""Home timelines three ways: fan-out on write, fan-out on read, and the hybrid.

*Push* (fan-out on write) copies each new tweet id into every follower's home
timeline, capped at ``cap`` entries (Twitter kept 800 in Redis): reads are one list
lookup, writes cost one insert per follower — millions for a celebrity.
*Pull* (fan-out on read) stores nothing per reader and merges the followees' own
tweet lists at read time with a k-way merge: writes are free, reads touch every
followee. The *hybrid* pushes for ordinary authors, skips readers inactive for
30 days (their timeline is rebuilt when they return) and pulls authors above a
follower threshold at read time, the design Twitter described in "Timelines at Scale".

Design note — all three are views of one ``TweetStore`` and must return the same
timeline for the same state (tested on random graphs). The places where a cache
could drift are handled explicitly: follows backfill and unfollows purge pushed
entries; deletes are filtered on read and a truncated timeline that runs short is
rebuilt; an author once pulled is always merged on read (deduplicated by id), so
crossing the celebrity threshold in either direction loses nothing.
Fan-out walks followers in batches of ``FANOUT_BATCH`` (Twitter pipelined 4K
recipients at a time), never one task per follower as the seed does.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from razorlab.clock import Clock, ManualClock
from razorlab.errors import ValidationError
from razorlab.social.timelines.tweets import SocialGraph, Tweet, TweetStore

__all__ = [
    "TIMELINE_CAP",
    "FANOUT_BATCH",
    "INACTIVE_AFTER_S",
    "CELEBRITY_FOLLOWERS",
    "Counters",
    "Strategy",
    "FanoutOnWrite",
    "FanoutOnRead",
    "Hybrid",
    "Timelines",
    "STRATEGIES",
]

TIMELINE_CAP = 800  # entries kept per home timeline (Twitter, 2013)
FANOUT_BATCH = 4096  # followers written per fan-out batch
INACTIVE_AFTER_S = 30 * 86_400  # seconds without a read before pushes skip a user
CELEBRITY_FOLLOWERS = 10_000  # followers above which the hybrid pulls instead of pushing


@dataclass
class Counters:
    """Work done, in the units that cost money: timeline inserts and items merged."""

    timeline_writes: int = 0
    fanout_batches: int = 0
    reads: int = 0
    read_sources: int = 0  # lists consulted by reads (home timeline, followees' lists)
    read_items: int = 0  # tweet ids pulled from those lists
    rebuilds: int = 0


def _newest_first(lists: list[list[int]], k: int) -> list[int]:
    """The ``k`` newest distinct ids of several newest-first lists: a k-way merge.

    Each list holds at most a page (or a timeline cap) of ids, so one sort of their
    union in C beats ``heapq.merge``'s pure-Python generator by a wide margin here.
    """
    return sorted(set(itertools.chain.from_iterable(lists)), reverse=True)[:k]


class Strategy:
    """Common plumbing; subclasses decide where tweets are written and read."""

    name = "base"

    def __init__(
        self, graph: SocialGraph, store: TweetStore, clock: Clock, cap: int = TIMELINE_CAP
    ):
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ValidationError(f"cap must be a positive int, got {cap!r}", field="cap")
        self.graph, self.store, self.clock, self.cap = graph, store, clock, cap
        self.counters = Counters()
        self._homes: dict[int, deque[int]] = {}
        self._last_read: dict[int, float] = {}
        self._truncated: set[int] = set()  # users whose home timeline has dropped old entries

    # -- hooks the facade calls -------------------------------------------------------
    def on_post(self, tweet: Tweet) -> None:
        for batch in self.fanout_batches(tweet):
            self.deliver(tweet, batch)

    def fanout_batches(self, tweet: Tweet) -> Iterator[list[int]]:
        """The followers to push ``tweet`` to, in bounded batches (none for pull)."""
        return iter(())

    def deliver(self, tweet: Tweet, batch: list[int]) -> None:
        for user in batch:
            home = self._home(user)
            if len(home) == self.cap:
                self._truncated.add(user)
            home.append(tweet.id)
        self.counters.timeline_writes += len(batch)
        self.counters.fanout_batches += 1

    def on_follow(self, follower: int, followee: int) -> None:
        """Push strategies backfill the new followee's recent tweets."""

    def on_unfollow(self, follower: int, followee: int) -> None:
        home = self._homes.get(follower)
        if home is not None:
            kept = [i for i in home if self.store.author_of(i) != followee]
            self._homes[follower] = deque(kept, maxlen=self.cap)

    def read(self, user: int, k: int) -> list[int]:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------
    def _home(self, user: int) -> deque[int]:
        home = self._homes.get(user)
        if home is None:
            home = self._homes[user] = deque(maxlen=self.cap)
        return home

    def _sources(self, user: int) -> list[int]:
        return [user, *self.graph.followees(user)]

    def _pull(self, authors: list[int], k: int) -> list[int]:
        lists = [self.store.recent(a, k) for a in authors]
        self.counters.read_sources += len(lists)
        self.counters.read_items += sum(map(len, lists))
        return _newest_first(lists, k)

    def _rebuild(self, user: int, authors: list[int]) -> None:
        self.counters.rebuilds += 1
        self._replace_home(user, self._pull(authors, self.cap))

    def _replace_home(self, user: int, newest_first: list[int]) -> None:
        if len(newest_first) == self.cap:
            self._truncated.add(user)
        else:
            self._truncated.discard(user)
        self._homes[user] = deque(reversed(newest_first), maxlen=self.cap)

    def _from_home(self, user: int, k: int, authors: Callable[[], list[int]]) -> list[int]:
        """Visible ids from the pushed timeline; rebuild if deletes left a full one short.

        ``authors`` is called only for a rebuild: a read must not pay O(followees).
        """
        ids = self._visible_newest(self._home(user), k)
        if len(ids) < k and user in self._truncated:
            self._rebuild(user, authors())
            ids = self._visible_newest(self._homes[user], k)
        self.counters.read_sources += 1
        self.counters.read_items += len(ids)
        return ids

    def _visible_newest(self, home: deque[int], k: int) -> list[int]:
        visible = (i for i in reversed(home) if self.store.visible(i))
        return list(itertools.islice(visible, k))

    def entries(self, user: int) -> int:
        """Tweet ids held in ``user``'s home timeline (0 for pull)."""
        return len(self._homes.get(user, ()))

    @property
    def stored_entries(self) -> int:
        """Tweet ids held in home timelines: the memory a push design pays for."""
        return sum(map(len, self._homes.values()))


class FanoutOnRead(Strategy):
    name = "pull"

    def read(self, user: int, k: int) -> list[int]:
        return self._pull(self._sources(user), k)


class FanoutOnWrite(Strategy):
    name = "push"

    def fanout_batches(self, tweet: Tweet) -> Iterator[list[int]]:
        return _batched([tweet.author, *self.graph.followers(tweet.author)])

    def on_follow(self, follower: int, followee: int) -> None:
        self._backfill(follower, followee)

    def _backfill(self, follower: int, followee: int) -> None:
        home = self._home(follower)
        was_truncated = follower in self._truncated
        ids = _newest_first([list(reversed(home)), self.store.recent(followee, self.cap)], self.cap)
        self.counters.timeline_writes += len(set(ids).difference(home))  # new entries only
        self._replace_home(follower, ids)
        if was_truncated:
            self._truncated.add(follower)  # entries dropped earlier stay dropped

    def read(self, user: int, k: int) -> list[int]:
        return self._from_home(user, k, lambda: self._sources(user))


class Hybrid(FanoutOnWrite):
    name = "hybrid"

    def __init__(
        self,
        graph: SocialGraph,
        store: TweetStore,
        clock: Clock,
        cap: int = TIMELINE_CAP,
        *,
        celebrity_followers: int = CELEBRITY_FOLLOWERS,
        inactive_after_s: float = INACTIVE_AFTER_S,
    ):
        super().__init__(graph, store, clock, cap)
        self.celebrity_followers = celebrity_followers
        self.inactive_after_s = inactive_after_s
        self._pulled_authors: set[int] = set()  # authors with at least one unpushed tweet

    def active(self, user: int) -> bool:
        last = self._last_read.get(user)
        return last is not None and self.clock.now() - last <= self.inactive_after_s

    def fanout_batches(self, tweet: Tweet) -> Iterator[list[int]]:
        if len(self.graph.followers(tweet.author)) > self.celebrity_followers:
            self._pulled_authors.add(tweet.author)
            return iter(())
        readers = [f for f in self.graph.followers(tweet.author) if self.active(f)]
        return _batched([tweet.author, *readers] if self.active(tweet.author) else readers)

    def on_follow(self, follower: int, followee: int) -> None:
        if self.active(follower) and followee not in self._pulled_authors:
            self._backfill(follower, followee)

    def _pushed_authors(self, user: int) -> list[int]:
        return [a for a in self._sources(user) if a not in self._pulled_authors]

    def _start_read(self, user: int) -> list[int]:
        """Rebuild an idle user's home timeline, mark the read; the authors read by pull."""
        if not self.active(user):
            self._rebuild(user, self._pushed_authors(user))
        self._last_read[user] = self.clock.now()
        # set intersection runs in C over the smaller set: no Python loop over followees
        pulled = list(self.graph.followees(user) & self._pulled_authors)
        if user in self._pulled_authors:
            pulled.append(user)
        return pulled

    def read(self, user: int, k: int) -> list[int]:
        pulled = self._start_read(user)
        home = self._from_home(user, k, lambda: self._pushed_authors(user))
        if not pulled:
            return home
        floor = home[-1] if len(home) == k else 0  # only newer tweets can enter a full page
        lists = [self.store.recent(a, k, newer_than=floor) for a in pulled]
        self.counters.read_sources += len(lists)
        lists = [ids for ids in lists if ids]
        if not lists:  # the common case: no celebrity posted since the page's oldest entry
            return home
        self.counters.read_items += sum(map(len, lists))
        return _newest_first([home, *lists], k)

    def mark_active(self, user: int) -> None:
        """Seed a reader's activity (workloads start with some users already active).

        Call it before any tweet is posted: a reader marked active later would skip the
        rebuild that fills in what was not pushed while they were inactive.
        """
        self._last_read[user] = self.clock.now()


def _batched(users: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(users), FANOUT_BATCH):
        yield users[start : start + FANOUT_BATCH]


STRATEGIES: dict[str, type[Strategy]] = {"push": FanoutOnWrite, "pull": FanoutOnRead,
                                         "hybrid": Hybrid}  # fmt: skip


class Timelines:
    """The service a client talks to: graph and tweet writes notify the strategy."""

    def __init__(self, strategy: Strategy):
        self.strategy = strategy
        self.graph, self.store = strategy.graph, strategy.store

    @classmethod
    def create(
        cls, strategy: str, users: int | SocialGraph, *, clock: Clock | None = None,
        cap: int = TIMELINE_CAP, **options: float,
    ) -> Timelines:  # fmt: skip
        """A service by strategy name over an empty tweet store.

        ``users`` is a graph to serve, or a number of new users (ids ``0..users-1``, no
        follows yet). ``options`` go to the strategy (the hybrid's thresholds).
        """
        if strategy not in STRATEGIES:
            raise ValidationError(
                f"strategy must be one of {sorted(STRATEGIES)}, got {strategy!r}", field="strategy"
            )
        clock = clock if clock is not None else ManualClock()
        if isinstance(users, SocialGraph):
            graph = users
        else:
            graph = SocialGraph()
            for user in range(users):
                graph.add_user(user)
        store = TweetStore(graph, clock)
        return cls(STRATEGIES[strategy](graph, store, clock, cap, **options))

    def follow(self, follower: int, followee: int) -> None:
        if self.graph.follow(follower, followee):
            self.strategy.on_follow(follower, followee)

    def unfollow(self, follower: int, followee: int) -> None:
        if self.graph.unfollow(follower, followee):
            self.strategy.on_unfollow(follower, followee)

    def post(self, author: int, text: str, *, reply_to: int | None = None) -> Tweet:
        tweet = self.store.post(author, text, reply_to=reply_to)
        self.strategy.on_post(tweet)
        return tweet

    def retweet(self, user: int, tweet_id: int) -> Tweet:
        tweet = self.store.retweet(user, tweet_id)
        self.strategy.on_post(tweet)
        return tweet

    def delete(self, user: int, tweet_id: int) -> None:
        self.store.delete(user, tweet_id)

    def home(self, user: int, k: int = 20) -> list[Tweet]:
        """The ``k`` newest tweets for ``user``, newest first."""
        return self.hydrate(self.home_ids(user, k))

    def hydrate(self, tweet_ids: list[int]) -> list[Tweet]:
        """Tweets for ids: the same work whichever strategy produced the ids."""
        return [self.store.get(i) for i in tweet_ids]

    def home_ids(self, user: int, k: int = 20) -> list[int]:
        """The timeline service's answer, ids newest first; Twitter hydrates them elsewhere."""
        self.graph.require(user)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.strategy.cap:
            raise ValidationError(
                f"k must be an int in 1..{self.strategy.cap}, got {k!r}", field="k"
            )
        self.strategy.counters.reads += 1
        return self.strategy.read(user, k)
