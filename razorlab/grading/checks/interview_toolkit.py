"""Self-checks for the ``interview_toolkit`` exercises (back-of-the-envelope drills, STAR).

Expected values come from the capacity planner and availability helpers in
``razorlab.ops``; STAR answers are judged by ``razorlab.ops.star.review``.
"""

from __future__ import annotations

from collections.abc import Sequence

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


# ---- engine oracles ---------------------------------------------------------------------
def storage_tib_per_day(avg_writes: float, payload_bytes: float) -> float:
    req = Requirements(peak_qps=avg_writes, avg_qps=avg_writes, payload_bytes=payload_bytes)
    return plan(req).storage_per_day.to("TiB")


def bandwidth_gbps(peak_writes, payload_bytes, reads_per_write, response_bytes, replication):
    req = Requirements(
        peak_qps=peak_writes,
        payload_bytes=payload_bytes,
        read_write_ratio=reads_per_write,
        response_bytes=response_bytes,
        replication=replication,
    )
    return plan(req).bandwidth_gbps()


def monthly_downtime_min(path: Sequence[tuple[float, int]]) -> float:
    return downtime(serial(redundant(a, n) for a, n in path), "month").to("min")


def cores_needed(peak_rps: float, per_core_rps: float, utilisation: float) -> int:
    req = Requirements(
        peak_qps=peak_rps,
        payload_bytes=1,
        per_core_qps=per_core_rps,
        target_utilisation=utilisation,
    )
    return plan(req).cores


def _call(answer: object, *args: object) -> object:
    return answer(*args) if callable(answer) else answer


# ---- the checks -------------------------------------------------------------------------
@question(SET, "q1", covers="other rates and payloads; binary TiB, not decimal TB")
def _q1(answer: object) -> str | None:
    got = _call(answer, Q1_AVG_WRITES, Q1_PAYLOAD_BYTES)
    return near(
        got,
        storage_tib_per_day(Q1_AVG_WRITES, Q1_PAYLOAD_BYTES),
        rel=0.02,
        what="storage per day (TiB)",
    )


@question(SET, "q2", covers="no reads, replication 1, and large responses")
def _q2(answer: object) -> str | None:
    got = _call(answer, *Q2.values())
    return near(
        got,
        bandwidth_gbps(*Q2.values()),
        rel=0.02,
        what="network at peak (Gbit/s): ingress + egress + replica copies, in bits",
    )


@question(SET, "q3", covers="a single component, and a path where redundancy dominates")
def _q3(answer: object) -> str | None:
    got = _call(answer, Q3_PATH)
    return near(
        got, monthly_downtime_min(Q3_PATH), rel=0.02, what="downtime per 30-day month (min)"
    )


@question(SET, "q4", covers="utilisation 100% and rates that divide exactly")
def _q4(answer: object) -> str | None:
    got = _call(answer, *Q4.values())
    if isinstance(got, bool) or not isinstance(got, int):
        return "cores come in whole numbers: return an int (round which way?)."
    want = cores_needed(*Q4.values())
    if got == want:
        return None
    if got < want:
        return "too few: round up, and leave the utilisation headroom."
    return "too many: divide by per-core rate × utilisation once, then round up."


@question(SET, "q5", covers="nothing hidden: the reviewer's checklist is the whole test")
def _q5(answer: object) -> str | None:
    if not isinstance(answer, StarStory):
        return "answer with a StarStory(situation=..., task=..., action=..., result=..., learning=...)."
    notes = review(answer)
    return None if not notes else "the reviewer still has notes: " + " ".join(notes)
