"""Who follows whom, and what everyone wrote: the source of truth behind every timeline.

Home timelines (``razorlab.social.timelines.strategies``) are derived data: caches of tweet ids
that can always be rebuilt from this store. Tweet ids come from one counter, so id
order is posting order — the job Snowflake ids do at Twitter, and what the seed's
random UUIDs (ordered by whole-second timestamps) cannot do.
"""

from __future__ import annotations

import bisect
import itertools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from razorlab.clock import Clock
from razorlab.errors import NotFoundError, RazorlabError, ValidationError

__all__ = [
    "MAX_TWEET_CHARS",
    "Tweet",
    "SocialGraph",
    "TweetStore",
    "TweetTooLong",
    "UnknownUser",
    "UnknownTweet",
    "NotAuthor",
]

MAX_TWEET_CHARS = 280  # characters, counted after Unicode NFC normalisation


class TweetTooLong(ValidationError):
    code = "TWEET_TOO_LONG"


class UnknownUser(NotFoundError):
    code = "USER_NOT_FOUND"


class UnknownTweet(NotFoundError):
    code = "TWEET_NOT_FOUND"


class NotAuthor(RazorlabError):
    code = "NOT_AUTHOR"
    http_status = 403


@dataclass(frozen=True, slots=True)
class Tweet:
    id: int
    author: int
    text: str
    created_at: float
    reply_to: int | None = None
    retweet_of: int | None = None


class SocialGraph:
    """Users and the follow relation, kept in both directions for O(1) fan-out lookups."""

    def __init__(self) -> None:
        self._followers: dict[int, set[int]] = {}
        self._followees: dict[int, set[int]] = {}

    @classmethod
    def from_follows(
        cls, n_users: int, follower: Iterable[int], followee: Iterable[int]
    ) -> SocialGraph:
        """Bulk-load users ``0..n_users-1`` and distinct, non-self edges ``follower[i] → followee[i]``.

        Grouping with numpy instead of calling ``follow`` per edge makes a
        multi-million-edge graph load in seconds.
        """
        a, b = np.asarray(follower, dtype=np.int64), np.asarray(followee, dtype=np.int64)
        if a.shape != b.shape or (
            a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_users)
        ):
            raise ValidationError("edges must be equal-length arrays of ids in 0..n_users-1")
        if np.any(a == b) or np.unique(a * n_users + b).size != a.size:
            raise ValidationError("edges must be distinct and never a self-follow")
        graph = cls()
        for out, keys, values in ((graph._followees, a, b), (graph._followers, b, a)):
            order = np.argsort(keys, kind="stable")
            bounds = np.searchsorted(keys[order], np.arange(n_users + 1))
            grouped = values[order].tolist()
            for user in range(n_users):
                out[user] = set(grouped[bounds[user] : bounds[user + 1]])
        return graph

    def add_user(self, user: int) -> None:
        if isinstance(user, bool) or not isinstance(user, int) or user < 0:
            raise ValidationError(f"user ids are non-negative ints, got {user!r}", field="user")
        if user in self._followers:
            raise ValidationError(f"user {user} already exists", field="user")
        self._followers[user] = set()
        self._followees[user] = set()

    def require(self, user: int) -> int:
        if user not in self._followers:
            raise UnknownUser(f"no user {user!r}", field="user")
        return user

    def follow(self, follower: int, followee: int) -> bool:
        """Add the edge; returns False if it already existed."""
        self.require(follower), self.require(followee)
        if follower == followee:
            raise ValidationError("a user cannot follow themselves", field="followee")
        if followee in self._followees[follower]:
            return False
        self._followees[follower].add(followee)
        self._followers[followee].add(follower)
        return True

    def unfollow(self, follower: int, followee: int) -> bool:
        self.require(follower), self.require(followee)
        if followee not in self._followees[follower]:
            return False
        self._followees[follower].discard(followee)
        self._followers[followee].discard(follower)
        return True

    def followers(self, user: int) -> set[int]:
        return self._followers[self.require(user)]

    def followees(self, user: int) -> set[int]:
        return self._followees[self.require(user)]

    @property
    def users(self) -> list[int]:
        return list(self._followers)

    def edge_count(self) -> int:
        return sum(len(f) for f in self._followers.values())


class TweetStore:
    """Tweets, per-author lists (oldest first), deletes and likes."""

    def __init__(self, graph: SocialGraph, clock: Clock):
        self.graph = graph
        self.clock = clock
        self._tweets: dict[int, Tweet] = {}
        self._by_author: dict[int, list[int]] = {}
        self._deleted: set[int] = set()
        self._likes: dict[int, set[int]] = {}
        self._ids = itertools.count(1)

    def post(self, author: int, text: str, *, reply_to: int | None = None) -> Tweet:
        self.graph.require(author)
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("a tweet needs some text", field="text")
        length = len(unicodedata.normalize("NFC", text))
        if length > MAX_TWEET_CHARS:
            raise TweetTooLong(
                f"tweet is {length} characters; the limit is {MAX_TWEET_CHARS}", field="text"
            )
        if reply_to is not None:
            self.get(reply_to)
        return self._add(author, text, reply_to=reply_to)

    def retweet(self, user: int, tweet_id: int) -> Tweet:
        self.graph.require(user)
        original = self.get(tweet_id)
        source = original.retweet_of or original.id  # a retweet of a retweet points at the original
        return self._add(user, "", retweet_of=source)

    def _add(self, author: int, text: str, **links: int | None) -> Tweet:
        tweet = Tweet(next(self._ids), author, text, self.clock.now(), **links)
        self._tweets[tweet.id] = tweet
        self._by_author.setdefault(author, []).append(tweet.id)
        return tweet

    def get(self, tweet_id: int) -> Tweet:
        tweet = self._tweets.get(tweet_id)
        if tweet is None or tweet_id in self._deleted:
            raise UnknownTweet(f"no tweet {tweet_id!r}", field="tweet_id")
        return tweet

    def author_of(self, tweet_id: int) -> int:
        """The author of any tweet ever posted, deleted or not (cache purges need it)."""
        return self._tweets[tweet_id].author

    def delete(self, user: int, tweet_id: int) -> Tweet:
        tweet = self.get(tweet_id)
        if tweet.author != user:
            raise NotAuthor(f"only the author can delete tweet {tweet_id}", field="user")
        self._deleted.add(tweet_id)
        return tweet

    def visible(self, tweet_id: int) -> bool:
        """Not deleted, and not a retweet of something deleted."""
        if tweet_id in self._deleted:
            return False
        original = self._tweets[tweet_id].retweet_of
        return original is None or original not in self._deleted

    def like(self, user: int, tweet_id: int) -> int:
        self.graph.require(user)
        self.get(tweet_id)
        self._likes.setdefault(tweet_id, set()).add(user)
        return len(self._likes[tweet_id])

    def likes(self, tweet_id: int) -> int:
        return len(self._likes.get(self.get(tweet_id).id, ()))

    def recent(self, author: int, k: int, newer_than: int = 0) -> list[int]:
        """The author's ``k`` newest visible tweet ids above ``newer_than``, newest first.

        Ids grow with time, so ``newer_than`` is found by bisection: a reader whose
        page already ends at tweet 9,000 asks a celebrity only for what came after.
        """
        ids = self._by_author.get(author, [])
        out: list[int] = []
        for tweet_id in reversed(ids[bisect.bisect_right(ids, newer_than) :]):
            if self.visible(tweet_id):
                out.append(tweet_id)
                if len(out) == k:
                    break
        return out

    def __len__(self) -> int:
        return len(self._tweets)
