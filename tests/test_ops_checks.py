"""Self-checks of the ops exercise sets: right answers pass, wrong ones get a hint, not the answer."""

import math

import pytest

from razorlab.grading import Checker
from razorlab.grading.checks import incident_response as ir
from razorlab.grading.checks import interview_toolkit as kit
from razorlab.grading.checks import migration as mig
from razorlab.ops import Endpoint, StarStory, plan_phases


def _no_leak(message: str, *values: float) -> None:
    for v in values:
        texts = {str(v)} if isinstance(v, int) else {f"{v:.2f}", f"{v:.3g}"}
        for text in texts:
            assert text not in message, f"hint leaks the answer {text!r}: {message}"


# ---- migration -------------------------------------------------------------------------
def test_migration_q1_accepts_a_level_order_and_rejects_a_valid_but_serial_one():
    check = Checker("migration")
    assert check("q1", mig.phase_lists).passed
    serial = lambda eps: [[n] for p in mig.phase_lists(eps) for n in p]  # noqa: E731
    feedback = check("q1", serial)
    assert not feedback.passed and "level by level" in feedback.message
    assert not check("q1", [["kyc"]]).passed


def test_migration_q2_q3_q4():
    check = Checker("migration")
    minute = mig.breach_minute(mig.Q2_SERVICES, mig.Q2_SEED)
    assert check("q2", minute).passed
    late = check("q2", minute + 1)
    assert not late.passed and "too late" in late.message
    _no_leak(late.message, minute)
    assert check("q3", mig.blast_ratio()).passed
    wrong = check("q3", mig.blast_ratio() * 2)
    assert not wrong.passed
    _no_leak(wrong.message, mig.blast_ratio())
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
    assert check("q1", ir.hours_to_exhaust).passed
    half = check("q1", lambda r, t: ir.hours_to_exhaust(r, t) / 2)
    assert not half.passed and "too low" in half.message
    _no_leak(half.message, 144.0)
    fired, cleared = ir.fast_burn_episode()
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
    extra = ir.extra_mttr()
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
