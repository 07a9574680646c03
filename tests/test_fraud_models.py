"""Models: learn the signal, score one row exactly as a batch, survive the model store."""

import numpy as np
import pytest

from benchmarks.fraud_models import lightgbm_matched, score_on_test
from razorlab.errors import NotFoundError, ValidationError
from razorlab.fraud import (
    BoostedTrees,
    LogisticRegression,
    ModelRegistry,
    SynthConfig,
    average_precision,
    simulate,
)
from razorlab.fraud.trainer import prepare
from razorlab.rand import rng

NAMES = ("a", "b", "noise")


@pytest.fixture(scope="module")
def data():
    g = rng(3, "test.models")
    X = g.normal(size=(6_000, 3))
    # fraud needs a AND b high: an interaction a linear model can only approximate
    logit = -7 + 2.5 * (X[:, 0] > 1) * (X[:, 1] > 0.5) * 4 + 0.3 * X[:, 0]
    y = (g.random(6_000) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def models(data):
    X, y = data
    return LogisticRegression(NAMES).fit(X[:4_000], y[:4_000]), BoostedTrees(
        NAMES, n_trees=40, seed=1
    ).fit(X[:4_000], y[:4_000])


def test_both_models_beat_chance_and_trees_catch_the_interaction(data, models):
    X, y = data
    lr, gbt = models
    base = y[4_000:].mean()
    ap_lr = average_precision(y[4_000:], lr.logit(X[4_000:]))
    ap_gbt = average_precision(y[4_000:], gbt.logit(X[4_000:]))
    assert ap_lr > 3 * base and ap_gbt > ap_lr


def test_one_row_scores_equal_batch_scores_to_the_bit(data, models):
    X, _ = data
    for model in models:
        batch = model.logit(X[:300])
        single = np.array([model.logit_one(x) for x in X[:300].tolist()])
        assert np.array_equal(batch, single), model.kind
        contrib = model.contributions(X[:50])
        assert np.array_equal(contrib, [model.contributions_one(x) for x in X[:50].tolist()])


def test_contributions_explain_the_score(data, models):
    X, _ = data
    lr, gbt = models
    assert np.allclose(lr.contributions(X[:50]).sum(1) + lr.bias, lr.logit(X[:50]))
    root = sum(tree[0][0] for tree in gbt.nodes)
    assert np.allclose(gbt.contributions(X[:50]).sum(1) + gbt.base + root, gbt.logit(X[:50]))


@pytest.mark.parametrize("on_disk", [False, True])
def test_registry_versions_and_reloads_models_bit_for_bit(data, models, tmp_path, on_disk):
    X, _ = data
    registry = ModelRegistry(tmp_path if on_disk else None)
    for model in models:
        assert registry.register("fraud", model, auprc=0.5) == len(registry.versions("fraud"))
    assert registry.versions("fraud") == [1, 2]
    assert np.array_equal(registry.load("fraud", 1).logit(X), models[0].logit(X))
    assert np.array_equal(registry.load("fraud").logit(X), models[1].logit(X))
    assert registry.document("fraud", 2)["metadata"] == {"auprc": 0.5}


def test_registry_refuses_unknown_names_and_versions():
    registry = ModelRegistry()
    with pytest.raises(NotFoundError):
        registry.load("nope")
    with pytest.raises(ValidationError):
        registry.register("not a name", LogisticRegression(NAMES))


LIGHTGBM_TOLERANCE = 0.03  # AUPRC, issue 20's target: within 3 points of the anchor


def test_trees_stay_within_three_auprc_points_of_lightgbm():
    """razorlab's trees against LightGBM with matched settings (``lightgbm_matched``: same
    number of trees, learning rate, depth/leaves, bins, L2 and min hessian) on the same 20
    features of the chapter's default world (2,000 customers, 30 days, seed 3: 169 frauds
    from 67 incidents in the test period), time split with the label-delay gap. Tolerance:
    our test AUPRC >= LightGBM's - 0.03, the target issue 20 sets. Both fits are seeded and
    LightGBM runs single-threaded and deterministic, so the figures repeat. On seeds 1, 2, 3
    of this world LightGBM minus ours was 0.0, +0.2 and +0.6 points: the bound has >= 2
    points of room, so it fails when the trees regress, not on noise. The benchmark
    (``benchmarks/fraud_models.py``) holds the same comparison over seeds and worlds.
    """
    frame, _, features, masks = prepare(simulate(SynthConfig(seed=3)))
    X, y = features.to_numpy(), frame["is_fraud"].to_numpy()
    test = masks["test"]
    ours = score_on_test(BoostedTrees(list(features.columns), seed=3), X, y, masks)
    anchor = score_on_test(lightgbm_matched(3), X, y, masks)
    ap_ours, ap_anchor = average_precision(y[test], ours), average_precision(y[test], anchor)
    assert ap_ours >= ap_anchor - LIGHTGBM_TOLERANCE, (ap_ours, ap_anchor)
