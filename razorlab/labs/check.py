"""``razorlab.labs.check``: run a learner's class through a lab and return a verdict.

Scenario: in a notebook, ``lab.check(MyPayments, runs=200)``; on the command line,
``razorlab lab check payments my_payments.py``. Either way the learner gets one of:

* **passed** — every invariant held in every run;
* **failed** — an invariant broke: which rule, why it matters, the shrunk counterexample
  as a numbered timeline, and ``verdict.figure()`` to draw it;
* **bad input** — the class does not fit the interface, raised, hung in simulated time,
  spun without advancing time, or blocked for real; the verdict names the operation.

Design note. Runs are independent and deterministic: run ``i`` of ``check(..., seed=s)``
is generated from ``(s, i)``, so ``seed`` and the printed run number reproduce a failure
exactly. The first failing run is shrunk (:mod:`~razorlab.labs.shrink`) before it is
shown. Plotting is imported only inside :meth:`Verdict.figure`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from razorlab.labs.harness import LabError, RunResult, run_plan
from razorlab.labs.history import History
from razorlab.labs.invariants import PAYMENT_INVARIANTS, explain
from razorlab.labs.ledger import LEDGER_LAB
from razorlab.labs.ledger_invariants import LEDGER_INVARIANTS
from razorlab.labs.messaging import MESSAGING_LAB
from razorlab.labs.messaging_invariants import MESSAGING_INVARIANTS
from razorlab.labs.payments import PAYMENTS
from razorlab.labs.plan import Plan
from razorlab.labs.seats import SEATS_LAB
from razorlab.labs.seats_invariants import SEAT_INVARIANTS
from razorlab.labs.shrink import shrink as shrink_plan
from razorlab.labs.watchdog import WALL_CAP_S
from razorlab.rand import check_seed

__all__ = ["check", "Verdict", "LABS", "validate_interface", "judge"]

#: Lab name -> (harness spec, invariants in the order they are reported).
LABS: dict[str, tuple[Any, tuple[Callable[..., list[str]], ...]]] = {
    "payments": (PAYMENTS, PAYMENT_INVARIANTS),
    "seats": (SEATS_LAB, SEAT_INVARIANTS),
    "ledger": (LEDGER_LAB, LEDGER_INVARIANTS),
    "messaging": (MESSAGING_LAB, MESSAGING_INVARIANTS),
}


@dataclass
class Verdict:
    """The outcome of :func:`check`. ``status``: passed, failed or bad_input."""

    lab: str
    status: str
    runs: int
    seed: int
    invariant: str | None = None
    rule: str = ""
    problems: list[str] = field(default_factory=list)
    error: LabError | None = None
    failing_run: int | None = None
    plan: Plan | None = None
    history: History | None = None
    original_events: int = 0
    shrink_runs: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def exit_code(self) -> int:
        """0 passed, 1 an invariant broke, 2 bad input (the CLI's exit status)."""
        return {"passed": 0, "failed": 1}.get(self.status, 2)

    def timeline(self) -> str:
        return self.history.timeline() if self.history is not None else ""

    def figure(self) -> Any:
        """The counterexample as a plotly swim-lane figure (plotly is imported here)."""
        from razorlab.labs.plots import swimlanes

        if self.history is None:
            raise ValueError("nothing to draw: no run history in this verdict")
        title = f"{self.lab}: {self.invariant or self.status} (seed {self.seed}, run {self.failing_run})"
        return swimlanes(self.history, title=title)

    def __str__(self) -> str:
        head = f"{self.lab} lab, seed {self.seed}: "
        if self.passed:
            return head + f"PASSED — every invariant held in {self.runs} runs."
        if self.status == "failed":
            assert self.plan is not None and self.history is not None
            lines = [
                head + f"FAILED on run {self.failing_run}: {self.invariant}",
                f"  rule: {self.rule}",
                *(f"  broken: {p}" for p in self.problems[:3]),
                f"Shortest history found ({len(self.history)} steps, shrunk from "
                f"{self.original_events} in {self.shrink_runs} runs):",
                self.timeline(),
                "Plan that replays it:",
                "  " + self.plan.describe().replace("\n", "\n  "),
            ]
            return "\n".join(lines)
        assert self.error is not None
        lines = [head + f"BAD INPUT ({self.error.kind}) in {self.error.operation}",
                 f"  {self.error.message}"]  # fmt: skip
        if self.error.detail:
            lines.append("  " + self.error.detail.replace("\n", "\n  "))
        if self.failing_run is not None:
            lines.append(f"  (run {self.failing_run}; check(..., seed={self.seed}) replays it)")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def validate_interface(
    impl: object, methods: Sequence[str], constructor: Sequence[str] = ("store", "bank", "clock")
) -> str | None:
    """Why ``impl`` cannot be a lab service (``None`` if it fits); ``constructor``: its arguments."""
    if not inspect.isclass(impl):
        return f"expected a class, got {type(impl).__name__} {impl!r}"
    for name in methods:
        method = getattr(impl, name, None)
        if method is None:
            return f"{impl.__name__} has no method `{name}`"
        if not inspect.iscoroutinefunction(method):
            return f"{impl.__name__}.{name} must be an `async def` method"
    try:
        inspect.signature(impl).bind(*(object() for _ in constructor))
    except TypeError:
        count = {2: "two", 3: "three"}.get(len(constructor), str(len(constructor)))
        return (f"{impl.__name__}({', '.join(constructor)}) must accept exactly those "
                f"{count} arguments")  # fmt: skip
    except ValueError:  # no signature available: let the run find out
        pass
    return None


def judge(
    result: RunResult, invariants: Sequence[Callable[..., list[str]]]
) -> tuple[str, list[str]] | None:
    """The first invariant ``result`` breaks and its messages, or ``None``."""
    for invariant in invariants:
        problems = invariant(result.history, result.final)
        if problems:
            return invariant.__name__, problems
    return None


def check(
    impl: object,
    lab: str = "payments",
    runs: int = 200,
    seed: int = 0,
    *,
    shrink: bool = True,
    wall_cap_s: float = WALL_CAP_S,
) -> Verdict:
    """Run ``impl`` through ``runs`` seeded runs of ``lab``; see the module docstring.

    Callable from a notebook cell too: the harness drives its own simulated event loop, and
    where this thread already runs one (a Jupyter kernel does) it runs in a worker thread.
    """
    args = (impl, lab, runs, seed, shrink, wall_cap_s)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_a_loop = False  # run outside this handler: a learner's error must not chain to it
    else:
        in_a_loop = True
    if not in_a_loop:
        return _check(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_check, *args).result()


def _check(
    impl: object, lab: str, runs: int, seed: int, shrink: bool, wall_cap_s: float
) -> Verdict:
    check_seed(seed)
    if lab not in LABS:
        raise ValueError(f"unknown lab {lab!r}; choose from {sorted(LABS)}")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be a positive int, got {runs!r}")
    spec, invariants = LABS[lab]
    problem = validate_interface(
        impl, spec.methods, getattr(spec, "constructor", ("store", "bank", "clock"))
    )
    if problem:
        return Verdict(lab, "bad_input", 0, seed, error=LabError("interface", "the class", problem))
    for run in range(runs):
        result = run_plan(spec, impl, spec.generate(seed, run), wall_cap_s=wall_cap_s)  # type: ignore[arg-type]
        if result.error is not None:
            return Verdict(lab, "bad_input", run + 1, seed, error=result.error, failing_run=run,
                           plan=result.plan, history=result.history)  # fmt: skip
        broken = judge(result, invariants)
        if broken is None:
            continue
        name, problems = broken
        plan, history, shrink_runs = result.plan, result.history, 0
        if shrink:
            plan, history, problems, shrink_runs = _shrunk(
                spec, impl, invariants, name, result, wall_cap_s
            )
        rule = explain(next(i for i in invariants if i.__name__ == name))
        return Verdict(lab, "failed", run + 1, seed, name, rule, problems, None, run, plan,
                       history, len(result.history), shrink_runs)  # fmt: skip
    return Verdict(lab, "passed", runs, seed)


def _shrunk(
    spec: Any, impl: Any, invariants: Sequence[Callable[..., list[str]]], name: str,
    result: RunResult, wall_cap_s: float,
) -> tuple[Plan, History, list[str], int]:  # fmt: skip
    def attempt(plan: Plan) -> int | None:
        trial = run_plan(spec, impl, plan, wall_cap_s=wall_cap_s)
        if trial.error is not None:
            return None
        broken = judge(trial, invariants)
        return len(trial.history) if broken is not None and broken[0] == name else None

    found = shrink_plan(result.plan, attempt)
    final = run_plan(spec, impl, found.plan, wall_cap_s=wall_cap_s)
    broken = judge(final, invariants)
    if final.error is not None or broken is None or broken[0] != name:  # cannot happen: replays
        return result.plan, result.history, judge(result, invariants)[1], found.runs  # type: ignore[index]
    return found.plan, final.history, broken[1], found.runs
