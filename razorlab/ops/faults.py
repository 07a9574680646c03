"""The simulated payment service's normal traffic and the faults injected into it.

Each :class:`Fault` says how it shows itself (how fast it ramps up, which bank or
release it touches), what ends it (the one mitigation that works and how long
recovery takes), and what the post-mortem will say about it: a root cause written
about systems, not people, and action items. Severity is classified by impact —
the share of payments failing at the worst five minutes — with thresholds that are
our policy, in line with common industry tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from razorlab.errors import ValidationError

__all__ = [
    "ACTIONS",
    "BANKS",
    "ERROR_CODES",
    "FAULTS",
    "Fault",
    "SEVERITIES",
    "classify",
]

#: bank -> share of payment traffic
BANKS = {"HDFC": 0.30, "ICICI": 0.25, "SBI": 0.30, "AXIS": 0.15}
ERROR_CODES = ("internal_error", "db_timeout", "bank_timeout", "tls_handshake")
BASE_RPM = 12_000  # payment requests per minute (200/s)
BASE_ERROR_RATE = 0.0003  # background platform errors
DECLINE_RATE = 0.04  # business declines (insufficient funds, wrong PIN): not SLO errors
BASE_P99_MS = 600.0
BANK_TIMEOUT_MS = 15_000.0  # UPI pay-request timeout (NPCI, 2025)
#: (severity, minimum share of payments failing at the 5-minute peak) — our policy
SEVERITIES = (("SEV1", 0.20), ("SEV2", 0.05), ("SEV3", 0.01), ("SEV4", 0.0))


@dataclass(frozen=True)
class Fault:
    """How one kind of fault shows itself and ends."""

    name: str
    onset_minutes: int  # minutes from start to full effect
    mitigation: str  # the action that ends it
    recovery_minutes: int  # from the right action to normal
    change: str | None  # what the change log shows at the start (None: nothing changed)
    root_cause: str
    action_items: tuple[str, ...]


FAULTS = {
    "bad_deploy": Fault(
        "bad_deploy",
        10,
        "rollback_deploy",
        5,
        "deploy payment-api v42 (rolling, 10 min)",
        "Release v42 dereferenced a field that older clients omit; every request without "
        "it failed. The rolling deploy spread it to all pods because the canary stage "
        "judged health checks, not payment success.",
        (
            "Gate deploys on payment success rate of the canary, not only health checks",
            "Add a contract test for optional request fields",
            "Make rollback a one-click action in the deploy tool",
        ),
    ),
    "db_saturation": Fault(
        "db_saturation",
        15,
        "kill_batch_job",
        3,
        "start reconciliation batch job",
        "A reconciliation batch job ran a slow query on the primary database and held "
        "connections, exhausting the pool the payment path shares with it.",
        (
            "Run batch jobs on a read replica with their own connection pool",
            "Alert on connection-pool saturation at 80%",
            "Set statement timeouts for batch queries",
        ),
    ),
    "bank_outage": Fault(
        "bank_outage",
        1,
        "route_around_bank",
        2,
        None,
        "HDFC's payment switch stopped answering; requests waited for the full timeout. "
        "Traffic kept flowing to the bank because routing had no health-based failover.",
        (
            "Route by live per-bank success rate and fail over to another acquirer",
            "Add a circuit breaker per bank so waiting requests do not pile up",
            "Show a bank-down banner at checkout instead of a spinner",
        ),
    ),
    "cert_expiry": Fault(
        "cert_expiry",
        1,
        "renew_certificate",
        10,
        None,
        "The client TLS certificate for the ICICI connector expired; every handshake "
        "failed. Renewal was a manual calendar task that did not happen.",
        (
            "Automate certificate renewal (ACME or the bank's API) well before expiry",
            "Alert 30, 14 and 3 days before any certificate expires",
            "Keep an inventory of certificates with owners",
        ),
    ),
}
ACTIONS = (
    "rollback_deploy",
    "kill_batch_job",
    "route_around_bank",
    "renew_certificate",
    "restart_pods",
    "scale_out",
)
OUTAGE_BANK = {"bank_outage": "HDFC", "cert_expiry": "ICICI"}
RED_HERRING = "feature flag checkout_v2 enabled for 10% of merchants"


def classify(failing_share: float) -> str:
    """Severity from impact: the share of payments failing at the worst 5 minutes."""
    if isinstance(failing_share, bool) or not 0 <= failing_share <= 1:
        raise ValidationError(
            f"failing share must be in [0, 1], got {failing_share!r}", field="failing_share"
        )
    return next(sev for sev, floor in SEVERITIES if failing_share >= floor)
