"""Streaming features equal batch features to the bit, use no future, and stay bounded."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from razorlab.fraud import (
    FEATURES,
    FeatureExtractor,
    OutOfOrder,
    SynthConfig,
    batch_features,
    simulate,
)
from razorlab.fraud.transaction import TXN_FIELDS, Transaction
from tests.fraud_support import frame_of, payment_rows


@pytest.fixture(scope="module")
def df():
    return simulate(SynthConfig(n_customers=300, days=8, seed=5))


def stream(frame: pd.DataFrame) -> np.ndarray:
    fx = FeatureExtractor()
    rows = frame[list(TXN_FIELDS)].to_dict("records")
    return np.array([fx.extract(Transaction.from_dict(r)) for r in rows])


def test_streaming_features_equal_batch_features_exactly(df):
    streamed, batch = stream(df), batch_features(df)
    assert list(batch.columns) == list(FEATURES)
    mismatch = [f for j, f in enumerate(FEATURES) if not np.array_equal(streamed[:, j], batch[f])]
    assert not mismatch, f"streaming and batch differ on {mismatch}"


payments = payment_rows(max_gap_s=200, max_size=60)


@settings(max_examples=60, deadline=None)
@given(payments)
def test_streaming_equals_batch_on_any_stream_with_ties_and_bursts(rows):
    frame = frame_of(rows)
    assert np.array_equal(stream(frame), batch_features(frame).to_numpy())


def test_features_of_the_past_ignore_the_future(df):
    k = len(df) // 2
    full, prefix = batch_features(df), batch_features(df.iloc[:k])
    pd.testing.assert_frame_equal(full.iloc[:k], prefix)


def test_window_memory_is_bounded_by_the_last_day(df):
    fx = FeatureExtractor()
    for r in df[list(TXN_FIELDS)].to_dict("records"):
        fx.extract(Transaction.from_dict(r))
    last_day = int((df["ts"] > df["ts"].max() - 86_400).sum())
    # each of the 9 windows holds at most two widths (<= 48 h) of payments
    last_two_days = int((df["ts"] > df["ts"].max() - 2 * 86_400).sum())
    assert fx.window_events() <= 9 * last_two_days < 9 * len(df) // 2
    assert fx.window_events() <= 3 * last_day, "in practice about two day-windows' worth"


def test_out_of_order_payment_is_refused_without_changing_state(df):
    fx = FeatureExtractor()
    first, second = (
        Transaction.from_dict(r) for r in df[list(TXN_FIELDS)].iloc[[5, 0]].to_dict("records")
    )
    fx.extract(first)
    before = fx.window_events()
    with pytest.raises(OutOfOrder):
        fx.extract(second)
    assert fx.window_events() == before
