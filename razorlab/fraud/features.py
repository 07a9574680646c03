"""Fraud features, twice: streaming (one payment at a time) and batch (a DataFrame).

Scenario: at decision time the engine knows the payment in hand and everything that
happened before it, nothing after. Velocity features (how many payments this card made
in the last minute, hour, day; how many this IP or device made; how many refunds this
merchant issued today), the time since the card's last payment, the amount against the
customer's own purchase history (a z-score), first-seen device/city flags and the speed
the card would have had to travel since its last payment. Stripe Radar counts velocity
per card, email and IP over hours to weeks; the Fraud Detection Handbook (ULB/Worldline)
uses per-customer counts and means over 1, 7 and 30 days.

Design note: the live path (``FeatureExtractor``) keeps, per entity and window, a deque
of the events still inside the window plus a running count and sum: each payment is
appended once and evicted once, so the cost is O(1) amortised. Each window also
sweeps away idle entities once per window width of stream time (at least 10 minutes
apart); a sweep costs one look per entity still held, and those all paid within the
last two sweep periods, so sweeping is O(1) amortised too, and window memory is
bounded by the payments of the last two sweep periods (the per-customer history is
three integers; first-seen sets grow with the population, not with time). The training path (``batch_features``) computes the
same numbers with sorts, cumulative sums and ``searchsorted``. Both use the same
definitions to the bit: windows are ``(t - W, t]`` in stream order ``(ts, txn_id)`` and
include the current payment; every float is made from integers by one IEEE operation,
so a test can demand exact equality, not ``allclose``.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pandas as pd

from razorlab.errors import StateError
from razorlab.fraud.geo import CITY_DISTANCE_KM
from razorlab.fraud.synth import IST_OFFSET_S
from razorlab.fraud.transaction import Transaction, validate_frame

__all__ = [
    "FEATURES",
    "WINDOWS_S",
    "FeatureExtractor",
    "SlidingWindow",
    "OutOfOrder",
    "batch_features",
]

MINUTE_S, HOUR_S, DAY_S = 60, 3_600, 86_400
NO_HISTORY_S = 7 * DAY_S  # "time since last payment" when the card has none (and its cap)
MIN_TRAVEL_DT_S = (
    60  # a one-minute floor so two payments in the same second are not infinitely fast
)
MIN_SWEEP_S = 600  # short windows sweep at most every 10 minutes: sweeping is not free
Z_CLIP = (-10.0, 50.0)  # amount z-scores beyond this carry no more information

#: entity column -> window (seconds) -> whether a sum is kept too
WINDOWS_S = {
    "card_id": {MINUTE_S: False, HOUR_S: True, DAY_S: True},
    "ip_id": {MINUTE_S: False, HOUR_S: False},
    "device_id": {HOUR_S: False},
    "merchant_id": {HOUR_S: False},
}

FEATURES = (
    "amount_paise",
    "is_refund",
    "hour_ist",
    "card_count_1m",
    "card_count_1h",
    "card_count_24h",
    "card_sum_1h",
    "card_sum_24h",
    "card_secs_since_last",
    "ip_count_1m",
    "ip_count_1h",
    "device_count_1h",
    "merchant_count_1h",
    "merchant_refunds_24h",
    "merchant_refund_share_24h",
    "amount_z",
    "new_device",
    "new_city",
    "travel_kmh",
)


class OutOfOrder(StateError):
    """The streaming extractor saw a payment older than one it already processed."""

    code = "OUT_OF_ORDER"


class SlidingWindow:
    """Count and sum of values per key over the last ``width_s`` seconds, inclusive of now."""

    __slots__ = ("width_s", "events", "total", "next_sweep")

    def __init__(self, width_s: int):
        self.width_s = width_s
        self.events: dict[int, deque[tuple[int, int]]] = {}
        self.total: dict[int, int] = {}
        self.next_sweep = 0

    def add(self, key: int, ts: int, value: int) -> tuple[int, int]:
        """Record ``value`` at ``ts`` for ``key``; return (count, sum) inside the window."""
        if ts >= self.next_sweep:
            self.sweep(ts)
        q = self.events.get(key)
        if q is None:
            q = self.events[key] = deque()
            self.total[key] = 0
        total = self.total[key] + value
        horizon = ts - self.width_s
        while q and q[0][0] <= horizon:
            total -= q.popleft()[1]
        q.append((ts, value))
        self.total[key] = total
        return len(q), total

    def sweep(self, now: int) -> None:
        """Forget keys whose newest event has left the window (bounds memory)."""
        horizon = now - self.width_s
        stale = [k for k, q in self.events.items() if q[-1][0] <= horizon]
        for k in stale:
            del self.events[k], self.total[k]
        self.next_sweep = now + max(self.width_s, MIN_SWEEP_S)

    def __len__(self) -> int:
        """Events currently held, over all keys."""
        return sum(len(q) for q in self.events.values())


def _z(n: int, s: int, q: int, a: int) -> float:
    """Amount ``a`` against n prior amounts with sum s and sum of squares q (all integers)."""
    if n < 2:
        return 0.0
    spread = n * q - s * s
    if spread <= 0:
        return 0.0
    return min(max((n * a - s) / math.sqrt(spread), Z_CLIP[0]), Z_CLIP[1])


class FeatureExtractor:
    """The live path: ``extract(txn)`` returns the feature vector in ``FEATURES`` order."""

    def __init__(self) -> None:
        self.windows = {
            (entity, width): SlidingWindow(width)
            for entity, widths in WINDOWS_S.items()
            for width in widths
        }
        self.refunds = SlidingWindow(DAY_S)  # per merchant: count = payments, sum = refunds
        self.last_seen: dict[int, tuple[int, int]] = {}  # card -> (ts, city)
        self.history: dict[int, tuple[int, int, int]] = {}  # customer -> (n, sum, sum sq) rupees
        self.devices: set[tuple[int, int]] = set()
        self.cities: set[tuple[int, int]] = set()
        self.now = -1

    def extract(self, txn: Transaction) -> list[float]:
        """Update state with ``txn`` and return its features (no look at later payments)."""
        ts = txn.ts
        if ts < self.now:
            raise OutOfOrder(f"payment at {ts} arrived after one at {self.now}", field="ts")
        self.now = ts
        w = self.windows
        amount = txn.amount_paise
        c1m, _ = w["card_id", MINUTE_S].add(txn.card_id, ts, amount)
        c1h, s1h = w["card_id", HOUR_S].add(txn.card_id, ts, amount)
        c24h, s24h = w["card_id", DAY_S].add(txn.card_id, ts, amount)
        ip1m, _ = w["ip_id", MINUTE_S].add(txn.ip_id, ts, 0)
        ip1h, _ = w["ip_id", HOUR_S].add(txn.ip_id, ts, 0)
        dev1h, _ = w["device_id", HOUR_S].add(txn.device_id, ts, 0)
        m1h, _ = w["merchant_id", HOUR_S].add(txn.merchant_id, ts, 0)
        is_refund = txn.kind == "refund"
        m24h, refunds = self.refunds.add(txn.merchant_id, ts, int(is_refund))

        prev = self.last_seen.get(txn.card_id)
        self.last_seen[txn.card_id] = (ts, txn.city)
        if prev is None:
            since, kmh = NO_HISTORY_S, 0.0
        else:
            since = min(ts - prev[0], NO_HISTORY_S)
            km = CITY_DISTANCE_KM[prev[1]][txn.city]
            kmh = km * HOUR_S / max(ts - prev[0], MIN_TRAVEL_DT_S)

        rupees = amount // 100
        n, s, q = self.history.get(txn.customer_id, (0, 0, 0))
        z = _z(n, s, q, rupees)
        if not is_refund:
            self.history[txn.customer_id] = (n + 1, s + rupees, q + rupees * rupees)

        device = (txn.customer_id, txn.device_id)
        new_device = device not in self.devices
        self.devices.add(device)
        city = (txn.customer_id, txn.city)
        new_city = city not in self.cities
        self.cities.add(city)
        return [
            float(amount),
            float(is_refund),
            float((ts + IST_OFFSET_S) // HOUR_S % 24),
            float(c1m),
            float(c1h),
            float(c24h),
            float(s1h),
            float(s24h),
            float(since),
            float(ip1m),
            float(ip1h),
            float(dev1h),
            float(m1h),
            float(refunds),
            refunds / m24h,
            z,
            float(new_device),
            float(new_city),
            kmh,
        ]

    def window_events(self) -> int:
        """Events held in all windows: bounded by the last 24 h of traffic."""
        return sum(len(w) for w in (*self.windows.values(), self.refunds))


# ----- batch path ------------------------------------------------------------------------


def _grouped(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable order by key (stream order within a key) and the sorted keys."""
    order = np.lexsort((np.arange(len(keys)), keys))
    return order, keys[order]


