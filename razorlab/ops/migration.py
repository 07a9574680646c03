"""A strangler-fig migration from a payment monolith to services, simulated minute by minute.

Scenario: a technical lead moves a monolith's endpoints (orders, payments, refunds,
ledger…) into services without a big-bang cut-over. Endpoints are extracted in
*phases* that respect the dependency graph (a service is extracted only after the
ones it calls); each phase runs pre-checks, mirrors a sample of live traffic to the
new service and diffs the responses (shadow traffic: users never see the new
answers), then ramps real traffic 1% → 5% → 25% → 100%, holding each step while
SLO guards watch the new path. A breached guard rolls traffic back to the
monolith automatically and stops the run: later phases depend on this one.

Design note: the router's split is a single percentage per phase, so the monolith
and the new service always carry complementary shares (they sum to 100% in every
timeline row — there is no state in which some traffic is routed nowhere). Guards
are evaluated every simulated minute on the new-path requests of the current ramp
step so far, and only once at least ``min_requests`` have run (two errors in the
150 requests of one quiet minute say nothing statistically; a 1% step of a quiet
endpoint may never be judged at all).

Overload is modelled as load shedding: a new service can hide a capacity cliff
(``capacity_pct``, the share of live traffic it can serve). Offered ``pct``% of the
traffic, it serves ``capacity_pct``% and the requests beyond that are rejected or time
out, so the error rate is ``1 - capacity_pct / pct`` on top of the service's own, and
its p99 grows with the excess (queues fill) up to the client timeout. A service with
capacity 20% is fine at 5%, fails a fifth of its requests at 25% and four fifths at
100% — the reason ramps exist, and why their blast radius grows with the step.

Shadow traffic must be made safe before it is switched on. A mirrored ``payments``
request that really ran would charge the customer twice and post twice to the ledger.
So the shadow copy runs against stubbed side effects — the bank's sandbox, a shadow
ledger/database that nothing reads — and its response is compared with the
monolith's and thrown away, never returned. Writes are compared by their intended
effects (a *dark write*: the entries the service would post, diffed with the
monolith's), and idempotency keys are namespaced (``shadow:<key>``) so a shadow
request can never replay or collide with a live one. The simulator's shadow step
stands for that arrangement: it only counts differing responses. The flip side is
that a shadow copy cannot see how two *live* new services interact — its partners are
stubs — which is what ``NewService.fails_with`` models.

Rollback scope: by default a breach rolls back the failing phase only (the seed's
plan). ``rollback_scope="dependencies"`` also moves every earlier, already migrated
phase that the failing phase depends on back to the monolith, newest first, one
router change a minute — the way back to a state known good as a whole when a failure
may come from the interaction of phases. With level-by-level phases every earlier
phase holds something the next one calls, so that is the whole migration so far; the
phases are then re-ramped one at a time to find the pair at fault.
All randomness comes from ``razorlab.rand`` with a seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "Endpoint",
    "NewService",
    "Guards",
    "Phase",
    "MigrationRun",
    "MigrationSimulator",
    "plan_phases",
    "DependencyCycle",
    "DEFAULT_RAMP",
    "demo_monolith",
]

DEFAULT_RAMP = (1.0, 5.0, 25.0, 100.0)  # percent of live traffic on the new path
OVERLOAD_LATENCY_FACTOR = 4.0  # p99 grows by this much per 100% of load beyond capacity
REQUEST_TIMEOUT_MS = 2_000.0  # callers give up here, so an overloaded p99 stops growing
ROLLBACK_SCOPES = ("phase", "dependencies")


class DependencyCycle(ValidationError):
    """The endpoints' dependency graph has a cycle, so no extraction order exists."""

    code = "DEPENDENCY_CYCLE"


@dataclass(frozen=True)
class Endpoint:
    """A monolith endpoint: its load, its current health, and the endpoints it calls."""

    name: str
    depends_on: tuple[str, ...] = ()
    rpm: int = 6_000  # requests per minute
    error_rate: float = 0.001
    p99_ms: float = 120.0


