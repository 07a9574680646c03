"""Self-checks for ``solutions/more_scenarios/03_timelines_exercises.ipynb``.

Expected values come from the timeline engine (``razorlab.social``), so a check and
the chapter can never disagree.
"""

from __future__ import annotations

import numpy as np

from razorlab.grading.selfcheck import near, question
from razorlab.social.timelines.strategies import FANOUT_BATCH
from razorlab.social.timelines.workload import fanout_lag, make_workload, threshold_costs

SET = "timelines"
SECONDS_PER_DAY = 86_400
Q4_WORKLOAD = dict(n_users=5_000, posts=1_000, reads=1_000, seed=7)
Q4_MAX_WRITE_SHARE = 0.32  # hybrid writes per post at most 32% of push's
Q4_MAX_LISTS = 2.8  # lists merged per read at most
Q5_FOLLOWERS, Q5_WORKERS, Q5_BATCH_S = 100_000_000, 8, 0.02


def q4_workload():
    return make_workload(**Q4_WORKLOAD)


def q4_problem(threshold: object) -> str | None:
    """Why ``threshold`` misses the q4 targets, or None when it meets both."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        return f"the threshold should be a positive int number of followers, got {threshold!r}."
    row = threshold_costs(q4_workload(), [int(threshold)]).iloc[0]
    if row.hybrid_writes_per_post > Q4_MAX_WRITE_SHARE * row.push_writes_per_post:
        return "writes are still too high: pull more authors by lowering the threshold."
    if row.hybrid_lists_per_read > Q4_MAX_LISTS:
        return "reads merge too many lists: push more authors by raising the threshold."
    return None


def q5_expected_minutes() -> float:
    batches = -(-Q5_FOLLOWERS // FANOUT_BATCH)
    return float(
        fanout_lag(np.array([0.0]), np.array([batches]), workers=Q5_WORKERS, batch_s=Q5_BATCH_S)[0]
        / 60
    )


@question(
    SET,
    "q1",
    covers="a plausible peak, a peak equal to the average, random daily volumes and peaks",
)
def _q1(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q1', peak_is_plausible)."
    got = fn(1_000_000_000, 10_000)
    if not isinstance(got, bool | np.bool_):  # numpy comparisons give np.bool_, also fine
        return f"return True or False, got {type(got).__name__}."
    if got:
        return "1B a day is 11.6K/s on average: can a 10K/s peak be right? Compare with per_day / 86,400."
    return None


@question(
    SET,
    "q2",
    covers="zero followers, exact multiples of the batch size, one over a multiple, random "
    "follower counts",
)
def _q2(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q2', fanout_batches)."
    got = fn(100_000_000)
    expected = -(-100_000_000 // FANOUT_BATCH)
    if got == expected:
        return None
    if got == 100_000_000 // FANOUT_BATCH:
        return "one batch short: the last, partial batch still has to be written (round up)."
    return f"{got!r} batches for 100M followers is not right: how many groups of {FANOUT_BATCH} are there?"


@question(
    SET,
    "q3",
    covers="empty lists, the same id in several lists, k larger than all items, random lists",
)
def _q3(fn) -> str | None:
    if not callable(fn):
        return "pass your function itself: check('q3', merge_newest)."
    got = fn([[9, 5, 2], [8, 5, 1], [7]], 5)
    if not isinstance(got, list):
        return f"return a list of ids, got {type(got).__name__}."
    if got == [9, 8, 7, 5, 2]:
        return None
    if sorted(got, reverse=True) != got:
        return "the result should be newest first (largest id first)."
    if len(set(got)) != len(got):
        return "an id appears twice: a retweeted or re-followed tweet must show once."
    return "not the k newest ids: merge all lists, newest first, and stop after k."


@question(SET, "q4", covers="the same targets checked by the engine on the q4 workload")
def _q4(threshold) -> str | None:
    return q4_problem(threshold)


@question(SET, "q5", covers="the lag computed with the queue model, within 5%")
def _q5(minutes) -> str | None:
    return near(minutes, q5_expected_minutes(), rel=0.05, what="the lag in minutes")
