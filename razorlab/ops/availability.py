"""Availability arithmetic: nines, downtime budgets, and how components compose.

Scenario: a payment gateway promises 99.99% availability. How much downtime is that
per year, per 30-day month, per day? If the request path crosses a load balancer, the
API service, a database and a bank connector in series, what availability can the
whole path promise — and how many redundant replicas buy it back?

Design note: availabilities are fractions in (0, 1]; "four nines" is converted
explicitly with :func:`from_nines`, because a bare ``4`` or ``99.99`` is ambiguous
and the wrong guess is off by orders of magnitude. Composition assumes independent
failures (Google SRE book, ch. 3 "Embracing Risk"): components in series multiply
availabilities; ``n`` redundant replicas are down only when all are, so
``1 - (1 - a)^n``. Correlated failures (a shared region, a bad config pushed
everywhere) break that assumption, which is why real designs spread replicas across
failure domains. A year is 365 days and a month 30 days (the usual SLO window).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from razorlab.errors import ValidationError
from razorlab.ops.units import Quantity, q

__all__ = ["downtime", "nines", "from_nines", "serial", "redundant", "PERIODS"]

PERIODS = ("year", "month", "week", "day")


def _check_fraction(a: object, field: str = "availability") -> float:
    if isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a):
        raise ValidationError(f"{field} must be a number, got {a!r}", field=field)
    if not 0 < a <= 1:
        hint = (
            f" (did you mean {a / 100:g}? pass a fraction, or use from_nines(n))"
            if 1 < a <= 100
            else ""
        )
        raise ValidationError(f"{field} must be a fraction in (0, 1], got {a!r}{hint}", field=field)
    return float(a)


def downtime(availability: float, period: str = "year") -> Quantity:
    """Allowed downtime in ``period`` at ``availability`` (a fraction such as 0.9999)."""
    a = _check_fraction(availability)
    if period not in PERIODS:
        raise ValidationError(f"period must be one of {PERIODS}, got {period!r}", field="period")
    return q(1, period) * (1 - a)


def nines(availability: float) -> float:
    """How many nines: 0.999 -> 3.0, 0.9995 -> 3.3. Perfect availability is infinite."""
    a = _check_fraction(availability)
    return math.inf if a == 1 else -math.log10(1 - a)


def from_nines(n: float) -> float:
    """Four nines -> 0.9999."""
    if isinstance(n, bool) or not isinstance(n, int | float) or not 0 < n < 16:
        raise ValidationError(f"nines must be a number in (0, 16), got {n!r}", field="nines")
    return 1 - 10.0**-n


def serial(*availabilities: float | Iterable[float]) -> float:
    """A request that needs every component: availabilities multiply."""
    flat: list[float] = []
    for a in availabilities:
        flat.extend(a if isinstance(a, Iterable) else [a])
    if not flat:
        raise ValidationError("serial() needs at least one availability", field="availability")
    return math.prod(_check_fraction(a) for a in flat)


def redundant(availability: float, n: int) -> float:
    """``n`` independent replicas, any one enough: down only when all ``n`` are down."""
    a = _check_fraction(availability)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError(f"replica count must be an int >= 1, got {n!r}", field="n")
    return 1 - (1 - a) ** n
