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


def test_every_outcome_names_who_decided_it_and_balances_belong_to_the_remitter():
    from razorlab.upi.network import DECIDED_BY, REASONS, NetworkModel, decided_by, simulate

    assert set(DECIDED_BY) == set(REASONS)
    day = simulate(NetworkModel(), 20_000, seed=7)
    table = decided_by(day)
    assert list(table.index) == list(REASONS)
    assert int(table["payments"].sum()) == len(day), "every payment is counted once"
    assert table.loc["insufficient funds", "decided by"] == "remitter bank"
    assert table.loc["wrong PIN", "decided by"] == "remitter bank"
    assert not any(
        "PSP" in who for r, who in table["decided by"].items() if r != "payer PSP / switch down"
    )


def test_codes_follow_npci_meanings():
    from razorlab.upi.network import RESPONSE_CODES, NetworkModel, simulate

    day = simulate(NetworkModel(), 50_000, seed=3)
    assert set(day["code"].unique()) <= set(RESPONSE_CODES), "every emitted code is documented"
    by_reason = day.groupby("reason", observed=True)["code"].first()
    assert by_reason["remitter bank declined"] == "U30", "a technical debit failure is U30"
    assert by_reason["beneficiary credit failed (reversed)"] == "U31"
    assert "ZA" not in set(day["code"]), "ZA is a customer's decline, never a technical one"
    assert "ZA" in BUSINESS_DECLINES
