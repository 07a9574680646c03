"""SLOs, error budgets and multi-window, multi-burn-rate alerts.

Scenario: the payment API promises 99.9% of payment requests succeed over 30 days.
That leaves an *error budget* of 0.1% of requests. Paging on "error rate > 0.1%" is
too twitchy (a 2-minute blip pages at 3 a.m.) and paging on "budget spent" is too
late. The Google SRE workbook (ch. 5, "Alerting on SLOs") instead alerts on the
*burn rate* — how many times faster than sustainable the budget is being spent —
over two windows at once:

* page when the last 1 h **and** the last 5 min both burn at ≥ 14.4x
  (2% of a 30-day budget gone in an hour);
* page when the last 6 h **and** the last 30 min both burn at ≥ 6x
  (5% of the budget in six hours);
* ticket when the last 3 days **and** the last 6 h both burn at ≥ 1x
  (10% of the budget in three days).

Design note: the long window gives precision (a short blip cannot fill it), the short
window gives fast *reset* — once the fault is fixed the 5-minute burn drops below the
threshold within minutes, so the page clears instead of firing for another hour.
Windows are trailing and inclusive of the current minute.

Partial windows: when a stream is younger than a window (a service just started, or
the metrics store just came up), the window holds only ``m`` of its ``W`` minutes.
Dividing its errors by the requests it holds would treat one bad minute as a bad
hour — a one-minute 2% blip would read as a 2% hour (burn 20x) and page at start-up.
We divide instead by the requests the *full* window is expected to hold: the minutes
that exist at their observed rate, the missing ``W - m`` minutes at the same rate
with no errors (no evidence of burn is not burn). The burn rate of a partial window
is therefore the ratio seen so far times ``m / W``, so an alert fires only once the
budget actually spent reaches what a full window at the threshold would spend — the
SRE workbook's alert conditions are written for full windows, and this keeps their
meaning (``budget_fraction``). A hard outage still pages within minutes of start-up
(100% errors on a 99.9% SLO burn 1000x: one minute of a 60-minute window is 16.7x);
a steady 2% from the first minute pages after 44 minutes, as it would after a clean
hour. The alternative — not evaluating a window until it has filled — would keep a
service blind for the first hour (3 days for the slow-burn ticket).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError

__all__ = [
    "SLO",
    "BurnRateAlert",
    "WORKBOOK_ALERTS",
    "burn_rate",
    "evaluate_alerts",
    "alert_episodes",
]

MINUTES_PER_DAY = 1_440


@dataclass(frozen=True)
class SLO:
    """A success-ratio objective over a rolling window."""

    target: float = 0.999
    window_days: int = 30

    def __post_init__(self) -> None:
        if isinstance(self.target, bool) or not 0 < self.target < 1:
            raise ValidationError(
                f"SLO target must be a fraction in (0, 1), got {self.target!r}", field="target"
            )
        if self.window_days < 1:
            raise ValidationError("SLO window must be at least one day", field="window_days")

    @property
    def error_budget(self) -> float:
        """Share of requests allowed to fail: 1 - target."""
        return 1 - self.target

    def budget_spent(self, errors: float, expected_window_requests: float) -> float:
        """Fraction of the whole window's budget that ``errors`` failed requests use up."""
        return errors / (self.error_budget * expected_window_requests)


@dataclass(frozen=True)
class BurnRateAlert:
    """Fire when both trailing windows burn the budget at least ``burn_rate`` times too fast."""

    name: str
    long_minutes: int
    short_minutes: int
    burn_rate: float
    action: str = "page"

    def budget_fraction(self, slo: SLO) -> float:
        """Share of the SLO window's budget spent by the time the long window fires."""
        return self.burn_rate * self.long_minutes / (slo.window_days * MINUTES_PER_DAY)


#: The SRE workbook's recommended set for a 30-day, 99.9% SLO.
WORKBOOK_ALERTS = (
    BurnRateAlert("fast burn (1h/5m at 14.4x)", 60, 5, 14.4, "page"),
    BurnRateAlert("medium burn (6h/30m at 6x)", 360, 30, 6.0, "page"),
    BurnRateAlert("slow burn (3d/6h at 1x)", 3 * MINUTES_PER_DAY, 360, 1.0, "ticket"),
)


def _trailing_sum(values: np.ndarray, window: int) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    idx = np.arange(1, len(values) + 1)
    return cum[idx] - cum[np.maximum(idx - window, 0)]


def burn_rate(
    errors: Sequence[float], requests: Sequence[float], window_minutes: int, slo: SLO
) -> np.ndarray:
    """Per-minute burn rate over the trailing ``window_minutes`` (0 where no traffic).

    A window that is not full yet (the first ``window_minutes - 1`` minutes of the stream)
    is judged against the requests a full window would hold at the rate seen so far, so
    its burn is the error ratio so far times the share of the window that exists.
    """
    err = np.asarray(errors, dtype=float)
    req = np.asarray(requests, dtype=float)
    if err.shape != req.shape:
        raise ValidationError("errors and requests must have the same length", field="errors")
    if (err < 0).any() or (err > req).any():
        raise ValidationError("errors must be between 0 and requests each minute", field="errors")
    if isinstance(window_minutes, bool) or not isinstance(window_minutes, int | np.integer):
        raise ValidationError("window_minutes must be an int", field="window_minutes")
    if window_minutes < 1:
        raise ValidationError("window_minutes must be >= 1", field="window_minutes")
    e, r = _trailing_sum(err, window_minutes), _trailing_sum(req, window_minutes)
    ratio = np.divide(e, r, out=np.zeros_like(e), where=r > 0)
    filled = np.minimum(np.arange(1, len(err) + 1), window_minutes) / window_minutes
    return ratio * filled / slo.error_budget


def evaluate_alerts(
    errors: Sequence[float],
    requests: Sequence[float],
    slo: SLO | None = None,
    alerts: Sequence[BurnRateAlert] = WORKBOOK_ALERTS,
) -> pd.DataFrame:
    """Per minute: each alert's long/short burn rates and whether it fires."""
    slo = slo or SLO()
    out = {"minute": np.arange(len(errors))}
    for a in alerts:
        long = burn_rate(errors, requests, a.long_minutes, slo)
        short = burn_rate(errors, requests, a.short_minutes, slo)
        out[f"{a.name}: long"] = long
        out[f"{a.name}: short"] = short
        out[a.name] = (long >= a.burn_rate) & (short >= a.burn_rate)
    return pd.DataFrame(out)


def alert_episodes(
    frame: pd.DataFrame, alerts: Sequence[BurnRateAlert] = WORKBOOK_ALERTS
) -> pd.DataFrame:
    """Each firing episode: alert, first minute firing, first minute clear (NaN if still firing)."""
    rows = []
    for a in alerts:
        firing = frame[a.name].to_numpy()
        edges = np.flatnonzero(np.diff(np.concatenate([[False], firing, [False]]).astype(int)))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            cleared = float(end) if end < len(firing) else float("nan")
            rows.append((a.name, a.action, int(start), cleared))
    return pd.DataFrame(rows, columns=["alert", "action", "fired", "cleared"])
