"""The feature store: slow-moving features computed in batch, served online and joined offline.

Scenario: "how risky is this merchant?" needs fraud labels, and labels arrive late
(a chargeback comes days or weeks after the payment). The Fraud Detection Handbook
models this as a delay period: a terminal's risk over a window is computed only from
payments whose labels are already known. A batch job publishes, every day, a snapshot
per merchant (``merchant_fraud_rate_28d``). The *online* store holds the latest
snapshot per merchant for the live scorer (Feast's online store answers at p99 ~1.5–5 ms
over the network; ours is a dict). The *offline* store keeps every snapshot so that a
training row at time t is joined with the snapshot that was live at t: a point-in-time
join, never "the latest value", which would leak the future into training.

Design note: ``materialize(until_ts)`` moves a cursor through the time-sorted snapshots,
so replaying history through the online path gives exactly what ``point_in_time``
returns in one vectorised ``merge_asof``. If the store is unavailable the caller gets a
typed ``FeatureUnavailable`` and decides what to do (the scorer uses a default and says so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.errors import RazorlabError
from razorlab.fraud.features import batch_features
from razorlab.fraud.transaction import validate_frame

__all__ = [
    "FeatureStore",
    "FeatureUnavailable",
    "merchant_risk_snapshots",
    "feature_matrix",
    "STORE_FEATURES",
    "LABEL_DELAY_S",
    "RISK_WINDOW_S",
]

DAY_S = 86_400
LABEL_DELAY_S = 7 * DAY_S  # a fraud label (chargeback) is known about a week after the payment
RISK_WINDOW_S = 28 * DAY_S  # how much labelled history a merchant's risk looks at
RISK_PRIOR_TXNS = 20  # pseudo-payments with no fraud, so a new merchant starts near zero risk
STORE_FEATURES = ("merchant_fraud_rate_28d",)


class FeatureUnavailable(RazorlabError):
    """The online store could not answer (outage, timeout); the caller picks a fallback."""

    code = "FEATURE_UNAVAILABLE"
    http_status = 503


def merchant_risk_snapshots(
    df: pd.DataFrame, *, delay_s: int = LABEL_DELAY_S, window_s: int = RISK_WINDOW_S
) -> pd.DataFrame:
    """Daily per-merchant snapshots of the fraud rate among payments with known labels.

    The snapshot published at ``as_of`` uses payments with
    ``as_of - delay_s - window_s <= ts < as_of - delay_s`` only. Columns:
    ``merchant_id, as_of, merchant_fraud_rate_28d``.
    """
    if delay_s % DAY_S or window_s % DAY_S:
        raise ValueError("delay and window must be whole days")
    origin = int(df["ts"].min()) // DAY_S * DAY_S
    day = (df["ts"].to_numpy(np.int64) - origin) // DAY_S
    n_days = int(day.max()) + 2
    merchants = np.unique(df["merchant_id"].to_numpy(np.int64))
    m = np.searchsorted(merchants, df["merchant_id"].to_numpy(np.int64))
    txns = np.zeros((len(merchants), n_days + 1), np.int64)
    frauds = np.zeros_like(txns)
    np.add.at(txns, (m, day + 1), 1)
    np.add.at(frauds, (m, day + 1), df["is_fraud"].to_numpy(np.int64))
    txns, frauds = txns.cumsum(1), frauds.cumsum(1)  # column d: payments on days < d
    as_of_day = np.arange(1, n_days)
    hi = np.clip(as_of_day - delay_s // DAY_S, 0, n_days)
    lo = np.clip(hi - window_s // DAY_S, 0, n_days)
    known_txns = txns[:, hi] - txns[:, lo]
    known_frauds = frauds[:, hi] - frauds[:, lo]
    rate = known_frauds / (known_txns + RISK_PRIOR_TXNS)
    return pd.DataFrame(
        {
            "merchant_id": np.repeat(merchants, len(as_of_day)),
            "as_of": np.tile(origin + as_of_day * DAY_S, len(merchants)),
            STORE_FEATURES[0]: rate.ravel(),
        }
    ).sort_values(["as_of", "merchant_id"], ignore_index=True)


class FeatureStore:
    """Offline table of timestamped snapshots plus the online "latest per entity" view."""

    def __init__(
        self,
        snapshots: pd.DataFrame,
        *,
        entity: str = "merchant_id",
        features: tuple[str, ...] = STORE_FEATURES,
        defaults: tuple[float, ...] = (0.0,),
    ):
        self.entity, self.features, self.defaults = entity, features, defaults
        self.offline = snapshots.sort_values(["as_of", entity], ignore_index=True)
        self._keys = self.offline[entity].to_numpy(np.int64).tolist()
        self._as_of = self.offline["as_of"].to_numpy(np.int64).tolist()
        self._rows = list(zip(*(self.offline[f].tolist() for f in features), strict=True))
        self.online: dict[int, tuple[float, ...]] = {}
        self.cursor = 0
        self.available = True

    def materialize(self, until_ts: int) -> int:
        """Publish every snapshot with ``as_of <= until_ts`` to the online view; returns count."""
        start = self.cursor
        while self.cursor < len(self._as_of) and self._as_of[self.cursor] <= until_ts:
            self.online[self._keys[self.cursor]] = self._rows[self.cursor]
            self.cursor += 1
        return self.cursor - start

    def get_online(self, key: int) -> tuple[float, ...]:
        """Latest published features of ``key`` (defaults for an entity never seen)."""
        if not self.available:
            raise FeatureUnavailable("online feature store did not answer", field=self.entity)
        return self.online.get(key, self.defaults)

    def point_in_time(self, keys: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """For each (key, ts): the snapshot that was live at ts (as_of <= ts), else defaults."""
        left = pd.DataFrame({self.entity: np.asarray(keys, np.int64), "ts": np.asarray(ts)})
        left["row"] = np.arange(len(left))
        joined = pd.merge_asof(
            left.sort_values("ts", kind="stable"),
            self.offline.astype({self.entity: np.int64, "as_of": np.int64}),
            left_on="ts",
            right_on="as_of",
            by=self.entity,
            direction="backward",
        ).sort_values("row")
        values = joined[list(self.features)].to_numpy(np.float64)
        return np.where(np.isnan(values), np.asarray(self.defaults), values)


def feature_matrix(df: pd.DataFrame, store: FeatureStore) -> pd.DataFrame:
    """Streaming-equivalent features of ``df`` plus point-in-time store features (training)."""
    ordered = validate_frame(df)
    frame = batch_features(ordered)
    joined = store.point_in_time(ordered[store.entity].to_numpy(), ordered["ts"].to_numpy())
    for j, name in enumerate(store.features):
        frame[name] = joined[:, j]
    return frame
