"""A synthetic Twitter day: a power-law follow graph, posts and reads, replayed per strategy.

Most follows are social (friends, colleagues: spread evenly), and a share of them
go to accounts chosen by Zipf-like popularity, so a handful of accounts collect a
large part of all follows — the shape that makes pure push expensive. Posting
grows with audience (popular accounts post more), reads come mostly from active
users, and both follow a daily cycle. ``replay`` runs one strategy over the day and
reports the costs that decide the design: timeline inserts per post, items merged
per read, memory held in home timelines, and fan-out lag.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.rand import DEFAULT_SEED, rng
from razorlab.social.timelines.strategies import TIMELINE_CAP, Hybrid, Timelines
from razorlab.social.timelines.tweets import SocialGraph

__all__ = [
    "Workload",
    "make_workload",
    "build_service",
    "replay",
    "fanout_lag",
    "threshold_costs",
    "DAY_S",
]

DAY_S = 86_400
POST_AUDIENCE_EXPONENT = 0.5  # posting rate grows like sqrt(followers + 1)
RETURNING_READ_SHARE = 0.05  # share of reads made by users inactive for over 30 days


@dataclass(frozen=True)
class Workload:
    n_users: int
    follower: np.ndarray
    followee: np.ndarray
    active: np.ndarray  # bool per user: read within the last 30 days
    events: pd.DataFrame  # time_s, kind ("post"/"read"), user — sorted by time

    @property
    def follower_counts(self) -> np.ndarray:
        return np.bincount(self.followee, minlength=self.n_users)


def _daily_times(gen: np.random.Generator, n: int) -> np.ndarray:
    """Event times over one day, busiest in the evening (inverse-CDF sampling, per minute)."""
    minutes = np.arange(1440)
    rate = 1 + 0.6 * np.sin(2 * np.pi * (minutes / 1440 - 0.5))
    cdf = np.cumsum(rate) / rate.sum()
    return np.sort(np.interp(gen.random(n), cdf, minutes) * 60 + gen.random(n) * 60)


def make_workload(
    n_users: int = 10_000,
    *,
    mean_followees: int = 20,
    zipf_s: float = 1.2,
    popular_share: float = 0.2,
    active_fraction: float = 0.4,
    posts: int = 5_000,
    reads: int = 5_000,
    seed: int = DEFAULT_SEED,
) -> Workload:
    """Generate a graph and a day of events; everything derives from ``seed``."""
    if (
        n_users < 2
        or mean_followees < 1
        or not 0 < active_fraction <= 1
        or not 0 <= popular_share <= 1
    ):
        raise ValidationError(
            "need n_users >= 2, mean_followees >= 1, 0 < active_fraction <= 1, 0 <= popular_share <= 1"
        )
    gen = rng(seed, "timeline-workload")
    popularity = 1.0 / np.arange(1, n_users + 1) ** zipf_s
    popularity = gen.permutation(popularity / popularity.sum())
    degrees = np.minimum(gen.geometric(1 / mean_followees, n_users), n_users - 1)
    follower = np.repeat(np.arange(n_users), degrees)
    by_popularity = gen.random(follower.size) < popular_share
    followee = np.where(
        by_popularity,
        gen.choice(n_users, size=follower.size, p=popularity),
        gen.integers(0, n_users, size=follower.size),
    )
    edges = np.unique(follower.astype(np.int64) * n_users + followee)
    follower, followee = edges // n_users, edges % n_users
    keep = follower != followee
    follower, followee = follower[keep], followee[keep]
    active = gen.random(n_users) < active_fraction
    audience = (np.bincount(followee, minlength=n_users) + 1.0) ** POST_AUDIENCE_EXPONENT
    authors = gen.choice(n_users, size=posts, p=audience / audience.sum())
    returning = gen.random(reads) < RETURNING_READ_SHARE
    everyone = np.arange(n_users)  # if nobody (or everybody) is active, any user reads
    readers = np.where(
        returning,
        gen.choice(np.flatnonzero(~active) if (~active).any() else everyone, reads),
        gen.choice(np.flatnonzero(active) if active.any() else everyone, reads),
    )
    events = pd.DataFrame(
        {
            "time_s": np.concatenate([_daily_times(gen, posts), _daily_times(gen, reads)]),
            "kind": ["post"] * posts + ["read"] * reads,
            "user": np.concatenate([authors, readers]),
        }
    )
    events = events.sort_values("time_s", kind="stable", ignore_index=True)
    return Workload(n_users, follower, followee, active, events)


def build_service(
    workload: Workload,
    strategy: str,
    *,
    cap: int = TIMELINE_CAP,
    celebrity_followers: int = 1_000,
) -> Timelines:
    """A fresh service over the workload's graph, with active users marked for the hybrid."""
    graph = SocialGraph.from_follows(workload.n_users, workload.follower, workload.followee)
    options = {"celebrity_followers": celebrity_followers} if strategy == "hybrid" else {}
    service = Timelines.create(strategy, graph, cap=cap, **options)
    if isinstance(service.strategy, Hybrid):
        for user in np.flatnonzero(workload.active):
            service.strategy.mark_active(int(user))
    return service


