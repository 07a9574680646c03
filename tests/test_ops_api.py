"""razorlab.ops exports exactly what learners use; every name resolves."""

import razorlab.ops as ops

EXPECTED = {
    # capacity and units
    "Requirements",
    "CapacityPlan",
    "plan",
    "compare",
    "Quantity",
    "UnitError",
    "q",
    "seed_scenarios",
    "SEED_CLAIMS",
    # availability
    "downtime",
    "nines",
    "from_nines",
    "serial",
    "redundant",
    # migration
    "Endpoint",
    "NewService",
    "Guards",
    "MigrationSimulator",
    "DependencyCycle",
    "demo_monolith",
    "plan_phases",
    "postmortem",
    "risk_register",
    # SLOs and incidents
    "SLO",
    "BurnRateAlert",
    "WORKBOOK_ALERTS",
    "burn_rate",
    "evaluate_alerts",
    "Incident",
    "FAULTS",
    "classify",
    "respond",
    # interviews
    "StarStory",
    "review",
}


def test_all_is_pinned_and_resolves():
    assert set(ops.__all__) == EXPECTED
    assert len(ops.__all__) == len(EXPECTED), "no duplicates in __all__"
    for name in ops.__all__:
        assert getattr(ops, name) is not None
