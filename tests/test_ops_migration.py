"""Migration plans follow the dependency graph; guards roll back exactly when breached."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.ops.migration import (
    DependencyCycle,
    Endpoint,
    Guards,
    MigrationSimulator,
    NewService,
    demo_monolith,
    plan_phases,
)
from razorlab.ops.risks import risk_register


def test_phases_come_in_dependency_order():
    phases = plan_phases(demo_monolith())
    position = {n: p.index for p in phases for n in p.endpoints}
    for ep in demo_monolith():
        for dep in ep.depends_on:
            assert position[dep] < position[ep.name], f"{ep.name} before its dependency {dep}"
    assert [p.endpoints for p in phases][0] == ("merchants", "ledger")


def test_cycles_are_rejected_naming_the_loop():
    eps = [Endpoint("a", ("c",)), Endpoint("b", ("a",)), Endpoint("c", ("b",)), Endpoint("d")]
    with pytest.raises(DependencyCycle, match="a -> c -> b -> a"):
        plan_phases(eps)


@pytest.mark.parametrize(
    ("eps", "message"),
    [
        ([], "at least one endpoint"),
        ([Endpoint("a"), Endpoint("a")], "duplicate"),
        ([Endpoint("a", ("ghost",))], "unknown endpoints"),
    ],
)
def test_bad_plans_give_clear_errors(eps, message):
    with pytest.raises(ValidationError, match=message):
        plan_phases(eps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ramp": (1, 5, 50)}, "end at 100"),
        ({"ramp": (5, 1, 100)}, "rise strictly"),
        ({"services": {"nope": NewService()}}, "unknown endpoint"),
        ({"shadow_pct": 0}, "shadow_pct"),
    ],
)
def test_bad_simulator_settings_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        MigrationSimulator(demo_monolith(), **kwargs)


def test_healthy_services_complete_every_phase():
    run = MigrationSimulator(demo_monolith()).run()
    assert run.completed
    assert run.rollbacks.empty
    assert (run.timeline.groupby("phase")["pct_new"].last() == 100).all()


def test_ramping_shrinks_the_blast_radius_of_a_broken_service():
    def run(ramp):
        services = {"payments": NewService(capacity_pct=20)}
        return MigrationSimulator(demo_monolith(), services, ramp=ramp, seed=42).run()

    big_bang, ramped = run((100,)), run((1, 5, 25, 100))
    assert ramped.failed_requests(phase=3) < big_bang.failed_requests(phase=3)
    phases = big_bang.timeline["phase"].unique()
    assert big_bang.failed_requests() == sum(big_bang.failed_requests(int(p)) for p in phases)


def _first_breach(sim, timeline):
    """Oracle: the first recorded minute whose observations break a guard."""
    g = sim.guards
    tl = timeline[timeline["event"].isin(["ramp", "hold", "breach"])]
    by_step = tl.groupby(["phase", "step"], sort=False)
    requests = by_step["new_requests"].cumsum()
    rate = by_step["new_errors"].cumsum() / requests.clip(lower=1)
    judged = requests >= g.min_requests
    bad = tl[judged & ((rate > g.max_error_rate) | (tl["new_p99_ms"] > g.max_p99_ms))]
    return None if bad.empty else int(bad["minute"].iloc[0])


def test_rollback_fires_on_the_first_breaching_minute_and_no_other():
    sim = MigrationSimulator(demo_monolith(), {"payments": NewService(capacity_pct=20)})
    run = sim.run()
    tl = run.timeline
    breach_minute = _first_breach(sim, tl)
    assert breach_minute is not None
    assert list(tl.loc[tl["event"] == "breach", "minute"]) == [breach_minute]
    rollback = tl[tl["event"] == "rollback"].iloc[0]
    assert rollback["minute"] == breach_minute + 1 and rollback["pct_new"] == 0
    assert tl.loc[breach_minute, "pct_new"] == 25  # the cliff shows only past 20%
    assert list(run.phases["outcome"]) == ["completed", "completed", "rolled_back", "not started"]


def test_latency_guard_alone_can_roll_back():
    slow = {"ledger": NewService(p99_ms=400)}
    run = MigrationSimulator(demo_monolith(), slow).run()
    assert run.phases.loc[0, "outcome"] == "rolled_back"
    assert "p99" in run.phases.loc[0, "reason"]


def test_shadow_diffs_stop_a_phase_before_users_see_it():
    run = MigrationSimulator(demo_monolith(), {"orders": NewService(diff_rate=0.01)}).run()
    phase2 = run.timeline[run.timeline["phase"] == 2]
    assert run.phases.loc[1, "outcome"] == "shadow_failed"
    assert (phase2["pct_new"] == 0).all(), "no live traffic moved while diffs were failing"


def test_unhealthy_monolith_blocks_the_phase_at_pre_checks():
    eps = [Endpoint("a", error_rate=0.05)]
    run = MigrationSimulator(eps).run()
    assert run.phases.loc[0, "outcome"] == "blocked"
    assert not run.prechecks["passed"].all()
    assert run.timeline.empty


def test_risk_register_marks_what_happened():
    sim = MigrationSimulator(demo_monolith(), {"payments": NewService(capacity_pct=20)})
    reg = risk_register(sim, sim.run())
    row = reg[(reg["phase"] == 3) & reg["risk"].str.startswith("capacity")].iloc[0]
    assert row["status"] == "materialised"
    assert (reg["score"] == reg["likelihood"] * reg["impact"]).all()
    assert list(reg["score"]) == sorted(reg["score"], reverse=True)
    assert sim.dependents("ledger") == {"payments", "refunds", "settlements"}


@settings(max_examples=30, deadline=None)
@given(
    error=st.floats(0, 0.05),
    p99=st.floats(50, 400),
    capacity=st.floats(0.5, 100),
    seed=st.integers(0, 1000),
)
def test_traffic_split_always_sums_to_100_and_rollback_means_zero(error, p99, capacity, seed):
    svc = NewService(error_rate=error, p99_ms=p99, capacity_pct=capacity)
    sim = MigrationSimulator(
        demo_monolith()[:3],
        {n: svc for n in ("orders",)},
        step_minutes=3,
        seed=seed,
        guards=Guards(min_requests=200),
    )
    tl = sim.run().timeline
    assert ((tl["pct_new"] + tl["pct_monolith"]) == 100).all()
    assert (tl.loc[tl["event"] == "rollback", "pct_new"] == 0).all()
    assert _first_breach(sim, tl) == (
        int(tl.loc[tl["event"] == "breach", "minute"].iloc[0])
        if (tl["event"] == "breach").any()
        else None
    )


def test_same_seed_same_run():
    a = MigrationSimulator(demo_monolith(), seed=7).run().timeline
    b = MigrationSimulator(demo_monolith(), seed=7).run().timeline
    assert a.equals(b)


def _step_error_rate(capacity, pct=25.0, seed=42):
    """Error rate of the new payments service over the first judged minute of a ramp step."""
    services = {"payments": NewService(capacity_pct=capacity)}
    run = MigrationSimulator(demo_monolith(), services, seed=seed).run()
    tl = run.timeline
    rows = tl[(tl["phase"] == 3) & (tl["pct_new"] == pct) & tl["step_error_rate"].notna()]
    return float(rows["step_error_rate"].iloc[0])


def test_lower_capacity_means_more_errors_at_the_same_ramp_step():
    rates = [_step_error_rate(cap) for cap in (24, 20, 15, 10, 5)]
    assert rates == sorted(rates), f"errors must grow as capacity falls: {rates}"
    assert rates[0] > 0.02 and rates[-1] > 0.7, "the excess over capacity is shed"
    # load shedding: offered 25% against capacity c, the share 1 - c/25 fails
    for cap, rate in zip((24, 20, 15, 10, 5), rates, strict=True):
        assert rate == pytest.approx(1 - cap / 25, abs=0.03)


def test_overload_slows_the_service_more_the_further_past_capacity():
    assert NewService(capacity_pct=20).overload(10) == (0.0, 1.0), "below capacity: no change"
    shed_a, slow_a = NewService(capacity_pct=20).overload(25)
    shed_b, slow_b = NewService(capacity_pct=10).overload(25)
    assert shed_a == pytest.approx(0.2) and shed_b == pytest.approx(0.6)
    assert 1 < slow_a < slow_b


def test_overload_runs_are_repeatable_by_seed():
    services = {"payments": NewService(capacity_pct=12)}
    a = MigrationSimulator(demo_monolith(), services, seed=3).run().timeline
    b = MigrationSimulator(demo_monolith(), services, seed=3).run().timeline
    assert a.equals(b)


def test_an_interaction_fault_rolls_back_only_its_phase_by_default():
    services = {"payments": NewService(fails_with=("ledger",))}
    run = MigrationSimulator(demo_monolith(), services, seed=42).run()
    assert list(run.phases["outcome"]) == ["completed", "completed", "rolled_back", "not started"]
    assert run.on_new_services() == ["merchants", "ledger", "orders", "settlements"]


def test_dependency_scope_rolls_earlier_phases_back_newest_first():
    services = {"payments": NewService(fails_with=("ledger",))}
    sim = MigrationSimulator(demo_monolith(), services, rollback_scope="dependencies", seed=42)
    run = sim.run()
    assert list(run.phases["outcome"]) == ["rolled_back"] * 3 + ["not started"]
    assert list(run.rollbacks["phase"]) == [3, 2, 1], "undo in reverse order of extraction"
    assert list(run.rollbacks["minute"]) == list(
        range(run.rollbacks["minute"].iloc[0], len(run.timeline))
    )
    assert run.on_new_services() == []
    assert ((run.timeline["pct_new"] + run.timeline["pct_monolith"]) == 100).all()


def test_dependency_scope_undoes_a_chain_back_to_the_monolith():
    # level-by-level phases: each phase holds something the next one calls, so a failure at
    # the top of a chain undoes every phase below it
    eps = [Endpoint("a"), Endpoint("b", ("a",)), Endpoint("c", ("b",))]
    services = {"c": NewService(capacity_pct=2)}
    run = MigrationSimulator(eps, services, rollback_scope="dependencies").run()
    assert list(run.phases["outcome"]) == ["rolled_back"] * 3
    assert list(run.phases["reason"])[:2] == ["with phase 3", "with phase 3"]
    assert run.on_new_services() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rollback_scope": "everything"}, "rollback_scope"),
        ({"services": {"payments": NewService(fails_with=("ghost",))}}, "fails_with"),
        ({"services": {"payments": NewService(capacity_pct=0)}}, "capacity_pct"),
    ],
)
def test_bad_rollback_and_service_settings_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        MigrationSimulator(demo_monolith(), **kwargs)


def test_phases_undone_by_a_later_rollback_reopen_their_risks():
    services = {"payments": NewService(fails_with=("ledger",))}
    sim = MigrationSimulator(demo_monolith(), services, rollback_scope="dependencies", seed=42)
    reg = risk_register(sim, sim.run())
    assert set(reg.loc[reg["phase"] < 3, "status"]) == {"open"}
    capacity = reg[(reg["phase"] == 3) & reg["risk"].str.startswith("capacity")]
    assert list(capacity["status"]) == ["materialised"]
