"""Retraining cadence: every payment is scored by the model live then, fitted on labels known then."""

import numpy as np
import pytest

from razorlab.fraud import (
    BoostedTrees,
    SynthConfig,
    compare_cadences,
    live_scores,
    simulate,
    weekly_auprc,
)
from razorlab.fraud.retraining import DAY_S
from razorlab.fraud.store import LABEL_DELAY_S
from razorlab.fraud.synth import IST_OFFSET_S
from razorlab.fraud.trainer import prepare

CFG = SynthConfig(n_customers=600, days=24, seed=2031)


@pytest.fixture(scope="module")
def world():
    frame, _, features, _ = prepare(simulate(CFG))
    return features, frame["is_fraud"].to_numpy(), frame["ts"].to_numpy()


ORIGIN = CFG.start_ts - IST_OFFSET_S


def _fit_before(features, y, ts, cutoff):
    known = ts < cutoff - LABEL_DELAY_S
    return BoostedTrees(list(features.columns)).fit(features.to_numpy()[known], y[known])


def test_each_block_is_scored_by_a_model_fitted_on_labels_known_at_its_refit(world):
    features, y, ts = world
    scores = live_scores(features, y, ts, origin=ORIGIN, first_day=10, every_days=7)
    X = features.to_numpy()
    assert np.isnan(scores[ts < ORIGIN + 10 * DAY_S]).all()
    for refit in (ORIGIN + 10 * DAY_S, ORIGIN + 17 * DAY_S):
        block = (ts >= refit) & (ts < refit + 7 * DAY_S)
        expected = _fit_before(features, y, ts, refit).logit(X[block])
        assert np.array_equal(scores[block], expected)


def test_training_once_uses_one_model_for_the_whole_rest(world):
    features, y, ts = world
    once = live_scores(features, y, ts, origin=ORIGIN, first_day=10, every_days=None)
    later = ts >= ORIGIN + 10 * DAY_S
    model = _fit_before(features, y, ts, ORIGIN + 10 * DAY_S)
    assert np.array_equal(once[later], model.logit(features.to_numpy()[later]))


def test_weekly_table_has_a_column_per_cadence_and_the_frauds_per_week(world):
    features, y, ts = world
    table = compare_cadences(
        features, y, ts, {"once": None, "weekly": 7}, origin=ORIGIN, first_day=14
    )
    assert list(table.columns) == ["once", "weekly", "frauds"]
    assert list(table.index) == [2, 3]
    week = (ts - ORIGIN) // (7 * DAY_S)
    assert table.loc[3, "frauds"] == y[week == 3].sum()
    assert table.loc[2, "once"] == table.loc[2, "weekly"], "the first week's model is the same"
    single = weekly_auprc(y, np.where(week == 2, 1.0, np.nan), ts, ORIGIN)
    assert list(single.index) == [2]


def test_a_cadence_below_one_day_is_refused(world):
    features, y, ts = world
    with pytest.raises(ValueError, match="every_days"):
        live_scores(features, y, ts, origin=ORIGIN, first_day=10, every_days=0)
