"""Traffic drills through the live pipeline: a bank outage and a merchant's retry storm.

Scenario: for two minutes a merchant sends steady UPI traffic; halfway through, the
bank starts failing most calls, and for ten seconds the merchant's client panics and
quadruples its rate. Every request goes through the real :class:`Gateway` — validation,
the merchant's token bucket, the breaker for the bank's route, SQLite, the simulated
bank — and the drill records what happened to each: authorized, declined, failed at
the bank, refused fast by the open breaker (503), or rate-limited (429).

Design note: time is a ``ManualClock`` set to each request's arrival time, and the
bank reports latency without sleeping (``SimulatedBank(wait=False)``), so a two-minute
drill runs in a second or two and gives the same table on every run. Requests are
sequential: the drill is about which requests the defences let through, not about
concurrency (the load test in :mod:`razorlab.payments.loadtest` measures that).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.payments.gateway import Gateway, Response

__all__ = ["run_drill", "per_second", "OUTCOMES"]

DRILL_BODY = {"amount": 19_900, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}
OUTCOMES = ("authorized", "declined", "bank error", "breaker open (503)", "rate limited (429)")


def classify(response: Response) -> str:
    """One word for what happened to a create-payment request."""
    if response.status == 201:
        return "authorized" if response.body["status"] != "created" else "pending"
    reason = response.body["error"]["reason"]  # Razorpay's contract: the specific cause
    if response.status == 429:
        return "rate limited (429)"
    if response.status == 503:
        return "breaker open (503)"
    return "bank error" if reason == "bank_unavailable" else "declined"


def arrivals(seconds: int, rate_per_s: int, spike: tuple[int, int, int] | None) -> np.ndarray:
    """Evenly spaced arrival times; ``spike=(start, end, factor)`` multiplies the rate."""
    times = []
    for s in range(seconds):
        n = rate_per_s * (spike[2] if spike and spike[0] <= s < spike[1] else 1)
        times.append(s + np.arange(n) / n)
    return np.concatenate(times)


async def run_drill(
    gateway: Gateway,
    merchant_id: str,
    *,
    seconds: int = 120,
    rate_per_s: int = 10,
    outage: tuple[float, float] = (40.0, 80.0),
    outage_error_rate: float = 0.8,
    spike: tuple[int, int, int] | None = (95, 105, 4),
) -> pd.DataFrame:
    """Send the drill's traffic; one row per request (t, outcome, breaker state, tokens)."""
    clock = gateway.clock
    if not isinstance(clock, ManualClock) or gateway.bank.wait:
        raise ValidationError(
            "a drill needs a ManualClock gateway and SimulatedBank(wait=False)", field="gateway"
        )
    start = clock.now()
    normal = gateway.bank.profile.error_rate
    route = "upi:" + DRILL_BODY["vpa"].split("@")[1]
    rows = []
    for t in arrivals(seconds, rate_per_s, spike).tolist():
        clock.set(start + t)
        failing = outage[0] <= t < outage[1]
        gateway.bank.set_profile(error_rate=outage_error_rate if failing else normal)
        response = await gateway.create_payment(merchant_id, DRILL_BODY)
        limiter = gateway.limiter
        rows.append(
            {
                "t": round(t, 3),
                "outcome": classify(response),
                "breaker": gateway.breakers.get(route).state.value,
                "tokens": round(limiter.tokens(merchant_id), 2) if limiter else None,
            }
        )
    gateway.bank.set_profile(error_rate=normal)
    return pd.DataFrame(rows)


def per_second(drill: pd.DataFrame) -> pd.DataFrame:
    """Requests per second by outcome (columns in :data:`OUTCOMES` order)."""
    counts = pd.crosstab(drill["t"].astype(int).rename("second"), drill["outcome"])
    return counts.reindex(columns=[c for c in OUTCOMES if c in counts.columns], fill_value=0)
