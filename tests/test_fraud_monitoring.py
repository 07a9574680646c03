"""Monitoring without labels: PSI reads the conventional lines, alert rates count per day."""

import numpy as np
import pandas as pd
import pytest

from razorlab.fraud import alert_rate, daily_psi, psi, psi_by_feature
from razorlab.fraud.monitoring import PSI_SHIFT, PSI_WATCH
from razorlab.rand import rng

DAY_S = 86_400


def test_psi_is_zero_for_the_same_sample_and_grows_with_the_shift():
    g = rng(1, "test.psi")
    ref = g.normal(size=20_000)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert psi(ref, g.normal(size=20_000)) < PSI_WATCH, "a fresh draw of the same population"
    small, big = psi(ref, g.normal(0.4, 1, 20_000)), psi(ref, g.normal(1.0, 1, 20_000))
    assert PSI_WATCH <= small < PSI_SHIFT < big


def test_psi_handles_counts_with_few_values_and_live_values_beyond_the_reference():
    g = rng(2, "test.psi")
    ref = g.integers(1, 4, 5_000).astype(float)  # a count feature: 1, 2 or 3
    assert psi(ref, ref[:1_000]) < PSI_WATCH
    assert np.isfinite(psi(ref, np.full(500, 50.0))) and psi(ref, np.full(500, 50.0)) > PSI_SHIFT
    with pytest.raises(ValueError):
        psi(ref, [])


def test_psi_by_feature_ranks_the_moved_column_first():
    g = rng(3, "test.psi")
    ref = pd.DataFrame({"same": g.normal(size=5_000), "moved": g.normal(size=5_000)})
    live = pd.DataFrame({"same": g.normal(size=5_000), "moved": g.normal(2, 1, 5_000)})
    table = psi_by_feature(ref, live)
    assert list(table.index) == ["moved", "same"] and table["moved"] > PSI_SHIFT


def test_alert_rate_and_daily_psi_count_per_day_from_the_origin():
    ts = np.array([0, 10, 20, DAY_S, DAY_S + 5, 2 * DAY_S + 1]) + 1_000
    flagged = np.array([1, 0, 0, 1, 1, 0])
    rate = alert_rate(flagged, ts)
    assert rate.to_dict() == pytest.approx({0: 1 / 3, 1: 1.0, 2: 0.0})
    assert list(alert_rate(flagged, ts, origin=1_000 - DAY_S).index) == [1, 2, 3]
    g = rng(4, "test.psi")
    ref = g.normal(size=5_000)
    live = np.r_[g.normal(size=2_000), g.normal(1.5, 1, 2_000)]
    days = np.r_[np.zeros(2_000, int), np.ones(2_000, int)] * DAY_S
    per_day = daily_psi(ref, live, days)
    assert per_day[0] < PSI_WATCH < PSI_SHIFT < per_day[1]
