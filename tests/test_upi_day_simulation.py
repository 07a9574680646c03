"""The day-scale simulation: vectorised fates agree with the per-transaction switch."""

import numpy as np

from razorlab.clock import ManualClock
from razorlab.upi.network import (
    BUSINESS_DECLINES,
    NetworkModel,
    simulate,
    success_rates,
)
from razorlab.upi.switch import UpiSwitch


def test_simulation_is_deterministic_and_consistent():
    a = simulate(NetworkModel(), 50_000, seed=9)
    assert a.equals(simulate(NetworkModel(), 50_000, seed=9))
    ok = a["final_state"] == "SUCCESS"
    assert (a.loc[ok, "code"] == "00").all()
    assert (a.loc[a["final_state"] == "REVERSED", "debited"]).all(), "only debits are reversed"
    assert not a.loc[a["code"].isin(BUSINESS_DECLINES), "debited"].any()


def test_technical_rate_excludes_business_declines():
    rates = success_rates(simulate(NetworkModel(p_wrong_pin=0.2), 20_000, seed=1))
    assert rates["overall"] < 0.8 < rates["technical"]


def test_perfect_network_reaches_three_nines():
    model = NetworkModel(p_psp_down=0, p_remitter_decline=0, p_beneficiary_fail=0)
    assert success_rates(simulate(model, 50_000, seed=1))["technical"] >= 0.999


def test_switch_draws_from_the_same_model():
    model = NetworkModel(remitter_median_s=9, beneficiary_median_s=7)
    sw = UpiSwitch(model, seed=4, clock=ManualClock())
    for i in range(300):
        sw.pay(f"T{i}", f"user{i}@okaxis", "bob@ybl", 100)  # one payer each: no daily limit
    sw.clock.advance(90_000)
    finals = np.array([t.state for t in sw.transactions()])
    day = simulate(model, 20_000, seed=4)
    for state in ("SUCCESS", "FAILURE", "REVERSED"):
        expected = (day["final_state"] == state).mean()
        assert abs((finals == state).mean() - expected) < 0.06, state
