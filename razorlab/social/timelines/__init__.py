"""Timelines (Twitter scenario): fan-out on write, on read, and the hybrid, on one engine.

* :mod:`~razorlab.social.timelines.tweets` — the follow graph and the tweets (source of truth);
* :mod:`~razorlab.social.timelines.strategies` — home timelines three ways;
* :mod:`~razorlab.social.timelines.fanout` — bounded fan-out workers over a bounded queue;
* :mod:`~razorlab.social.timelines.counters` — like counts on a hot tweet: one row, shards, batches;
* :mod:`~razorlab.social.timelines.workload` — a synthetic day replayed per strategy;
* :mod:`~razorlab.social.timelines.plots` — the chapter's figures (imported on demand: plotly).
"""

from razorlab.social.timelines.fanout import FanoutWorkers
from razorlab.social.timelines.strategies import (
    CELEBRITY_FOLLOWERS,
    FANOUT_BATCH,
    INACTIVE_AFTER_S,
    TIMELINE_CAP,
    FanoutOnRead,
    FanoutOnWrite,
    Hybrid,
    Timelines,
)
from razorlab.social.timelines.tweets import (
    MAX_TWEET_CHARS,
    SocialGraph,
    Tweet,
    TweetStore,
    TweetTooLong,
)
from razorlab.social.timelines.workload import (
    build_service,
    make_workload,
    replay,
    threshold_costs,
)

__all__ = [
    "FanoutWorkers",
    "CELEBRITY_FOLLOWERS",
    "FANOUT_BATCH",
    "INACTIVE_AFTER_S",
    "TIMELINE_CAP",
    "FanoutOnRead",
    "FanoutOnWrite",
    "Hybrid",
    "Timelines",
    "MAX_TWEET_CHARS",
    "SocialGraph",
    "Tweet",
    "TweetStore",
    "TweetTooLong",
    "build_service",
    "make_workload",
    "replay",
    "threshold_costs",
]
