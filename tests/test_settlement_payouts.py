"""Settlement: fee and GST rounded per payment, T+N working days, reserves, carry-forward."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import EPOCH_2026
from razorlab.errors import ValidationError
from razorlab.money import InvalidAmount, Money, Rounding
from razorlab.settlement import (
    Entry,
    SettlementPolicy,
    compare_modes,
    is_working_day,
    percent_paise,
    random_payables,
    settle,
    settlement_date,
)

DAY = 86_400


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(0, 10**12), min_size=1, max_size=20),
    rate=st.sampled_from(["1.99", "2", "18", "0.5", "2.36", "0"]),
    rounding=st.sampled_from(list(Rounding)),
)
def test_vectorised_percent_matches_money_percent(amounts, rate, rounding):
    got = percent_paise(np.array(amounts), rate, rounding)
    assert [int(x) for x in got] == [Money(a).percent(rate, rounding).paise for a in amounts]


def test_percent_rejects_negative_amounts_and_float_rates():
    with pytest.raises(InvalidAmount):
        percent_paise([-1], "2")
    with pytest.raises(InvalidAmount):
        percent_paise([1], 2.0)


def test_t_plus_n_skips_sundays_second_and_fourth_saturdays_and_holidays():
    thursday = date(2026, 1, 1)
    # Sat 3 Jan is the month's 1st Saturday: a working day (Razorpay, bank calendar)
    assert settlement_date(thursday, 2) == date(2026, 1, 3)
    assert settlement_date(thursday, 1, holidays=[date(2026, 1, 2)]) == date(2026, 1, 3)
    assert settlement_date(thursday, 3) == date(2026, 1, 5), "Sunday is never a working day"
    # Fri 9 Jan: Sat 10 Jan is the 2nd Saturday (closed), Sun 11 closed -> Mon 12
    assert settlement_date(date(2026, 1, 9), 1) == date(2026, 1, 12)
    assert settlement_date(date(2026, 1, 10), 0) == date(2026, 1, 12), "T+0 on a 2nd Saturday waits"
    assert settlement_date(date(2026, 1, 11), 0) == date(2026, 1, 12), "T+0 on Sunday waits"
    assert settlement_date(date(2026, 1, 17), 0) == date(2026, 1, 17), "3rd Saturday is open"


def test_working_days_follow_the_bank_calendar():
    saturdays = [date(2026, 5, d) for d in (2, 9, 16, 23, 30)]  # May 2026 has five Saturdays
    assert [is_working_day(d) for d in saturdays] == [True, False, True, False, True]
    assert not is_working_day(date(2026, 5, 3)), "Sunday"
    assert is_working_day(date(2026, 1, 23))
    assert not is_working_day(date(2026, 1, 26), holidays=[date(2026, 1, 26)]), "holiday"


def test_fee_and_gst_are_rounded_per_payment():
    entries = [Entry(f"p{i}", "m", "payment", 125, EPOCH_2026) for i in range(4)]
    (row,) = settle(entries, SettlementPolicy(mdr_percent="2")).itertuples()
    # 2% of 125 paise = 2.5 -> 3 paise each; GST 18% of 3 = 0.54 -> 1 paisa each
    assert (row.fee, row.gst, row.payout) == (12, 4, 500 - 16)


def test_negative_day_carries_forward_and_reserve_is_released():
    entries = [
        Entry("p1", "m", "payment", 10_000, EPOCH_2026),
        Entry("c1", "m", "chargeback", 30_000, EPOCH_2026 + DAY),
        Entry("p2", "m", "payment", 50_000, EPOCH_2026 + 5 * DAY),
    ]
    policy = SettlementPolicy(mdr_percent="0", reserve_percent="10", reserve_hold_days=3)
    df = settle(entries, policy)
    assert list(df["payout"]) == [9_000, 0, 50_000 - 5_000 + 1_000 - 30_000]
    assert list(df["carry_forward"]) == [0, -30_000, 0]
    paid_or_owed = df["payout"].sum() + df["carry_forward"].iloc[-1]
    held = df["reserve_held"].sum() - df["reserve_released"].sum()
    assert paid_or_owed + held == 10_000 - 30_000 + 50_000, "no paisa lost in the max(0)"


def test_carry_in_from_an_earlier_run_is_applied():
    df = settle(
        [Entry("p1", "m", "payment", 1_000, EPOCH_2026)],
        SettlementPolicy(mdr_percent="0"),
        carry_in={"m": -400},
    )
    assert df["payout"].iloc[0] == 600


@pytest.mark.parametrize(
    "entries",
    [
        [Entry("p", "m", "payment", 0, EPOCH_2026)],
        [Entry("p", "m", "refund", -5, EPOCH_2026)],
        [Entry("p", "m", "tip", 5, EPOCH_2026)],
        [Entry("p", "m", "payment", 5, EPOCH_2026), Entry("p", "m", "payment", 6, EPOCH_2026)],
        [
            Entry("p", "m", "payment", 5, EPOCH_2026),
            Entry("q", "m", "payment", 6, EPOCH_2026, currency="USD"),
        ],
    ],
)
def test_bad_entries_are_refused(entries):
    with pytest.raises(ValidationError):
        settle(entries)


def test_float_amounts_are_refused():
    with pytest.raises(InvalidAmount):
        settle(
            pd.DataFrame(
                {
                    "id": ["a"],
                    "merchant_id": ["m"],
                    "kind": ["payment"],
                    "amount": [1.5],
                    "at": [EPOCH_2026],
                }
            )
        )


def test_hybrid_payouts_sit_between_batch_and_real_time():
    df = compare_modes(random_payables(2_000, merchants=50, seed=1), threshold_paise=500_000)
    transfers, wait = df["transfers"], df["mean_wait_s"]
    assert transfers.iloc[0] < transfers.iloc[1] < transfers.iloc[2] == 2_000
    assert wait.iloc[0] > wait.iloc[1] > wait.iloc[2]
