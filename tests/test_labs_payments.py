"""The payments lab: the reference passes, the seed's design fails with a short counterexample."""

from razorlab.labs import ReferencePayments, SeedPayments, check
from razorlab.labs.harness import run_plan
from razorlab.labs.payments import PAYMENTS


def test_the_reference_implementation_passes_200_runs():
    verdict = check(ReferencePayments, runs=200, seed=0)
    assert verdict.passed, str(verdict)
    assert verdict.exit_code == 0 and "PASSED" in str(verdict)


def test_the_seed_design_double_charges_with_a_counterexample_of_a_handful_of_steps():
    verdict = check(SeedPayments, runs=200, seed=0)
    assert verdict.status == "failed" and verdict.exit_code == 1
    assert verdict.invariant == "one_charge_per_key"
    assert len(verdict.history) <= 12, verdict.timeline()
    assert verdict.original_events > len(verdict.history)
    text = str(verdict)
    assert "At most one successful bank charge" in text and " 1. t=" in text


def test_shrinking_leaves_one_client_one_payment_and_at_most_two_faults():
    verdict = check(SeedPayments, runs=50, seed=7)
    plan = verdict.plan
    assert len(plan.clients()) == 1 and len(plan.ops) == 1 and len(plan.faults) <= 2, (
        plan.describe()
    )
    assert plan.ops[0].key == "k1", "what is left is renumbered"


def test_the_shrunk_plan_replays_the_printed_history_exactly():
    verdict = check(SeedPayments, runs=20, seed=1)
    again = run_plan(PAYMENTS, SeedPayments, verdict.plan)
    assert again.history == verdict.history


def test_the_counterexample_draws_as_swim_lanes_with_a_lane_per_actor():
    verdict = check(SeedPayments, runs=20, seed=0)
    fig = verdict.figure()
    lanes = list(fig.layout.yaxis.ticktext)
    assert lanes[-1] == "client 1" and "service" in lanes and "bank" in lanes
    assert len(fig.layout.annotations) >= 3, "messages are arrows between lanes"


def test_a_crash_shows_as_a_marker_in_the_figure():
    from razorlab.labs import Fault, Op, Plan
    from razorlab.labs.plots import swimlanes

    plan = Plan(5, (Op(1, 1, "create_payment", "k1", (49_900,)),), (Fault("crash", 3),))
    fig = swimlanes(run_plan(PAYMENTS, SeedPayments, plan).history)
    assert "x" in fig.data[0].marker.symbol and fig.layout.shapes, "crash cross and dashed line"
