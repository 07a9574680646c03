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


def test_a_start_up_blip_does_not_page_as_if_it_filled_the_hour():
    # one minute of 2% errors right at start-up: 0.02 / 0.001 = 20x over that minute, but
    # only 1/60 of the hour exists, so the hour burns 20/60 = 0.33x, not 20x
    err, req = stream(120, 0, 1, 0.02)
    frame = evaluate_alerts(err, req, SLO(0.999))
    assert not frame[[a.name for a in WORKBOOK_ALERTS]].to_numpy().any()
    assert frame[f"{FAST}: long"].iloc[0] == pytest.approx(20 / 60)
    assert frame[f"{FAST}: short"].iloc[0] == pytest.approx(20 / 5)


def test_a_sustained_burn_from_start_up_still_pages_once_its_budget_is_spent():
    # 2% from minute 0: the partial hour reaches 14.4x when n/60 * 20 >= 14.4 -> minute 43,
    # exactly when the same burn would page after a clean hour
    err, req = stream(120, 0, 120, 0.02)
    frame = evaluate_alerts(err, req, SLO(0.999))
    assert int(np.flatnonzero(frame[FAST])[0]) == 43
    # and a hard outage at start-up pages in its first minute: 1000x * 1/60 >= 14.4
    err, req = stream(30, 0, 30, 1.0)
    assert bool(evaluate_alerts(err, req, SLO(0.999))[FAST].iloc[0])


def test_young_streams_count_missing_minutes_as_unburnt():
    err, req = stream(60, 10, 60, 0.008)
    frame = evaluate_alerts(err, req, SLO(0.999))
    # at minute 40 the "6 h" window holds 41 minutes, 31 of them bad: 31/41 * 8 * 41/360 < 6
    assert frame[f"{MEDIUM}: long"].iloc[40] == pytest.approx(31 * 8 / 360)
    assert not frame[MEDIUM].any()


def test_partial_windows_match_a_stream_padded_with_clean_history():
    # the rule in one line: a young window burns like a full one whose missing minutes
    # had the same traffic and no errors
    err, req = stream(90, 20, 50, 0.03)
    padded_err = np.concatenate([np.zeros(60), err])
    padded_req = np.concatenate([np.full(60, 10_000), req])
    young = burn_rate(err, req, 60, SLO(0.999))
    old = burn_rate(padded_err, padded_req, 60, SLO(0.999))[60:]
    assert young == pytest.approx(old)


def test_burn_rate_of_a_steady_stream_is_error_ratio_over_budget():
    err, req = stream(120, 0, 120, 0.002)
    burn = burn_rate(err, req, 60, SLO(0.999))
    assert burn[59:] == pytest.approx(np.full(61, 2.0)), "a full window burns ratio / budget"
    assert burn[:59] == pytest.approx(2.0 * np.arange(1, 60) / 60), "a young one, its share"


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