def _window(keys: np.ndarray, ts: np.ndarray, values: np.ndarray, width_s: int):
    """(count, sum) over ``(ts - width_s, ts]`` per key, for every row, in stream order."""
    order, k = _grouped(keys)
    comp = k * 2**32 + ts[order]
    pos = np.arange(len(keys))
    left = np.searchsorted(comp, comp - width_s, side="right")
    cum = np.concatenate([[0], np.cumsum(values[order])])
    count, total = np.empty(len(keys), np.int64), np.empty(len(keys), np.int64)
    count[order] = pos - left + 1
    total[order] = cum[pos + 1] - cum[left]
    return count, total


def _previous(keys: np.ndarray, ts: np.ndarray, city: np.ndarray):
    """Per row: whether the key was seen before, and the previous row's ts and city."""
    order, k = _grouped(keys)
    has = np.zeros(len(keys), bool)
    has[order[1:]] = k[1:] == k[:-1]
    prev_ts, prev_city = np.zeros(len(keys), np.int64), np.zeros(len(keys), np.int64)
    prev_ts[order[1:]] = ts[order[:-1]]
    prev_city[order[1:]] = city[order[:-1]]
    return has, prev_ts, prev_city


def _history_z(customer: np.ndarray, rupees: np.ndarray, purchase: np.ndarray) -> np.ndarray:
    order, k = _grouped(customer)
    p = purchase[order].astype(np.int64)
    r = rupees[order] * p
    start = np.searchsorted(k, k, side="left")  # first row of each customer

    def before(v: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(v)])
        return cum[:-1] - cum[start]  # exclusive prefix within the customer

    n, s, q = before(p), before(r), before(r * rupees[order])
    a = rupees[order]
    spread = n * q - s * s
    ok = (n >= 2) & (spread > 0)
    z = np.zeros(len(k))
    z[ok] = (n[ok] * a[ok] - s[ok]) / np.sqrt(spread[ok].astype(np.float64))
    out = np.empty(len(k))
    out[order] = np.clip(z, *Z_CLIP)
    return out