@dataclass(frozen=True)
class NewService:
    """How the extracted service behaves (unknown to the lead until the ramp reveals it)."""

    error_rate: float = 0.001
    p99_ms: float = 90.0
    diff_rate: float = 0.0  # share of shadowed responses that differ from the monolith's
    capacity_pct: float = 100.0  # share of live traffic it can serve; the excess is shed
    #: endpoints whose *new* services this one misbehaves with once both are live (e.g. the
    #: new ledger rejects the idempotency keys the new payments service sends). Invisible
    #: in shadow, whose side effects are stubbed, and in the partner's own ramp.
    fails_with: tuple[str, ...] = ()
    interaction_error_rate: float = 0.05  # extra error rate while such a partner is live

    def overload(self, pct: float) -> tuple[float, float]:
        """(share of requests shed, p99 multiplier) when offered ``pct``% of the traffic.

        A load-shedding model: the service serves ``capacity_pct``% and rejects or times
        out the rest, so the shed share is ``1 - capacity_pct / pct`` beyond capacity; the
        p99 of what it serves grows with the excess load (queues fill).
        """
        excess = max(0.0, pct / self.capacity_pct - 1.0)  # load beyond capacity, in capacities
        return excess / (1.0 + excess), 1.0 + OVERLOAD_LATENCY_FACTOR * excess


@dataclass(frozen=True)
class Guards:
    """SLO guards on the new path and the shadow-diff gate."""

    max_error_rate: float = 0.01
    max_p99_ms: float = 250.0
    min_requests: int = 500  # judge a ramp step only once this many requests have run on it
    max_diff_rate: float = 0.001


@dataclass(frozen=True)
class Phase:
    index: int
    endpoints: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"phase {self.index}: " + ", ".join(self.endpoints)


def plan_phases(endpoints: Iterable[Endpoint]) -> list[Phase]:
    """Group endpoints into phases in dependency order (Kahn's algorithm, level by level).

    Every endpoint in a phase depends only on endpoints of earlier phases, so a phase's
    services never call back into a part of the monolith still being extracted.
    """
    eps = list(endpoints)
    names = [e.name for e in eps]
    if not eps:
        raise ValidationError("a migration needs at least one endpoint", field="endpoints")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValidationError(f"duplicate endpoint names: {dupes}", field="endpoints")
    deps = {e.name: set(e.depends_on) for e in eps}
    for e in eps:
        unknown = deps[e.name] - set(names)
        if unknown:
            raise ValidationError(
                f"{e.name!r} depends on unknown endpoints {sorted(unknown)}", field="depends_on"
            )
    phases: list[Phase] = []
    done: set[str] = set()
    while len(done) < len(eps):
        ready = tuple(n for n in names if n not in done and deps[n] <= done)
        if not ready:
            raise DependencyCycle(
                "dependency cycle: " + " -> ".join(_find_cycle(deps, set(names) - done)),
                field="depends_on",
            )
        phases.append(Phase(len(phases) + 1, ready))
        done |= set(ready)
    return phases


def _find_cycle(deps: dict[str, set[str]], remaining: set[str]) -> list[str]:
    """Walk dependencies among ``remaining`` until a node repeats: that loop is a cycle."""
    path: list[str] = []
    node = sorted(remaining)[0]
    while node not in path:
        path.append(node)
        node = sorted(deps[node] & remaining)[0]
    return path[path.index(node) :] + [node]


