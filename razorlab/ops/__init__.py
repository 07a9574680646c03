"""Leadership and operations: capacity, availability, migrations, incidents, interviews.

Learners use ``from razorlab.ops import plan, Requirements, downtime, Incident, ...``.
"""

from razorlab.ops.availability import downtime, from_nines, nines, redundant, serial
from razorlab.ops.capacity import CapacityPlan, Requirements, compare, plan
from razorlab.ops.incident import FAULTS, Incident, classify, respond
from razorlab.ops.migration import (
    DependencyCycle,
    Endpoint,
    Guards,
    MigrationSimulator,
    NewService,
    demo_monolith,
    plan_phases,
)
from razorlab.ops.postmortem import postmortem
from razorlab.ops.risks import risk_register
from razorlab.ops.scenarios import SEED_CLAIMS, seed_scenarios
from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, BurnRateAlert, burn_rate, evaluate_alerts
from razorlab.ops.star import StarStory, review
from razorlab.ops.units import Quantity, UnitError, q

__all__ = [
    "FAULTS",
    "SEED_CLAIMS",
    "SLO",
    "WORKBOOK_ALERTS",
    "BurnRateAlert",
    "CapacityPlan",
    "DependencyCycle",
    "Endpoint",
    "Guards",
    "Incident",
    "MigrationSimulator",
    "NewService",
    "Quantity",
    "Requirements",
    "StarStory",
    "UnitError",
    "burn_rate",
    "classify",
    "compare",
    "demo_monolith",
    "downtime",
    "evaluate_alerts",
    "from_nines",
    "nines",
    "plan",
    "plan_phases",
    "postmortem",
    "risk_register",
    "q",
    "redundant",
    "respond",
    "review",
    "seed_scenarios",
    "serial",
]
