"""Self-checks of the ops exercise sets: right answers pass, wrong ones get a hint, not the answer."""

import math

import pytest

from razorlab.grading import Checker
from razorlab.grading.checks import incident_response as ir
from razorlab.grading.checks import interview_toolkit as kit
from razorlab.grading.checks import migration as mig
from razorlab.ops import Endpoint, StarStory, plan_phases
from razorlab.ops.incident import Incident, respond
from razorlab.ops.migration import MigrationSimulator, demo_monolith
from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, alert_episodes, evaluate_alerts


def _no_leak(message: str, *values: float) -> None:
    for v in values:
        texts = {str(v)} if isinstance(v, int) else {f"{v:.2f}", f"{v:.3g}"}
        for text in texts:
            assert text not in message, f"hint leaks the answer {text!r}: {message}"


# ---- right answers, from the engines the learner is meant to use ------------------------
def _phase_lists(endpoints) -> list[list[str]]:
    return [list(p.endpoints) for p in plan_phases(endpoints)]


def _breach_minute() -> int:
    run = MigrationSimulator(demo_monolith(), mig.Q2_SERVICES, seed=mig.Q2_SEED).run()
    return int(run.timeline[run.timeline["event"] == "breach"]["minute"].iloc[0])


def _blast_ratio() -> float:
    def failed(ramp) -> int:
        sim = MigrationSimulator(demo_monolith(), mig.Q3_SERVICES, ramp=ramp, seed=mig.Q3_SEED)
        return sim.run().failed_requests()

    return failed(mig.Q3_RAMPS["hasty"]) / failed(mig.Q3_RAMPS["cautious"])


def _hours_to_exhaust(error_ratio: float, slo_target: float) -> float:
    return 30 * 24 * (1 - slo_target) / error_ratio


def _fast_burn_episode() -> tuple[int, int]:
    episodes = alert_episodes(evaluate_alerts(*ir.q2_stream(), SLO(0.999)))
    fast = episodes[episodes["alert"] == WORKBOOK_ALERTS[0].name].iloc[0]
    return int(fast["fired"]), int(fast["cleared"])


def _extra_mttr() -> int:
    prompt, slow = (
        respond(Incident("bad_deploy", seed=ir.Q4_SEED), ack_minutes=a).summary()["mttr_min"]
        for a in ir.Q4_ACKS
    )
    return slow - prompt


def test_the_modules_export_no_answer_with_an_answers_signature():
    for name in ("phase_lists", "breach_minute", "failed_new_requests", "blast_ratio"):
        assert not hasattr(mig, name), name
    for name in ("hours_to_exhaust", "fast_burn_episode", "extra_mttr", "_mystery_fault"):
        assert not hasattr(ir, name), name


# ---- migration -------------------------------------------------------------------------
def test_migration_q1_accepts_a_level_order_and_rejects_a_valid_but_serial_one():
    check = Checker("migration")
    assert check("q1", _phase_lists).passed
    serial = lambda eps: [[n] for p in _phase_lists(eps) for n in p]  # noqa: E731
    feedback = check("q1", serial)
    assert not feedback.passed and "level by level" in feedback.message
    assert not check("q1", [["kyc"]]).passed


def test_migration_q2_q3_q4():
    check = Checker("migration")
    minute = _breach_minute()
    assert check("q2", minute).passed
    late = check("q2", minute + 1)
    assert not late.passed and "too late" in late.message
    _no_leak(late.message, minute)
    assert check("q3", _blast_ratio()).passed
    wrong = check("q3", _blast_ratio() * 2)
    assert not wrong.passed
    _no_leak(wrong.message, _blast_ratio())
    fixed = [
        Endpoint(e.name, tuple(d for d in e.depends_on if (e.name, d) != ("orders", "payments")))
        for e in mig.Q4_ENDPOINTS
    ]
    plan_phases(fixed)
    assert check("q4", fixed).passed
    assert "still a cycle" in check("q4", list(mig.Q4_ENDPOINTS)).message
    too_much = [Endpoint(e.name) for e in mig.Q4_ENDPOINTS]
    assert "exactly one" in check("q4", too_much).message


# ---- incident response -----------------------------------------------------------------
def test_incident_q1_q2():
    check = Checker("incident_response")
    assert check("q1", _hours_to_exhaust).passed
    half = check("q1", lambda r, t: _hours_to_exhaust(r, t) / 2)
    assert not half.passed and "too low" in half.message
    _no_leak(half.message, 144.0)
    fired, cleared = _fast_burn_episode()
    assert check("q2", (fired, cleared)).passed
    assert "clearing" in check("q2", (fired, cleared + 1)).message
    assert "firing" in check("q2", (fired - 1, cleared)).message


def test_incident_q3_q4():
    check = Checker("incident_response")
    right = ir.mystery_incident().fault.mitigation
    assert check("q3", right).passed
    other = next(a for a in ("kill_batch_job", "route_around_bank") if a != right)
    assert not check("q3", other).passed
    assert not check("q3", "panic").passed
    extra = _extra_mttr()
    assert extra > 0
    assert check("q4", extra).passed
    miss = check("q4", extra + 3)
    assert not miss.passed
    _no_leak(miss.message, extra)


# ---- interview toolkit -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("qid", "right", "wrong"),
    [
        ("q1", lambda a, p: a * p * 86_400 / 2**40, lambda a, p: a * p * 86_400 / 1e12),  # TiB
        (
            "q2",
            lambda w, p, r, s, n: (w * p * n + w * r * s) * 8 / 1e9,
            lambda w, p, r, s, n: (w * p * n + w * r * s) / 1e9,  # bytes, not bits
        ),
        (
            "q3",
            lambda path: 43_200 * (1 - math.prod(1 - (1 - a) ** n for a, n in path)),
            lambda path: 43.2 * len(path),
        ),
        ("q4", lambda r, c, u: math.ceil(r / (c * u)), lambda r, c, u: math.floor(r / (c * u))),
    ],
)
def test_toolkit_estimates(qid, right, wrong):
    check = Checker("interview_toolkit")
    assert check(qid, right).passed
    feedback = check(qid, wrong)
    assert not feedback.passed
    _no_leak(feedback.message, kit.q4_expected())


def test_toolkit_star_story():
    check = Checker("interview_toolkit")
    weak = StarStory("A system.", "Fix it.", "We fixed it.", "Better.")
    feedback = check("q5", weak)
    assert not feedback.passed and "reviewer" in feedback.message
    assert not check("q5", "a story").passed
    good = StarStory(
        situation="Our 3K TPS checkout had 900 ms p99 before a sale.",
        task="I owned getting p99 under 300 ms in 6 weeks.",
        action="I traced slow requests, I fixed two N+1 queries and I added cache warm-up on deploy.",
        result="p99 fell to 240 ms with zero incidents.",
        learning="I learned to measure before adding a cache.",
    )
    assert check("q5", good).passed