@dataclass
class MigrationRun:
    """What happened: per-minute timeline, phase outcomes, pre-check results."""

    timeline: pd.DataFrame
    phases: pd.DataFrame
    prechecks: pd.DataFrame
    events: list[str] = field(default_factory=list)
    plan: list[Phase] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return bool((self.phases["outcome"] == "completed").all())

    @property
    def rollbacks(self) -> pd.DataFrame:
        return self.timeline[self.timeline["event"] == "rollback"]

    def on_new_services(self) -> list[str]:
        """Endpoints served by their new services when the run ended (rolled-back ones are not)."""
        done = set(self.phases.loc[self.phases["outcome"] == "completed", "phase"])
        return [n for p in self.plan if p.index in done for n in p.endpoints]

    def failed_requests(self, phase: int | None = None) -> int:
        """Requests the new services failed (in one phase, or all): the blast radius."""
        rows = self.timeline if phase is None else self.timeline[self.timeline["phase"] == phase]
        return int(rows["new_errors"].sum())


class MigrationSimulator:
    """Run a migration plan against simulated traffic with automatic rollback."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        services: dict[str, NewService] | None = None,
        *,
        guards: Guards | None = None,
        ramp: Sequence[float] = DEFAULT_RAMP,
        step_minutes: int = 10,
        shadow_minutes: int = 10,
        shadow_pct: float = 10.0,
        rollback_scope: str = "phase",
        seed: int = DEFAULT_SEED,
    ):
        self.endpoints = {e.name: e for e in endpoints}
        self.plan = plan_phases(endpoints)
        services = dict(services or {})
        unknown = set(services) - set(self.endpoints)
        if unknown:
            raise ValidationError(
                f"services for unknown endpoints {sorted(unknown)}", field="services"
            )
        self.services = {n: services.get(n, NewService()) for n in self.endpoints}
        for n, svc in self.services.items():
            if svc.capacity_pct <= 0:
                raise ValidationError(f"{n}: capacity_pct must be > 0", field="capacity_pct")
            ghosts = set(svc.fails_with) - set(self.endpoints)
            if ghosts:
                raise ValidationError(
                    f"{n} fails_with unknown endpoints {sorted(ghosts)}", field="fails_with"
                )
        if rollback_scope not in ROLLBACK_SCOPES:
            raise ValidationError(
                f"rollback_scope must be one of {ROLLBACK_SCOPES}, got {rollback_scope!r}",
                field="rollback_scope",
            )
        self.rollback_scope = rollback_scope
        ramp = tuple(float(p) for p in ramp)
        if (
            not ramp
            or ramp[-1] != 100.0
            or any(b <= a for a, b in zip(ramp, ramp[1:], strict=False))
        ):
            raise ValidationError(
                f"ramp must rise strictly and end at 100%, got {ramp}", field="ramp"
            )
        if ramp[0] <= 0:
            raise ValidationError("ramp steps must be > 0%", field="ramp")
        if step_minutes < 1 or shadow_minutes < 0:
            raise ValidationError("step_minutes must be >= 1 and shadow_minutes >= 0")
        if not 0 < shadow_pct <= 100:
            raise ValidationError(f"shadow_pct must be in (0, 100], got {shadow_pct}")
        self.guards = guards or Guards()
        self.ramp = ramp
        self.step_minutes = step_minutes
        self.shadow_minutes = shadow_minutes
        self.shadow_pct = shadow_pct
        self.seed = seed

    # --- one phase -------------------------------------------------------------------
    def _prechecks(self, phase: Phase, migrated: set[str]) -> list[tuple[str, bool, str]]:
        checks = []
        missing = sorted(
            {d for n in phase.endpoints for d in self.endpoints[n].depends_on} - migrated
        )
        checks.append(
            ("dependencies extracted", not missing, f"waiting on {missing}" if missing else "ok")
        )
        for n in phase.endpoints:
            healthy = self.endpoints[n].error_rate <= self.guards.max_error_rate
            detail = f"monolith error rate {self.endpoints[n].error_rate:.2%}"
            checks.append((f"{n}: baseline within SLO", healthy, detail))
        return checks

    def _minute(
        self, gen: np.random.Generator, phase: Phase, pct: float, live: set[str]
    ) -> dict[str, float]:
        """One minute of live traffic split ``pct``% new / rest monolith.

        ``live`` holds the endpoints already served by new services (earlier phases).
        """
        total = new_req = new_err = old_err = 0
        p99 = 0.0
        for n in phase.endpoints:
            ep, svc = self.endpoints[n], self.services[n]
            shed, slowdown = svc.overload(pct)
            own = svc.error_rate + (svc.interaction_error_rate if live & set(svc.fails_with) else 0)
            err = min(1.0, own + (1.0 - min(own, 1.0)) * shed)
            lat = min(REQUEST_TIMEOUT_MS, svc.p99_ms * slowdown)
            to_new = int(gen.binomial(ep.rpm, pct / 100))
            total += ep.rpm
            new_req += to_new
            new_err += int(gen.binomial(to_new, err))
            old_err += int(gen.binomial(ep.rpm - to_new, ep.error_rate))
            if to_new:
                p99 = max(p99, lat * float(np.exp(gen.normal(0, 0.05))))
        return {
            "requests": total,
            "new_requests": new_req,
            "new_errors": new_err,
            "monolith_errors": old_err,
            "new_error_rate": new_err / new_req if new_req else 0.0,
            "new_p99_ms": round(p99, 1),
        }

    def _breach(self, row: dict[str, float]) -> str | None:
        g = self.guards
        if row["step_requests"] < g.min_requests:
            return None
        if row["step_error_rate"] > g.max_error_rate:
            return f"error rate {row['step_error_rate']:.2%} > {g.max_error_rate:.2%}"
        if row["new_p99_ms"] > g.max_p99_ms:
            return f"p99 {row['new_p99_ms']:.0f} ms > {g.max_p99_ms:.0f} ms"
        return None

    # --- the whole plan ------------------------------------------------------------
    def run(self) -> MigrationRun:
        """Execute every phase in order; stop at the first phase that fails."""
        gen = rng(self.seed, "migration")
        rows: list[dict[str, object]] = []
        outcomes, prechecks, events = [], [], []
        migrated: set[str] = set()
        for phase in self.plan:
            checks = self._prechecks(phase, migrated)
            prechecks += [(phase.index, c, ok, d) for c, ok, d in checks]
            if not all(ok for _, ok, _ in checks):
                outcome, reason = "blocked", "pre-checks failed"
            else:
                outcome, reason = self._run_phase(gen, phase, rows, migrated)
            outcomes.append((phase.index, phase.name, outcome, reason))
            events.append(f"{phase.name}: {outcome}" + (f" ({reason})" if reason else ""))
            if outcome != "completed":
                if outcome == "rolled_back" and self.rollback_scope == "dependencies":
                    self._roll_back_dependencies(phase, outcomes, rows, events)
                break
            migrated |= set(phase.endpoints)
        for phase in self.plan[len(outcomes) :]:
            outcomes.append((phase.index, phase.name, "not started", ""))
        timeline = pd.DataFrame(rows, columns=_TIMELINE_COLUMNS)
        timeline.insert(0, "minute", range(len(timeline)))
        return MigrationRun(
            timeline=timeline,
            phases=pd.DataFrame(outcomes, columns=["phase", "name", "outcome", "reason"]),
            prechecks=pd.DataFrame(prechecks, columns=["phase", "check", "passed", "detail"]),
            events=events,
            plan=list(self.plan),
        )

    def _roll_back_dependencies(
        self,
        failed: Phase,
        outcomes: list[tuple[int, str, str, str]],
        rows: list[dict[str, object]],
        events: list[str],
    ) -> None:
        """Move the completed phases ``failed`` depends on back to the monolith, newest first.

        One router change per simulated minute, so each step's effect can be watched.
        """
        needed = set().union(*(self._depends_on(n) for n in failed.endpoints))
        for i in range(len(outcomes) - 2, -1, -1):
            index, name, outcome, _ = outcomes[i]
            phase = self.plan[index - 1]
            if outcome == "completed" and needed & set(phase.endpoints):
                outcomes[i] = (index, name, "rolled_back", f"with phase {failed.index}")
                rows.append(
                    {
                        "phase": index,
                        "step": "rollback",
                        "pct_new": 0.0,
                        "pct_monolith": 100.0,
                        "event": "rollback",
                    }
                )
                events.append(f"{name}: rolled back with phase {failed.index}")

    def _depends_on(self, name: str) -> set[str]:
        """Every endpoint ``name`` calls, directly or transitively."""
        found: set[str] = set()
        frontier = set(self.endpoints[name].depends_on)
        while frontier:
            found |= frontier
            frontier = {d for f in frontier for d in self.endpoints[f].depends_on} - found
        return found

    def _run_phase(
        self,
        gen: np.random.Generator,
        phase: Phase,
        rows: list[dict[str, object]],
        live: set[str],
    ) -> tuple[str, str]:
        def record(step: str, pct: float, event: str, **obs: object) -> None:
            rows.append(
                {
                    "phase": phase.index,
                    "step": step,
                    "pct_new": pct,
                    "pct_monolith": 100.0 - pct,
                    "event": event,
                    **obs,
                }
            )

        # shadow: mirror a sample to the new service and diff; users still get the monolith
        shadow_total = shadow_diffs = 0
        for _ in range(self.shadow_minutes):
            for n in phase.endpoints:
                mirrored = int(gen.binomial(self.endpoints[n].rpm, self.shadow_pct / 100))
                shadow_total += mirrored
                shadow_diffs += int(gen.binomial(mirrored, self.services[n].diff_rate))
            record("shadow", 0.0, "shadow", diff_rate=shadow_diffs / max(shadow_total, 1))
        diff_rate = shadow_diffs / max(shadow_total, 1)
        if diff_rate > self.guards.max_diff_rate:
            return "shadow_failed", f"{diff_rate:.2%} of shadowed responses differ"
        for pct in self.ramp:
            step_requests = step_errors = 0
            for i in range(self.step_minutes):
                obs = self._minute(gen, phase, pct, live)
                step_requests += obs["new_requests"]
                step_errors += obs["new_errors"]
                obs["step_requests"] = step_requests
                obs["step_error_rate"] = step_errors / max(step_requests, 1)
                breach = self._breach(obs)
                record(
                    f"{pct:g}%", pct, "breach" if breach else ("ramp" if i == 0 else "hold"), **obs
                )
                if breach:
                    record("rollback", 0.0, "rollback")
                    return "rolled_back", f"at {pct:g}%: {breach}"
        return "completed", ""

    def dependents(self, name: str) -> set[str]:
        """Every endpoint that calls ``name`` directly or transitively."""
        return dependents(self.endpoints.values(), name)


def dependents(endpoints: Iterable[Endpoint], name: str) -> set[str]:
    """Every endpoint that calls ``name`` directly or transitively."""
    eps = list(endpoints)
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {e.name for e in eps if set(e.depends_on) & frontier} - found
        found |= frontier
    return found


_TIMELINE_COLUMNS = [
    "phase",
    "step",
    "pct_new",
    "pct_monolith",
    "event",
    "diff_rate",
    "requests",
    "new_requests",
    "new_errors",
    "monolith_errors",
    "new_error_rate",
    "new_p99_ms",
    "step_requests",
    "step_error_rate",
]


def demo_monolith() -> list[Endpoint]:
    """A small payment monolith: who calls whom, with per-minute load."""
    return [
        Endpoint("merchants", rpm=1_000),
        Endpoint("ledger", rpm=4_000, p99_ms=80),
        Endpoint("orders", ("merchants",), rpm=6_000),
        Endpoint("payments", ("orders", "ledger"), rpm=9_000, p99_ms=180),
        Endpoint("refunds", ("payments", "ledger"), rpm=600),
        Endpoint("settlements", ("ledger", "merchants"), rpm=200, p99_ms=400),
    ]
