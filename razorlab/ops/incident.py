"""A payment outage, minute by minute: signals, alerts, responders and the timeline.

Scenario: a payment API serves four banks. At some minute a fault starts — a bad
deploy, database connection-pool saturation, one bank's outage, or an expired TLS
certificate on a bank connector. Its metrics, logs and traces change in the ways
each fault really shows itself; burn-rate alerts page; a responder acknowledges,
narrows the cause down from the signals, acts, and the service recovers.

Design note: every minute is generated once, in order, from seeded streams, so the
signals do not depend on how the learner steps through time. Only the *correct*
mitigation ends the fault (after a realistic recovery lag); a wrong action is
recorded and changes nothing, which the post-mortem then shows. SLO errors are
failures the platform caused (5xx, timeouts, TLS); a bank *declining* a payment for
insufficient funds is a correct answer, not an error, and does not burn budget.
Time lives on a :class:`~razorlab.clock.ManualClock`; the engine never reads the
wall clock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.clock import ManualClock
from razorlab.errors import StateError, ValidationError
from razorlab.ops.faults import (
    ACTIONS,
    BANK_TIMEOUT_MS,
    BANKS,
    BASE_ERROR_RATE,
    BASE_P99_MS,
    BASE_RPM,
    DECLINE_RATE,
    ERROR_CODES,
    FAULTS,
    OUTAGE_BANK,
    RED_HERRING,
    SEVERITIES,
    Fault,
    classify,
)
from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, BurnRateAlert, evaluate_alerts
from razorlab.ops.troubleshoot import Troubleshooting
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "Fault",
    "FAULTS",
    "BANKS",
    "ERROR_CODES",
    "Incident",
    "classify",
    "SEVERITIES",
    "ACTIONS",
    "respond",
]

RESOLVED_WINDOW_MIN = 10  # resolved when this many minutes in a row are back to normal
STATUS_EVERY_MIN = 15  # minutes between stakeholder updates during an incident (our policy)


class Incident(Troubleshooting):
    """A running payment service with one injected fault; the learner is on call."""

    def __init__(
        self,
        fault: str,
        *,
        fault_minute: int = 90,
        slo: SLO | None = None,
        alerts: tuple[BurnRateAlert, ...] = WORKBOOK_ALERTS,
        seed: int = DEFAULT_SEED,
        clock: ManualClock | None = None,
    ):
        if fault not in FAULTS:
            raise ValidationError(
                f"unknown fault {fault!r}; choose from {sorted(FAULTS)}", field="fault"
            )
        if fault_minute < 30:
            raise ValidationError(
                "fault_minute must be >= 30 (a baseline first)", field="fault_minute"
            )
        self.fault = FAULTS[fault]
        self.fault_minute = fault_minute
        self.slo = slo or SLO()
        self.alerts = alerts
        self.clock = clock or ManualClock()
        self.start = self.clock.now()
        self._gen = rng(seed, f"incident/{fault}")
        self._rows: list[dict[str, object]] = []
        self._pool: list[float] = []
        self._events: list[tuple[int, str, str]] = []
        self.mitigated_at: int | None = None
        self._cells: pd.DataFrame | None = None  # caches, rebuilt when minutes are added
        self._metrics: pd.DataFrame | None = None
        self._alerts: pd.DataFrame | None = None

    # --- time ------------------------------------------------------------------------
    @property
    def minute(self) -> int:
        """Minutes simulated so far (the next minute to generate)."""
        return len(self._pool)

    def advance(self, minutes: int) -> None:
        """Let ``minutes`` of traffic happen."""
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ValidationError(f"minutes must be an int >= 0, got {minutes!r}", field="minutes")
        for _ in range(minutes):
            self._generate_minute()
            self.clock.advance(60)

    def advance_until_paged(self, max_minutes: int = 24 * 60) -> int:
        """Let traffic run until a paging alert fires after the fault; returns that minute."""
        while (detected := self.detected_at()) is None:
            if self.minute >= max_minutes:
                raise StateError(f"no page within {max_minutes} minutes; check the alert set")
            self.advance(1)
        return detected

    def advance_until_resolved(self, max_minutes: int = 24 * 60) -> int:
        """Let traffic run until the service has been back within SLO long enough."""
        while (resolved := self.resolved_at()) is None:
            if self.minute >= max_minutes:
                raise StateError(f"not resolved within {max_minutes} minutes")
            self.advance(1)
        return resolved

    def _intensity(self, t: int) -> float:
        """0 = healthy, 1 = full fault effect, at minute ``t``."""
        f = self.fault
        if t < self.fault_minute:
            return 0.0
        level = min(1.0, (t - self.fault_minute + 1) / f.onset_minutes)
        if self.mitigated_at is not None and t >= self.mitigated_at:
            level *= max(0.0, 1 - (t - self.mitigated_at + 1) / f.recovery_minutes)
        return level

    def _generate_minute(self) -> None:
        t, g, name = self.minute, self._gen, self.fault.name
        x = self._intensity(t)
        if t == self.fault_minute - 20:
            self._events.append((t, "change", RED_HERRING))
        if t == self.fault_minute and self.fault.change:
            self._events.append((t, "change", self.fault.change))
        pool = 0.45 + (0.55 * x if name == "db_saturation" else 0.0) + g.normal(0, 0.02)
        pool = float(np.clip(pool, 0, 1))
        self._pool.append(pool)
        db_fail = max(0.0, pool - 0.85) / 0.15 * 0.10
        for bank, share in BANKS.items():
            n = int(g.poisson(BASE_RPM * share))
            new = int(g.binomial(n, x)) if name == "bad_deploy" else 0
            for version, count in (("v41", n - new), ("v42", new)):
                if count == 0:
                    continue
                codes = dict.fromkeys(ERROR_CODES, 0)
                codes["internal_error"] = int(g.binomial(count, BASE_ERROR_RATE))
                if version == "v42":
                    codes["internal_error"] += int(g.binomial(count, 0.12))
                codes["db_timeout"] = int(g.binomial(count, db_fail))
                if OUTAGE_BANK.get(name) == bank:
                    code = "bank_timeout" if name == "bank_outage" else "tls_handshake"
                    codes[code] = int(g.binomial(count, (0.8 if name == "bank_outage" else 1) * x))
                errors = min(count, sum(codes.values()))
                p99 = BASE_P99_MS * (1 + 4 * max(0.0, pool - 0.7) / 0.3)
                if bank == OUTAGE_BANK.get(name) and x > 0.1:
                    p99 = BANK_TIMEOUT_MS if name == "bank_outage" else 40.0
                self._rows.append(
                    {
                        "minute": t,
                        "bank": bank,
                        "version": version,
                        "requests": count,
                        "errors": errors,
                        "declines": int(g.binomial(count - errors, DECLINE_RATE)),
                        "p99_ms": round(p99 * float(np.exp(g.normal(0, 0.05))), 1),
                        **codes,
                    }
                )

    # --- signals ---------------------------------------------------------------------
    def cells(self) -> pd.DataFrame:
        """Raw per-minute counts by bank and release version."""
        if self._cells is None or len(self._cells) != len(self._rows):
            cells = pd.DataFrame(self._rows, columns=_CELL_COLUMNS)
            self._cells = cells.astype(_CELL_TYPES) if cells.empty else cells
        return self._cells.copy()

    def metrics(self) -> pd.DataFrame:
        """What the dashboard shows, one row per minute."""
        if self._metrics is None or len(self._metrics) != self.minute:
            self._metrics = self._compute_metrics()
        return self._metrics.copy()

    def _compute_metrics(self) -> pd.DataFrame:
        c = self.cells()
        c["weighted_p99"] = c["p99_ms"] * c["requests"]
        m = c.groupby("minute")[
            ["requests", "errors", "declines", "weighted_p99", *ERROR_CODES]
        ].sum()
        m["error_rate"] = m["errors"] / m["requests"]
        m["p99_ms"] = (m.pop("weighted_p99") / m["requests"]).round(1)
        m["db_pool_utilisation"] = np.round(self._pool, 3)
        return m.reset_index()

    def alert_frame(self) -> pd.DataFrame:
        """Burn rates and firing flags of every alert, per minute so far."""
        if self._alerts is None or len(self._alerts) != self.minute:
            m = self.metrics()
            self._alerts = evaluate_alerts(m["errors"], m["requests"], self.slo, self.alerts)
        return self._alerts.copy()

    # --- response --------------------------------------------------------------------
    def acknowledge(self, who: str = "on-call") -> None:
        self._log("acknowledged", f"{who} acknowledged the page")

    def act(self, action: str) -> bool:
        """Take a mitigation action now; returns whether it addresses the cause."""
        if action not in ACTIONS:
            raise ValidationError(
                f"unknown action {action!r}; choose from {ACTIONS}", field="action"
            )
        if self.first("acknowledged") is None:
            raise StateError("acknowledge the page before acting (so others know who leads)")
        right = action == self.fault.mitigation and self.mitigated_at is None
        if right:
            self.mitigated_at = self.minute
        self._log("mitigation" if right else "action", action + ("" if right else " (no effect)"))
        return right

    def _log(self, kind: str, text: str) -> None:
        self._events.append((self.minute, kind, text))

    def first(self, kind: str) -> int | None:
        return next((t for t, k, _ in self._events if k == kind), None)

    # --- derived timeline ------------------------------------------------------------
    def detected_at(self) -> int | None:
        """When the first page arrived: at the end of the first minute whose data fired it.

        Minutes label what happened *during* them, events (ack, actions) the moment they
        happen; a page can only fire once its minute is complete, so it is logged at the
        start of the next one, on the same clock as the acknowledgement that answers it.
        """
        if self.minute <= self.fault_minute:
            return None
        frame = self.alert_frame()
        pages = [a.name for a in self.alerts if a.action == "page"]
        fired = frame[frame[pages].any(axis=1) & (frame["minute"] >= self.fault_minute)]
        return None if fired.empty else int(fired["minute"].iloc[0]) + 1

    def resolved_at(self) -> int | None:
        if self.mitigated_at is None:
            return None
        m = self.metrics()
        # within SLO; or, if the SLO is stricter than the service's normal, back to normal
        normal = max(self.slo.error_budget, 2 * BASE_ERROR_RATE)
        ok = (m["error_rate"] <= normal) & (m["minute"] >= self.mitigated_at)
        run = ok.astype(int).groupby((~ok).cumsum()).cumsum()
        done = m[run >= RESOLVED_WINDOW_MIN]
        return None if done.empty else int(done["minute"].iloc[0]) - RESOLVED_WINDOW_MIN + 1

    def timeline(self) -> pd.DataFrame:
        """Every event with its minute and clock time; detection and resolution derived."""
        # same-minute order after the stable sort: impact, page, what people did, resolved
        rows = [(self.fault_minute, "impact starts", self.fault.name)]
        if (detected := self.detected_at()) is not None:
            rows.append((detected, "detected", "burn-rate page"))
        rows += [(t, k, text) for t, k, text in self._events]
        if (resolved := self.resolved_at()) is not None:
            rows.append((resolved, "resolved", f"normal for {RESOLVED_WINDOW_MIN} min"))
        df = pd.DataFrame(rows, columns=["minute", "event", "detail"]).sort_values(
            "minute", kind="stable", ignore_index=True
        )
        df.insert(1, "time", [self._hhmm(t) for t in df["minute"]])
        return df

    def status_updates(self, every_minutes: int = STATUS_EVERY_MIN) -> pd.DataFrame:
        """The updates the communications lead owes stakeholders, from the page to the end.

        One at the page, then one every ``every_minutes``, one when the mitigation lands
        and one when resolution is declared (after the normal stretch that defines it). Each states where the response is (``investigating`` until
        the right action, ``monitoring`` while the service recovers, ``resolved``) and the
        share of payments failing in the last complete minute. Communication runs on its
        own clock, beside the technical work: a step that fails (a wrong action, a tool
        that errors) changes what an update says, never whether it goes out.
        """
        if isinstance(every_minutes, bool) or not isinstance(every_minutes, int):
            raise ValidationError("every_minutes must be an int", field="every_minutes")
        if every_minutes < 1:
            raise ValidationError("every_minutes must be >= 1", field="every_minutes")
        detected = self.detected_at()
        if detected is None:
            return pd.DataFrame(columns=["minute", "time", "status", "failing", "update"])
        resolved = self.resolved_at()
        # "resolved" can be said only once the normal stretch that defines it has been seen
        declared = None if resolved is None else resolved + RESOLVED_WINDOW_MIN
        end = declared if declared is not None else self.minute
        due = set(range(detected, end + 1, every_minutes)) | {end}
        if self.mitigated_at is not None:
            due.add(self.mitigated_at)
        m = self.metrics().set_index("minute")["error_rate"]
        rows = []
        for t in sorted(due):
            if declared is not None and t >= declared:
                status = "resolved"
            elif self.mitigated_at is not None and t >= self.mitigated_at:
                status = "monitoring"
            else:
                status = "investigating"
            failing = float(m.get(t - 1, float("nan")))
            text = {
                "investigating": "payments are failing; we are working on it",
                "monitoring": "a fix is in place; payments are recovering",
                "resolved": "payments are back to normal; a post-mortem will follow",
            }[status]
            rows.append((t, self._hhmm(t), status, round(failing, 4), text))
        return pd.DataFrame(rows, columns=["minute", "time", "status", "failing", "update"])

    def _hhmm(self, minute: int) -> str:
        return pd.Timestamp(self.start + 60 * minute, unit="s").strftime("%H:%M")

    def summary(self) -> dict[str, object]:
        """MTTD and MTTR (minutes from impact start), MTTA (from the page), severity, impact.

        MTTA is the usual alert-to-acknowledgement time: how long a page waited for a
        human, separate from how long the alerts took to notice (MTTD).
        """
        m = self.metrics()
        impact = m[m["minute"] >= self.fault_minute]
        excess = (impact["errors"] - impact["requests"] * BASE_ERROR_RATE).clip(lower=0).sum()
        peak = (m["errors"].rolling(5).sum() / m["requests"].rolling(5).sum()).max()
        window_requests = BASE_RPM * self.slo.window_days * 1_440
        detected, acked = self.detected_at(), self.first("acknowledged")
        resolved = self.resolved_at()

        def since(t: int | None) -> int | None:
            return None if t is None else t - self.fault_minute

        return {
            "fault": self.fault.name,
            "severity": classify(float(peak)),
            "peak_failing_share": round(float(peak), 4),
            "failed_payments": int(round(excess)),
            "budget_spent": round(
                self.slo.budget_spent(float(impact["errors"].sum()), window_requests), 3
            ),
            "mttd_min": since(detected),
            "mtta_min": None if detected is None or acked is None else acked - detected,
            "mttr_min": since(resolved),
        }


_CELL_COLUMNS = [
    "minute",
    "bank",
    "version",
    "requests",
    "errors",
    "declines",
    "p99_ms",
    *ERROR_CODES,
]
_CELL_TYPES = {c: ("float64" if c == "p99_ms" else "int64") for c in _CELL_COLUMNS[3:]}


def respond(
    incident: Incident,
    *,
    ack_minutes: int = 5,
    diagnosis_minutes: int = 10,
    actions: tuple[str, ...] | None = None,
    max_minutes: int = 24 * 60,
) -> Incident:
    """Play a responder: wait for the page, ack, diagnose, act, wait for recovery.

    ``actions`` are tried in order, ``diagnosis_minutes`` apart (default: the right
    one straight away), so a learner can measure what a wrong first guess costs.
    """
    inc = incident
    plan = actions if actions is not None else (inc.fault.mitigation,)
    inc.advance_until_paged(max_minutes)
    inc.advance(ack_minutes)
    inc.acknowledge()
    for action in plan:
        inc.advance(diagnosis_minutes)
        if inc.act(action):
            break
    inc.advance_until_resolved(max_minutes)
    return inc
