"""Consumer-scale scenarios: ticketing (BookMyShow), messaging (WhatsApp), timelines (Twitter).

Each engine lives in its own modules (``booking*``, ``messaging*``, ``timeline*``);
this package re-exports what learners use.
"""

from razorlab.social import booking as _booking
from razorlab.social import messaging as _messaging
from razorlab.social.booking import *  # noqa: F403  (its __all__ is the curated list)
from razorlab.social.booking_sim import rush, simulate_hour
from razorlab.social.fanout import FanoutWorkers
from razorlab.social.messaging import *  # noqa: F403  (its __all__ is the curated list)
from razorlab.social.timeline import (
    CELEBRITY_FOLLOWERS,
    FANOUT_BATCH,
    INACTIVE_AFTER_S,
    TIMELINE_CAP,
    FanoutOnRead,
    FanoutOnWrite,
    Hybrid,
    Timelines,
)
from razorlab.social.timeline_workload import build_service, make_workload, replay, threshold_costs
from razorlab.social.tweets import MAX_TWEET_CHARS, SocialGraph, Tweet, TweetStore, TweetTooLong

__all__ = [
    *_booking.__all__,
    *_messaging.__all__,
    "rush",
    "simulate_hour",
    "FanoutWorkers",
    "CELEBRITY_FOLLOWERS",
    "FANOUT_BATCH",
    "INACTIVE_AFTER_S",
    "TIMELINE_CAP",
    "FanoutOnRead",
    "FanoutOnWrite",
    "Hybrid",
    "Timelines",
    "build_service",
    "make_workload",
    "replay",
    "threshold_costs",
    "MAX_TWEET_CHARS",
    "SocialGraph",
    "Tweet",
    "TweetStore",
    "TweetTooLong",
]
