"""The incident simulator: signals point at the cause, only the right fix ends it."""

import pytest

from razorlab.clock import EPOCH_2026, ManualClock
from razorlab.errors import StateError, ValidationError
from razorlab.ops.incident import FAULTS, RESOLVED_WINDOW_MIN, Incident, classify, respond
from razorlab.ops.postmortem import postmortem
from razorlab.ops.slo import SLO


@pytest.fixture(scope="module")
def resolved():
    return {name: respond(Incident(name, seed=3)) for name in FAULTS}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_suspects_rank_the_injected_fault_first_during_impact(fault):
    inc = Incident(fault, seed=5)
    inc.advance(inc.fault_minute + 20)
    assert inc.suspects().loc[0, "cause"] == fault


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_is_detected_acknowledged_and_resolved_in_order(resolved, fault):
    inc = resolved[fault]
    s = inc.summary()
    assert 0 <= s["mttd_min"] < s["mttr_min"] and s["mtta_min"] >= 0
    acked = inc.timeline().set_index("event").loc["acknowledged", "minute"]
    assert s["mtta_min"] == acked - inc.detected_at(), "MTTA runs from the page, not from impact"
    events = list(inc.timeline()["event"])
    assert events.index("impact starts") < events.index("detected") < events.index("resolved")


def test_healthy_service_never_pages():
    inc = Incident("bad_deploy", fault_minute=400)
    inc.advance(399)
    assert inc.detected_at() is None
    assert not inc.alert_frame()[[a.name for a in inc.alerts]].any().any()


def test_wrong_action_changes_nothing_and_shows_in_the_post_mortem():
    inc = respond(Incident("db_saturation"), actions=("restart_pods", "kill_batch_job"))
    tl = inc.timeline()
    assert list(tl.loc[tl["event"] == "action", "detail"]) == ["restart_pods (no effect)"]
    assert "restart_pods" in postmortem(inc)
    quick = respond(Incident("db_saturation"))
    assert inc.summary()["mttr_min"] > quick.summary()["mttr_min"]
    assert inc.summary()["failed_payments"] > quick.summary()["failed_payments"]


def test_errors_concentrate_where_the_fault_is():
    inc = Incident("bank_outage")
    inc.advance(inc.fault_minute + 10)
    assert inc.errors_by("bank").index[0] == "HDFC"
    assert inc.errors_by("error_code").index[0] == "bank_timeout"
    assert inc.latency_by_bank().index[0] == "HDFC"
    assert any("15000 ms" in line for line in inc.logs())
    assert "bank.HDFC" in set(inc.traces()["span"])


def test_cert_expiry_fails_fast_and_nothing_changed():
    inc = Incident("cert_expiry")
    inc.advance(inc.fault_minute + 10)
    assert inc.latency_by_bank().index[-1] == "ICICI"  # handshakes fail in milliseconds
    assert "deploy" not in " ".join(inc.what_changed()["change"])


def test_business_declines_do_not_burn_the_error_budget():
    inc = Incident("bad_deploy", fault_minute=200)
    inc.advance(100)
    m = inc.metrics()
    assert m["declines"].sum() > 10 * m["errors"].sum()
    assert m["error_rate"].max() < inc.slo.error_budget


@pytest.mark.parametrize(
    ("share", "sev"), [(0.5, "SEV1"), (0.2, "SEV1"), (0.08, "SEV2"), (0.01, "SEV3"), (0.0, "SEV4")]
)
def test_severity_follows_the_failing_share(share, sev):
    assert classify(share) == sev


def test_bad_inputs_and_out_of_order_actions_are_refused():
    with pytest.raises(ValidationError, match="unknown fault"):
        Incident("gremlins")
    with pytest.raises(ValidationError, match="baseline"):
        Incident("bad_deploy", fault_minute=5)
    with pytest.raises(ValidationError, match="dimension"):
        Incident("bad_deploy").errors_by("colour")
    with pytest.raises(ValidationError, match="classify|failing share"):
        classify(1.5)
    inc = Incident("bad_deploy")
    with pytest.raises(StateError, match="acknowledge"):
        inc.act("rollback_deploy")
    inc.acknowledge()
    with pytest.raises(ValidationError, match="unknown action"):
        inc.act("pray")
    with pytest.raises(StateError, match="not resolved"):
        postmortem(inc)


def test_time_runs_on_the_injected_clock_and_runs_are_repeatable():
    clock = ManualClock()
    a = Incident("bad_deploy", clock=clock, seed=9)
    a.advance(30)
    assert clock.now() == EPOCH_2026 + 30 * 60
    b = Incident("bad_deploy", seed=9)
    for _ in range(3):
        b.advance(10)  # stepping differently yields the same minutes
    assert a.metrics().equals(b.metrics())


def test_post_mortem_is_blameless_and_quotes_the_numbers(resolved):
    inc = resolved["cert_expiry"]
    text = postmortem(inc)
    s = inc.summary()
    assert "Blameless" in text and "Root cause" in text
    assert f"{s['failed_payments']:,}" in text
    assert f"resolved after {s['mttr_min']} min" in text


def test_post_mortem_names_the_slo_window_it_was_judged_on():
    inc = respond(Incident("bank_outage", seed=3, slo=SLO(0.999, window_days=7)))
    assert "of the 7-day error budget" in postmortem(inc)


def test_the_page_is_logged_on_the_clock_it_arrived_and_mtta_is_the_wait():
    clock = ManualClock()
    inc = Incident("bank_outage", seed=5, clock=clock)
    paged = inc.advance_until_paged()
    assert paged == inc.minute and clock.now() == inc.start + 60 * paged
    inc.acknowledge()
    assert inc.summary()["mtta_min"] == 0, "acknowledged the moment the page arrived"
    tl = list(inc.timeline()["event"])
    assert tl.index("detected") < tl.index("acknowledged")
    assert respond(Incident("bank_outage", seed=5), ack_minutes=5).summary()["mtta_min"] == 5


def test_status_updates_keep_going_when_a_step_fails():
    inc = Incident("db_saturation", seed=42)
    paged = inc.advance_until_paged()
    inc.acknowledge("lead")
    inc.advance(2)
    assert not inc.act("restart_pods")  # a step that fails
    inc.advance(5)
    assert inc.act("kill_batch_job")
    resolved = inc.advance_until_resolved()
    updates = inc.status_updates(every_minutes=5)
    assert updates["minute"].iloc[0] == paged, "the first update goes out with the page"
    declared = resolved + RESOLVED_WINDOW_MIN
    assert updates["minute"].iloc[-1] == declared and updates["status"].iloc[-1] == "resolved"
    wrong = int(inc.timeline().set_index("event").loc["action", "minute"])
    assert (updates["minute"] > wrong).sum() >= 2, "updates continue after the failed step"
    assert inc.mitigated_at in set(updates["minute"])
    gaps = updates["minute"].diff().dropna()
    assert (gaps <= 5).all(), "no gap longer than the promised cadence"
    order = {"investigating": 0, "monitoring": 1, "resolved": 2}
    assert updates["status"].map(order).is_monotonic_increasing


def test_no_page_no_status_updates():
    inc = Incident("bad_deploy", seed=1)
    inc.advance(30)
    assert inc.status_updates().empty
    with pytest.raises(ValidationError, match="every_minutes"):
        inc.status_updates(every_minutes=0)
