"""Burn-rate alerts fire and clear at the minutes the SRE workbook's maths predicts."""

import numpy as np
import pytest

from razorlab.errors import ValidationError
from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, alert_episodes, burn_rate, evaluate_alerts

FAST = WORKBOOK_ALERTS[0].name
MEDIUM = WORKBOOK_ALERTS[1].name


def stream(minutes, bad_from, bad_to, bad_rate, rpm=10_000, base_rate=0.0):
    req = np.full(minutes, rpm)
    err = np.full(minutes, rpm * base_rate)
    err[bad_from:bad_to] = rpm * bad_rate
    return err, req


def test_error_budget_and_budget_fractions_match_the_workbook():
    slo = SLO(0.999)
    assert slo.error_budget == pytest.approx(0.001)
    fractions = [a.budget_fraction(slo) for a in WORKBOOK_ALERTS]
    assert fractions == pytest.approx([0.02, 0.05, 0.10])
    assert slo.budget_spent(432, 432_000_000 / 1000) == pytest.approx(1.0)


def test_fast_burn_fires_when_44_bad_minutes_fill_the_hour_and_clears_a_minute_after():
    # 2% errors = burn 20. The 1h window reaches 14.4 once n/60 * 20 >= 14.4, n >= 43.2 -> 44
    # bad minutes, i.e. at minute a + 43. After the fault ends at b, the 5 min window holds
    # b - t + 4 bad minutes; it drops below 14.4 (needs 4 of 5) at t = b + 1.
    a, b = 100, 200
    err, req = stream(300, a, b, 0.02)
    frame = evaluate_alerts(err, req, SLO(0.999))
    episodes = alert_episodes(frame)
    fast = episodes[episodes["alert"] == FAST]
    assert list(fast["fired"]) == [a + 43]
    assert list(fast["cleared"]) == [b + 1]


def test_medium_burn_catches_a_slow_leak_the_fast_alert_misses():
    # 0.85% errors = burn 8.5: below 14.4, above 6. 6h window: n/360 * 8.5 >= 6 -> n >= 254.1
    a = 400  # after a full 6 h of clean history, so the long window is full
    err, req = stream(800, a, 800, 0.0085)
    frame = evaluate_alerts(err, req, SLO(0.999))
    assert not frame[FAST].any()
    assert int(np.flatnonzero(frame[MEDIUM])[0]) == a + 254


def test_a_short_blip_that_spends_little_budget_never_pages():
    err, req = stream(300, 100, 103, 0.1)  # 3 minutes of 10% errors: 0.5% of the budget
    frame = evaluate_alerts(err, req, SLO(0.999))
    assert frame[FAST].sum() == 0


def test_young_streams_are_judged_on_the_minutes_they_have():
    err, req = stream(60, 10, 60, 0.008)
    frame = evaluate_alerts(err, req, SLO(0.999))
    # at minute 40 the "6 h" window holds 41 minutes, 31 of them bad: 31/41 * 8 = 6.05 >= 6
    assert int(np.flatnonzero(frame[MEDIUM])[0]) == 40


def test_burn_rate_of_a_steady_stream_is_error_ratio_over_budget():
    err, req = stream(120, 0, 120, 0.002)
    assert burn_rate(err, req, 60, SLO(0.999)) == pytest.approx(np.full(120, 2.0))


def test_no_traffic_means_no_burn():
    assert burn_rate([0, 0], [0, 0], 5, SLO()).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("target", [1.0, 0, 99.9, True])
def test_slo_targets_must_be_fractions(target):
    with pytest.raises(ValidationError, match="target"):
        SLO(target)


def test_streams_must_line_up():
    with pytest.raises(ValidationError, match="same length"):
        burn_rate([1, 2], [10], 5, SLO())
    with pytest.raises(ValidationError, match="between 0 and requests"):
        burn_rate([11], [10], 5, SLO())
