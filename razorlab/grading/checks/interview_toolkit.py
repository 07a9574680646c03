"""Self-checks for the ``interview_toolkit`` exercises (back-of-the-envelope drills, STAR).

Expected values come from the capacity planner and availability helpers in
``razorlab.ops``; STAR answers are judged by ``razorlab.ops.star.review``.
"""

from __future__ import annotations

from razorlab.grading import near, question
from razorlab.ops.availability import downtime, redundant, serial
from razorlab.ops.capacity import Requirements, plan
from razorlab.ops.star import StarStory, review

SET = "interview_toolkit"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_AVG_WRITES = 50_000  # per second, over the day
Q1_PAYLOAD_BYTES = 2_000
Q2 = {
    "peak_writes": 20_000,
    "payload_bytes": 1_500,
    "reads_per_write": 10,
    "response_bytes": 4_000,
    "replication": 3,
}
Q3_PATH = ((0.9999, 1), (0.999, 2), (0.9995, 1), (0.999, 3))  # (availability, replicas)
Q4 = {"peak_rps": 120_000, "per_core_rps": 800, "utilisation": 0.65}


# ---- expected values for the question's own inputs, from the engines ----------------
# (values, not functions with the answers' signatures: ``ex`` is imported by the notebook)
def q1_expected() -> float:
    req = Requirements(
        peak_qps=Q1_AVG_WRITES, avg_qps=Q1_AVG_WRITES, payload_bytes=Q1_PAYLOAD_BYTES
    )
    return plan(req).storage_per_day.to("TiB")


def q2_expected() -> float:
    req = Requirements(
        peak_qps=Q2["peak_writes"],
        payload_bytes=Q2["payload_bytes"],
        read_write_ratio=Q2["reads_per_write"],
        response_bytes=Q2["response_bytes"],
        replication=Q2["replication"],
    )
    return plan(req).bandwidth_gbps()


def q3_expected() -> float:
    return downtime(serial(redundant(a, n) for a, n in Q3_PATH), "month").to("min")


def q4_expected() -> int:
    req = Requirements(
        peak_qps=Q4["peak_rps"],
        payload_bytes=1,
        per_core_qps=Q4["per_core_rps"],
        target_utilisation=Q4["utilisation"],
    )
    return plan(req).cores


def _call(answer: object, *args: object) -> object:
    return answer(*args) if callable(answer) else answer


# ---- the checks -------------------------------------------------------------------------
@question(
    SET, "q1", covers="other rates and payloads (random ones too); binary TiB, not decimal TB"
)
def _q1(answer: object) -> str | None:
    got = _call(answer, Q1_AVG_WRITES, Q1_PAYLOAD_BYTES)
    return near(got, q1_expected(), rel=0.02, what="storage per day (TiB)")


@question(SET, "q2", covers="no reads, replication 1, large responses, random workloads")
def _q2(answer: object) -> str | None:
    got = _call(answer, *Q2.values())
    return near(
        got,
        q2_expected(),
        rel=0.02,
        what="network at peak (Gbit/s): ingress + egress + replica copies, in bits",
    )


@question(SET, "q3", covers="a single component, a path where redundancy dominates, random paths")
def _q3(answer: object) -> str | None:
    got = _call(answer, Q3_PATH)
    return near(got, q3_expected(), rel=0.02, what="downtime per 30-day month (min)")


@question(SET, "q4", covers="utilisation 100%, rates that divide exactly, random rates; an int")
def _q4(answer: object) -> str | None:
    got = _call(answer, *Q4.values())
    if isinstance(got, bool) or not isinstance(got, int):
        return "cores come in whole numbers: return an int (round which way?)."
    want = q4_expected()
    if got == want:
        return None
    if got < want:
        return "too few: round up, and leave the utilisation headroom."
    return "too many: divide by per-core rate × utilisation once, then round up."


@question(SET, "q5", covers="the reviewer's checklist, run again by the grader on your story")
def _q5(answer: object) -> str | None:
    if not isinstance(answer, StarStory):
        return "answer with a StarStory(situation=..., task=..., action=..., result=..., learning=...)."
    notes = review(answer)
    return None if not notes else "the reviewer still has notes: " + " ".join(notes)
