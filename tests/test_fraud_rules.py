"""Rules are data: they round-trip through JSON, explain every firing, agree batch vs single;
the best one-line rule a world allows is found exhaustively."""

import json

import numpy as np
import pandas as pd
import pytest

from razorlab.errors import ValidationError
from razorlab.fraud import DEFAULT_RULES, FEATURES, Rule, RuleSet, best_single_rule
from razorlab.rand import rng

ROWS = [
    dict.fromkeys(FEATURES, 0.0) | {"ip_count_1m": 6.0, "amount_paise": 500.0},
    dict.fromkeys(FEATURES, 0.0) | {"card_count_1h": 7.0, "travel_kmh": 2_000.0},
    dict.fromkeys(FEATURES, 0.0) | {"amount_paise": 90_000.0},
]


def test_fired_rules_say_why_with_the_values_that_fired_them():
    fired = DEFAULT_RULES.evaluate(ROWS[0])
    assert [f.rule for f in fired] == ["ip_card_testing"]
    assert "6 payments from one IP" in fired[0].reason and fired[0].action == "decline"
    names = [f.rule for f in DEFAULT_RULES.evaluate(ROWS[1])]
    assert names == ["card_velocity", "impossible_travel"]
    assert "2000 km/h" in DEFAULT_RULES.evaluate(ROWS[1])[1].reason


def test_no_rule_fires_on_an_ordinary_payment():
    assert DEFAULT_RULES.evaluate(ROWS[2]) == []


def test_batch_evaluation_agrees_with_one_at_a_time():
    cols = {f: np.array([r[f] for r in ROWS]) for f in FEATURES}
    fired = DEFAULT_RULES.evaluate_batch(cols)
    for i, row in enumerate(ROWS):
        single = {f.rule for f in DEFAULT_RULES.evaluate(row)}
        batch = {r.name for r, hit in zip(DEFAULT_RULES.rules, fired[i], strict=True) if hit}
        assert single == batch
        assert DEFAULT_RULES.scores(fired)[i] == sum(f.score for f in DEFAULT_RULES.evaluate(row))


def test_rule_set_round_trips_through_json_with_its_version():
    text = json.dumps(DEFAULT_RULES.to_dict())
    again = RuleSet.from_dict(json.loads(text))
    assert again == DEFAULT_RULES and again.version == "2026-01-rules-v1"


def test_malformed_rules_are_refused_clearly():
    with pytest.raises(ValidationError, match="op in"):
        Rule("bad", (("amount_paise", "=>", 1),), 1.0, "x")
    with pytest.raises(ValidationError, match="unknown action"):
        Rule("bad", (("amount_paise", ">", 1),), 1.0, "x", action="block")
    with pytest.raises(ValidationError, match="malformed"):
        RuleSet.from_dict({"version": "v", "rules": [{"name": "x"}]})
    with pytest.raises(ValidationError, match="unknown feature"):
        RuleSet("v", (Rule("r", (("colour", "==", 1),), 1.0, "x"),)).check_features(FEATURES)


def test_best_single_rule_finds_a_planted_giveaway_and_its_restriction():
    g = rng(8, "test.giveaway")
    n = 4_000
    y = (g.random(n) < 0.05).astype(int)
    columns = pd.DataFrame(
        {
            "noise": g.normal(size=n),
            "amount_paise": np.where(y == 1, g.integers(100, 900, n), g.integers(500, 90_000, n)),
            "is_refund": (g.random(n) < 0.1).astype(float),
        }
    )
    best = best_single_rule(columns, y, 0.5)
    assert best.rule.startswith("amount_paise <= ") and best.recall >= 0.5
    threshold = float(best.rule.split()[-1])
    flagged = columns["amount_paise"] <= threshold
    assert best.precision == pytest.approx(y[flagged].mean()) and best.flagged == flagged.sum()
    # fraud is "a refund with noise of 1 or more": only the restricted rule is precise
    y2 = ((columns["is_refund"] == 1) & (columns["noise"] >= 1)).to_numpy().astype(int)
    planted = best_single_rule(columns, y2, 0.9)
    assert planted.rule.startswith("is_refund == 1 and noise >= ") and planted.precision == 1.0
    with pytest.raises(ValueError):
        best_single_rule(columns, y2, 0.0)