def replay(service: Timelines, workload: Workload, *, read_k: int = 20) -> dict[str, float]:
    """Run the day through ``service``; returns cost metrics.

    ``read_wall_s`` (reads by active users), ``read_ids_wall_s`` (the same reads without
    hydration: the timeline service alone) and ``returning_read_wall_s`` (users back
    after 30 days, whose timelines the hybrid rebuilds) are machine time, for benchmarks.
    """
    clock = service.strategy.clock
    start = clock.now()
    batches, post_times = [], []
    read_wall = {True: 0.0, False: 0.0}
    ids_wall = 0.0  # active users' reads, timeline service only (no hydration)
    for t, kind, user in workload.events.itertuples(index=False):
        clock.set(start + t)
        if kind == "post":
            before = service.strategy.counters.fanout_batches
            service.post(int(user), "hello")
            batches.append(service.strategy.counters.fanout_batches - before)
            post_times.append(t)
        else:
            tick = time.perf_counter()
            ids = service.home_ids(int(user), read_k)
            served = time.perf_counter()
            service.hydrate(ids)
            read_wall[bool(workload.active[user])] += time.perf_counter() - tick
            ids_wall += (served - tick) if workload.active[user] else 0.0
    c = service.strategy.counters
    posts, reads = max(len(post_times), 1), max(c.reads, 1)
    lag = fanout_lag(np.array(post_times), np.array(batches))
    return {
        "strategy": service.strategy.name,
        "writes_per_post": c.timeline_writes / posts,
        "items_per_read": c.read_items / reads,
        "sources_per_read": c.read_sources / reads,
        "rebuilds": c.rebuilds,
        "stored_entries": service.strategy.stored_entries,
        "lag_p99_s": float(np.percentile(lag, 99)) if lag.size else 0.0,
        "read_wall_s": read_wall[True],
        "read_ids_wall_s": ids_wall,
        "returning_read_wall_s": read_wall[False],
    }


def fanout_lag(
    post_times: np.ndarray, batches: np.ndarray, *, workers: int = 4, batch_s: float = 0.05
) -> np.ndarray:
    """Seconds from each post until its last batch is written, with ``workers`` workers.

    A simple queue model: batches are served first come first served, each taking
    ``batch_s`` (one pipelined write of a batch of followers' timelines).
    """
    free_at = [0.0] * workers
    lags = np.zeros(len(post_times))
    for i, (t, n) in enumerate(zip(post_times, batches, strict=True)):
        done = t
        for _ in range(int(n)):
            start = max(heapq.heappop(free_at), t)
            done = start + batch_s
            heapq.heappush(free_at, done)
        lags[i] = done - t
    return lags


def threshold_costs(workload: Workload, thresholds: np.ndarray | list[int]) -> pd.DataFrame:
    """Expected hybrid costs per celebrity threshold, computed from the graph (no replay).

    For each threshold: timeline writes per post (followers of non-celebrity authors
    that are active, averaged over the day's posts), celebrity lists merged per read,
    and the same two numbers for pure push and pure pull as reference lines.
    """
    n = workload.n_users
    followers = workload.follower_counts
    active_followers = np.bincount(
        workload.followee, weights=workload.active[workload.follower], minlength=n
    )
    followees = np.bincount(workload.follower, minlength=n)
    posts = workload.events
    authors = posts.loc[posts["kind"] == "post", "user"].to_numpy()
    readers = posts.loc[posts["kind"] == "read", "user"].to_numpy()
    rows = []
    for threshold in thresholds:
        celebrity = followers > threshold
        pulled_per_user = np.bincount(
            workload.follower, weights=celebrity[workload.followee], minlength=n
        )
        rows.append(
            {
                "threshold": int(threshold),
                "celebrities": int(celebrity.sum()),
                "hybrid_writes_per_post": float(
                    np.where(celebrity[authors], 0, active_followers[authors]).mean()
                ),
                "hybrid_lists_per_read": float(1 + pulled_per_user[readers].mean()),
                "push_writes_per_post": float(followers[authors].mean()),
                "pull_lists_per_read": float(1 + followees[readers].mean()),
            }
        )
    return pd.DataFrame(rows)
