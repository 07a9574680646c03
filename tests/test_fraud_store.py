"""Feature store: point-in-time joins never use labels or snapshots from after the payment."""

import numpy as np
import pytest

from razorlab.fraud import (
    FeatureStore,
    FeatureUnavailable,
    SynthConfig,
    merchant_risk_snapshots,
    simulate,
)
from razorlab.fraud.store import LABEL_DELAY_S, RISK_PRIOR_TXNS


@pytest.fixture(scope="module")
def df():
    return simulate(SynthConfig(n_customers=600, days=30, seed=9))


def test_joined_snapshot_was_published_before_the_payment(df):
    store = FeatureStore(merchant_risk_snapshots(df))
    offline = store.offline
    row = df.iloc[len(df) * 3 // 4]
    live = offline[(offline["merchant_id"] == row["merchant_id"]) & (offline["as_of"] <= row["ts"])]
    joined = store.point_in_time(np.array([row["merchant_id"]]), np.array([row["ts"]]))[0, 0]
    assert joined == live.iloc[-1]["merchant_fraud_rate_28d"]


def test_snapshot_uses_only_labels_known_at_publication(df):
    snaps = merchant_risk_snapshots(df)
    m = df.loc[df["pattern"] == "merchant_collusion", "merchant_id"].iloc[0]
    as_of = int(snaps["as_of"].iloc[len(snaps) * 2 // 3])
    known = df[(df["merchant_id"] == m) & (df["ts"] < as_of - LABEL_DELAY_S)]
    known = known[known["ts"] >= as_of - LABEL_DELAY_S - 28 * 86_400]
    expected = known["is_fraud"].sum() / (len(known) + RISK_PRIOR_TXNS)
    got = snaps[(snaps["merchant_id"] == m) & (snaps["as_of"] == as_of)].iloc[0, 2]
    assert got == pytest.approx(expected)


def test_future_labels_do_not_leak_into_earlier_features(df):
    cut = int(df["ts"].quantile(0.5))
    flipped = df.copy()
    later = flipped["ts"] >= cut
    flipped.loc[later, "is_fraud"] = 1 - flipped.loc[later, "is_fraud"]
    keys, ts = df["merchant_id"].to_numpy(), df["ts"].to_numpy()
    honest = FeatureStore(merchant_risk_snapshots(df)).point_in_time(keys, ts)
    tampered = FeatureStore(merchant_risk_snapshots(flipped)).point_in_time(keys, ts)
    safe = ts < cut + LABEL_DELAY_S
    assert np.array_equal(honest[safe], tampered[safe]), "a feature used a label from its future"
    assert not np.array_equal(honest[~safe], tampered[~safe])


def test_online_replay_matches_the_offline_point_in_time_join(df):
    store = FeatureStore(merchant_risk_snapshots(df))
    sample = df.iloc[:: max(1, len(df) // 2_000)]
    online = []
    for m, t in zip(sample["merchant_id"], sample["ts"], strict=True):
        store.materialize(int(t))
        online.append(store.get_online(int(m)))
    offline = store.point_in_time(sample["merchant_id"].to_numpy(), sample["ts"].to_numpy())
    assert np.array_equal(np.array(online), offline)


def test_outage_raises_a_typed_error(df):
    store = FeatureStore(merchant_risk_snapshots(df))
    store.available = False
    with pytest.raises(FeatureUnavailable) as err:
        store.get_online(1)
    assert err.value.http_status == 503
