"""The simulator: deterministic, rare fraud, every attack labelled with its signature."""

import numpy as np
import pandas as pd
import pytest

from razorlab.errors import ValidationError
from razorlab.fraud import PATTERNS, SynthConfig, simulate
from razorlab.fraud.transaction import TXN_FIELDS

SMALL = SynthConfig(n_customers=600, days=20, seed=11)


@pytest.fixture(scope="module")
def df():
    return simulate(SMALL)


def test_same_seed_gives_the_same_frame_row_for_row(df):
    pd.testing.assert_frame_equal(df, simulate(SMALL))


def test_other_seed_gives_other_payments(df):
    other = simulate(SynthConfig(n_customers=600, days=20, seed=12))
    assert not df["amount_paise"].head(100).equals(other["amount_paise"].head(100))


def test_fraud_is_rare_but_present(df):
    rate = df["is_fraud"].mean()
    assert 0.001 < rate < 0.01, f"fraud rate {rate:.4f} should be well under 1%"


def test_every_pattern_appears_and_labels_match(df):
    assert set(PATTERNS) <= set(df["pattern"])
    assert ((df["pattern"] != "none") == (df["is_fraud"] == 1)).all()


def test_money_is_int64_paise_and_stream_ordered(df):
    assert list(df.columns[: len(TXN_FIELDS)]) == list(TXN_FIELDS)
    assert df["amount_paise"].dtype == np.int64 and (df["amount_paise"] > 0).all()
    assert df["ts"].is_monotonic_increasing and (df["txn_id"] == np.arange(len(df))).all()


def test_card_testing_is_tiny_amounts_from_one_ip_in_minutes(df):
    ct = df[df["pattern"] == "card_testing"]
    assert ct["amount_paise"].max() <= 1_000, "card testing uses ₹1-₹10 payments"
    for _, burst in ct.groupby("ip_id"):
        assert burst["card_id"].nunique() >= 8, "one IP tries many cards"
        assert burst["ts"].max() - burst["ts"].min() < 3_600


def test_collusion_is_refunds_and_velocity_is_one_card(df):
    assert (df.loc[df["pattern"] == "merchant_collusion", "kind"] == "refund").all()
    vb = df[df["pattern"] == "velocity_burst"]
    assert vb.groupby("device_id")["card_id"].nunique().max() == 1


def test_rejects_a_bad_seed():
    with pytest.raises(ValidationError):
        simulate(SynthConfig(seed=-1))
