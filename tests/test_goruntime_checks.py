"""The Round 3 Go self-checks accept the right answers and reject wrong ones without leaking them."""

import pytest

from razorlab.goruntime import (
    MIB,
    GCConfig,
    SchedulerConfig,
    heap_goal,
    io_bound,
    simulate,
    simulate_gc,
    steady,
)
from razorlab.grading import Checker
from razorlab.grading.checks import go_memory_gc as mg
from razorlab.grading.checks import go_scheduler as gs


@pytest.fixture(scope="module")
def sched():
    return Checker("go_scheduler")


@pytest.fixture(scope="module")
def memgc():
    return Checker("go_memory_gc")


def _sysmon_share() -> float:
    """The q3 answer from the model the chapter teaches."""
    wl = io_bound(gs.Q3_N, cpu_s=gs.Q3_CPU_S, spawn_over_s=gs.Q3_OVER_S)
    run = simulate(wl, SchedulerConfig(gomaxprocs=gs.Q3_PROCS))
    return run.netpoll_by_sysmon / (run.netpoll_by_sysmon + run.netpoll_by_p + run.woken_idle)


def _goal_mib(live, roots, gogc, limit_mib, non_heap_mib) -> float:
    limit = None if limit_mib is None else limit_mib * MIB
    return (
        heap_goal(
            live * MIB,
            gogc=gogc,
            roots_bytes=roots * MIB,
            memory_limit_bytes=limit,
            non_heap_bytes=non_heap_mib * MIB,
        )
        / MIB
    )


def _cycles_ratio() -> float:
    """The q4 answer: GC cycles at GOGC=100 over cycles at GOGC=200, by ``simulate_gc``."""
    wl = steady(mg.Q4_LIVE_MIB, mg.Q4_ALLOC_MIB_S, duration_s=2.0)
    a, b = (simulate_gc(wl, GCConfig(gogc=g, gomaxprocs=4)).cycles for g in (100, 200))
    return a / b


def test_the_modules_export_no_answer_with_an_answers_signature():
    for name in ("global_after_burst", "wake_delay_ms", "sysmon_share"):
        assert not hasattr(gs, name), name
    for name in ("goal_mib", "cycles_ratio"):
        assert not hasattr(mg, name), name


def test_scheduler_right_answers_pass(sched):
    assert sched("q1", lambda n: 129 * ((n - 1) // 257 if n > 257 else 0)).passed
    assert sched("q2", lambda ms: 20 - ms + 0.2).passed
    assert sched("q3", _sysmon_share()).passed
    assert sched("q4", 20).passed
    assert sched("q5", lambda n: n - n // 2).passed


def test_scheduler_wrong_answers_fail_with_a_hint_not_the_value(sched):
    fb = sched("q1", lambda n: 128)
    assert not fb.passed and "129" not in fb.message
    fb = sched("q2", lambda ms: 10.0)
    assert not fb.passed and "15.2" not in fb.message
    assert not sched("q3", 82.0).passed
    assert "percentage" in sched("q3", 82.0).message
    assert not sched("q4", 10).passed
    assert "rounds up" in sched("q5", lambda n: n // 2).message
    assert "function itself" in sched("q5", 4).message


def test_memory_gc_right_answers_pass(memgc):
    assert memgc("q1", lambda n, f: n * (8192 + 520)).passed
    assert memgc("q2", lambda n: n * 2048 / 2**50).passed
    assert memgc("q3", _goal_mib).passed
    assert memgc("q4", _cycles_ratio()).passed
    assert memgc("q5", {"C", "E"}).passed


def test_memory_gc_wrong_answers_fail_with_a_hint(memgc):
    assert "doubles again" in memgc("q1", lambda n, f: n * (4096 + 520)).message
    assert "TiB" in memgc("q2", lambda n: n * 2048 / 2**40).message
    assert "roots" in memgc("q3", lambda *a: 400.0).message
    assert not memgc("q4", 1.0).passed
    assert "never reachable" in memgc("q5", {"C", "E", "F"}).message
    assert "set" in memgc("q5", ["C"]).message
