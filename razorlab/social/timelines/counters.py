"""Like and retweet counts on a hot tweet: one row, sharded rows, or batched writes.

The seed keeps ``Likes`` and ``Retweets`` as integer fields on the tweet's own row and bumps
them on every like. A database applies updates to one row one at a time (the row lock is
held until the write commits), so a row accepts at most ``1 / write_s`` updates a second
however many servers send them. A viral tweet's likes all land on that one row: it becomes
a write hotspot, and the queue in front of it grows without bound once the like rate passes
the row's limit.

Two standard fixes, both measured by :func:`hot_counter`:

* **sharded counters** — ``shards`` rows per tweet; each like updates one row chosen at
  random, a read sums the shards. Each row sees ``rate / shards``;
* **batched counters** — each app server adds likes up in memory and writes the sum once per
  ``batch`` likes (or per flush interval). The row sees ``rate / batch`` writes; a crash
  loses at most one unflushed batch of counts, which is why the like *events* (who liked
  what, needed anyway to stop double likes) are the source of truth and the count is a
  cache that can be recomputed from them.

The queueing model is M/D/1 (Poisson arrivals, a fixed write time): utilisation
``rho = arrivals x write_s`` and mean wait ``rho x write_s / (2 (1 - rho))``
(Pollaczek–Khinchine); at ``rho >= 1`` the queue grows forever. :class:`ShardedCounter` is
the counter itself: it spreads increments over shards with a seeded generator.
"""

from __future__ import annotations

import math

import pandas as pd

from razorlab.errors import ValidationError
from razorlab.rand import py_random

__all__ = ["ROW_WRITE_S", "ShardedCounter", "hot_counter", "row_wait_s"]

ROW_WRITE_S = 0.001  # seconds one committed update holds a row (assumption: ~1 ms)


def row_wait_s(writes_per_s: float, write_s: float = ROW_WRITE_S) -> float:
    """Mean time an update queues for one row (M/D/1); ``inf`` once the row is saturated."""
    if writes_per_s < 0 or write_s <= 0:
        raise ValidationError("rates must be >= 0 and write_s > 0", field="writes_per_s")
    rho = writes_per_s * write_s
    return math.inf if rho >= 1 else rho * write_s / (2 * (1 - rho))


def hot_counter(
    likes_per_s: float,
    designs: dict[str, tuple[int, int]] | None = None,
    write_s: float = ROW_WRITE_S,
) -> pd.DataFrame:
    """Per design ``name: (shards, batch)``: writes per row per second, utilisation, wait."""
    designs = designs or {
        "one row (seed)": (1, 1),
        "16 shards": (16, 1),
        "64 shards": (64, 1),
        "batch of 100": (1, 100),
    }
    rows = []
    for name, (shards, batch) in designs.items():
        if shards < 1 or batch < 1:
            raise ValidationError("shards and batch must be at least 1", field="designs")
        per_row = likes_per_s / batch / shards
        wait = row_wait_s(per_row, write_s)
        rows.append(
            {
                "design": name,
                "writes/s per row": round(per_row),
                "row utilisation": round(per_row * write_s, 2),
                "mean wait (ms)": "unbounded" if math.isinf(wait) else f"{wait * 1e3:.3g}",
            }
        )
    return pd.DataFrame(rows).set_index("design")


class ShardedCounter:
    """A count kept in ``shards`` slots; ``add`` touches one slot, ``value`` sums them all."""

    def __init__(self, shards: int, seed: int = 42):
        if shards < 1:
            raise ValidationError(f"shards must be at least 1, got {shards}", field="shards")
        self.slots = [0] * shards
        self.writes = [0] * shards  # updates each slot (row) received
        self._random = py_random(seed, "timeline-counter-shards")

    def add(self, delta: int = 1) -> None:
        slot = self._random.randrange(len(self.slots))
        self.slots[slot] += delta
        self.writes[slot] += 1

    @property
    def value(self) -> int:
        return sum(self.slots)
