"""Messaging (WhatsApp scenario): the estimates ``razorlab.ops.capacity`` does not make.

The general planner sizes storage, bandwidth and cores from a write rate. A chat service adds
two loads of its own: **connections** (every online phone holds a socket and heartbeats on
it, whether it chats or not) and **fan-out** (a group message is stored once, delivered and
acknowledged once per member, and answered by a delivered and a read receipt from each).

Design note: the fan-out figures count exactly what this engine does per group message with
every member online — so a notebook can check the model against the running server — while
the connection figures use stated assumptions (:data:`CONCURRENT_SHARE`,
:data:`CONNECTIONS_PER_SERVER`). WhatsApp held about 2.28M connections on one server in 2012
(``/work/shared/references.md``); we plan for 1M, leaving room for failover and TLS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from razorlab.errors import ValidationError
from razorlab.ops.capacity import plan
from razorlab.ops.scenarios import seed_scenarios
from razorlab.social.messaging.models import MAX_GROUP_MEMBERS
from razorlab.social.messaging.presence import HEARTBEAT_INTERVAL_S

__all__ = [
    "CONNECTIONS_PER_SERVER",
    "CONCURRENT_SHARE",
    "CONTROL_FRAME_BYTES",
    "connection_servers",
    "daily_fanout",
    "fanout_cost",
    "fanout_table",
    "whatsapp_estimates",
]

CONNECTIONS_PER_SERVER = 1_000_000  # open sockets we plan per chat server (record: ~2.28M)
CONCURRENT_SHARE = 0.3  # share of daily active users connected at the busiest moment (assumption)
CONTROL_FRAME_BYTES = 100  # an ack, receipt or heartbeat frame with ids, on the wire
SECONDS_PER_DAY = 86_400


def connection_servers(connections: float, per_server: float = CONNECTIONS_PER_SERVER) -> int:
    """Chat servers needed to hold ``connections`` open sockets, rounded up."""
    if connections < 0 or per_server <= 0:
        raise ValidationError("connections must be >= 0 and per_server > 0", field="connections")
    return math.ceil(connections / per_server)


def fanout_cost(group_size: int, payload_bytes: float = 1_000) -> dict[str, float]:
    """What one message to a chat of ``group_size`` members costs when all are online.

    ``deliveries`` ``msg`` frames out, ``acks`` and ``reads`` frames in, ``receipts`` to the
    sender (delivered + read per member), ``rows`` written (message, receipts, inbox), and
    ``bytes`` on the wire (the payload in once and out per member, control frames at
    :data:`CONTROL_FRAME_BYTES`).
    """
    if isinstance(group_size, bool) or not isinstance(group_size, int):
        raise ValidationError(f"group_size must be an int, got {group_size!r}", field="group_size")
    if not 2 <= group_size <= MAX_GROUP_MEMBERS:
        raise ValidationError(
            f"group_size must be in 2..{MAX_GROUP_MEMBERS}, got {group_size}", field="group_size"
        )
    others = group_size - 1
    control = 1 + 4 * others  # "sent" reply; per member an ack, a read and two receipts
    return {
        "group_size": group_size,
        "deliveries": others,
        "receipts": 2 * others,
        "frames": 1 + others + control,
        "rows": 1 + 2 * others,
        "bytes": payload_bytes * (1 + others) + CONTROL_FRAME_BYTES * control,
    }


def fanout_table(sizes: Iterable[int], payload_bytes: float = 1_000) -> pd.DataFrame:
    """:func:`fanout_cost` for each size, one row each."""
    return pd.DataFrame([fanout_cost(int(n), payload_bytes) for n in sizes]).set_index("group_size")


def daily_fanout(
    group_size: int = 20, group_share_pct: int = 30, messages_per_day: float = 100e9
) -> pd.DataFrame:
    """The day's wire frames and stored rows if ``group_share_pct`` % of messages go to groups.

    The rest are 1:1 messages; every member is online (:func:`fanout_cost`'s assumption).
    """
    if not 0 <= group_share_pct <= 100:
        raise ValidationError(
            f"group_share_pct must be in 0..100, got {group_share_pct}", field="group_share_pct"
        )
    one, group = fanout_cost(2), fanout_cost(group_size)
    share = group_share_pct / 100

    def per_day(key: str) -> float:
        return messages_per_day * ((1 - share) * one[key] + share * group[key])

    rows = [
        ("frames/s on average", f"{per_day('frames') / SECONDS_PER_DAY / 1e6:,.0f}M"),
        ("rows written per day", f"{per_day('rows') / 1e12:,.1f}T"),
        ("frames per message", f"{per_day('frames') / messages_per_day:,.1f}"),
    ]
    title = f"{group_share_pct}% of messages to groups of {group_size}"
    return pd.DataFrame(rows, columns=["figure", title]).set_index("figure")


def whatsapp_estimates(
    daily_active_users: float = 1.5e9,
    mean_chat_size: float = 2.0,
    concurrent_share: float = CONCURRENT_SHARE,
) -> pd.DataFrame:
    """The seed's WhatsApp numbers, planned: rates, storage, bandwidth, connections, fan-out.

    Storage and rates come from the ``whatsapp`` preset of ``razorlab.ops.scenarios`` (100B
    messages/day, 1 KB each, peak twice the average); ``mean_chat_size`` 2 means 1:1 chats.
    """
    sized = plan(seed_scenarios()["whatsapp"])
    peak = sized.peak_write_rate.to("req/s")
    connections = daily_active_users * concurrent_share
    per_message = fanout_cost(max(2, round(mean_chat_size)), sized.requirements.payload_bytes)
    rows = [
        ("average messages/s", sized.avg_write_rate.to("req/s"), "100B / 86,400 s"),
        ("peak messages/s", peak, "2 x average (assumption)"),
        ("storage per day (TB)", sized.storage_per_day.to("TB"), "messages/day x 1 KB"),
        ("open connections at peak", connections, f"{concurrent_share:.0%} of daily actives"),
        (
            "chat servers for connections",
            connection_servers(connections),
            f"{CONNECTIONS_PER_SERVER:,} sockets per server",
        ),
        (
            "heartbeat frames/s",
            connections / HEARTBEAT_INTERVAL_S,
            f"one ping per {HEARTBEAT_INTERVAL_S:g} s per socket",
        ),
        (
            "delivery frames/s at peak",
            peak * per_message["frames"],
            "peak messages x frames per message",
        ),
        (
            "network at peak (Gbit/s)",
            peak * per_message["bytes"] * 8 / 1e9,
            "peak messages x bytes per message",
        ),
    ]
    table = pd.DataFrame(rows, columns=["figure", "value", "how"]).set_index("figure")
    table["value"] = [f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" for v in table["value"]]
    return table