def batch_features(df: pd.DataFrame) -> pd.DataFrame:
    """Features of every row of ``df`` exactly as ``FeatureExtractor`` would emit them.

    Returns a float64 frame with columns ``FEATURES``, one row per payment in stream order
    (``validate_frame`` order), indexed by ``txn_id``.
    """
    df = validate_frame(df)
    col = {c: df[c].to_numpy(np.int64) for c in ("ts", "card_id", "ip_id", "device_id")}
    ts, amount = col["ts"], df["amount_paise"].to_numpy(np.int64)
    refund = (df["kind"] == "refund").to_numpy()
    zeros = np.zeros(len(df), np.int64)
    out: dict[str, np.ndarray] = {
        "amount_paise": amount,
        "is_refund": refund,
        "hour_ist": (ts + IST_OFFSET_S) // HOUR_S % 24,
    }
    for width, tag in ((MINUTE_S, "1m"), (HOUR_S, "1h"), (DAY_S, "24h")):
        count, total = _window(col["card_id"], ts, amount, width)
        out[f"card_count_{tag}"] = count
        if width > MINUTE_S:
            out[f"card_sum_{tag}"] = total
    merchant = df["merchant_id"].to_numpy(np.int64)
    out["ip_count_1m"] = _window(col["ip_id"], ts, zeros, MINUTE_S)[0]
    out["ip_count_1h"] = _window(col["ip_id"], ts, zeros, HOUR_S)[0]
    out["device_count_1h"] = _window(col["device_id"], ts, zeros, HOUR_S)[0]
    out["merchant_count_1h"] = _window(merchant, ts, zeros, HOUR_S)[0]
    m24h, refunds = _window(merchant, ts, refund.astype(np.int64), DAY_S)
    out["merchant_refunds_24h"] = refunds
    out["merchant_refund_share_24h"] = refunds / m24h

    city = df["city"].to_numpy(np.int64)
    has, prev_ts, prev_city = _previous(col["card_id"], ts, city)
    dt = ts - prev_ts
    out["card_secs_since_last"] = np.where(has, np.minimum(dt, NO_HISTORY_S), NO_HISTORY_S)
    km = np.asarray(CITY_DISTANCE_KM, np.int64)[prev_city, city]
    kmh = (km * HOUR_S) / np.maximum(dt, MIN_TRAVEL_DT_S)
    out["travel_kmh"] = np.where(has, kmh, 0.0)

    customer = df["customer_id"].to_numpy(np.int64)
    out["amount_z"] = _history_z(customer, amount // 100, ~refund)
    out["new_device"] = ~df.duplicated(["customer_id", "device_id"]).to_numpy()
    out["new_city"] = ~df.duplicated(["customer_id", "city"]).to_numpy()
    frame = pd.DataFrame({f: np.asarray(out[f], np.float64) for f in FEATURES})
    frame.index = pd.Index(df["txn_id"].to_numpy(), name="txn_id")
    return frame
