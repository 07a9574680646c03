"""Goroutines that spawn, talk over channels, wait on WaitGroups and yield, in the model."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.goruntime import SchedulerConfig, SchedulerInvariantError, simulate
from razorlab.goruntime.costs import ColdStart, OpCosts
from razorlab.goruntime.processor import GFREE_MAX_LOCAL
from razorlab.goruntime.programs import per_task, ping_pong, spawn_blocked, worker_pool
from razorlab.goruntime.workload import (
    GO,
    GOSCHED,
    NONE,
    RANGE,
    SEND,
    SPAWNED,
    Workload,
)

FREE = OpCosts(
    go_s=0,
    go_fresh_s=0,
    exit_s=0,
    chan_s=0,
    ready_s=0,
    steal_s=0,
    wg_s=0,
    cold_start=ColdStart((), ()),
)


def program(goroutines, channels=(), waitgroups=0):
    """goroutines: lists of (cpu, kind, arg, jump) phases; goroutine 0 is main."""
    sizes = [len(g) for g in goroutines]
    ptr = np.r_[0, np.cumsum(sizes)]
    flat = [ph for g in goroutines for ph in g]
    n = len(goroutines)
    return Workload(
        "t",
        np.zeros(n),
        np.r_[0, np.full(n - 1, SPAWNED)],
        ptr,
        np.array([f[0] for f in flat], dtype=float),
        np.array([f[1] for f in flat], dtype=np.int8),
        np.zeros(len(flat)),
        op_arg=np.array([f[2] for f in flat]),
        op_jump=np.array([f[3] for f in flat]),
        channels=channels,
        waitgroups=waitgroups,
    )


def conserved(run):
    assert run.completed == run.goroutines
    assert run.cpu_executed_s == pytest.approx(run.charged_cpu_s, rel=1e-9, abs=1e-15)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["pertask", "pool", "pingpong", "blocked"]),
    n=st.integers(1, 400),
    workers=st.integers(1, 6),
    buffer=st.integers(0, 70),
    procs=st.integers(1, 4),
    backoff_us=st.sampled_from([0.0, 0.5, 3.0, 60.0]),
    steal_ns=st.sampled_from([0.0, 38.5, 500.0]),
    seed=st.integers(0, 10_000),
)
def test_random_programs_finish_with_work_conserved_whatever_the_thief_does(
    kind, n, workers, buffer, procs, backoff_us, steal_ns, seed
):
    """The runqgrab back-off (a thief's M asleep while its P stays spinning) and the steal
    charge (moving a robbed G's end) lose no goroutine and no CPU, at any GOMAXPROCS."""
    wl = {
        "pertask": lambda: per_task(n),
        "pool": lambda: worker_pool(n, workers=workers, buffer=buffer),
        "pingpong": lambda: ping_pong(n),
        "blocked": lambda: spawn_blocked(n),
    }[kind]()
    costs = dataclasses.replace(OpCosts(), steal_s=steal_ns * 1e-9)
    cfg = SchedulerConfig(
        gomaxprocs=procs, seed=seed, steal_backoff_s=backoff_us * 1e-6, costs=costs
    )
    run = simulate(wl, cfg)
    conserved(run)
    if kind == "pool":
        assert run.chan_receives == n


@pytest.mark.parametrize(
    "wl",
    [per_task(3000), worker_pool(3000, workers=3, buffer=4), ping_pong(500), spawn_blocked(800)],
    ids=lambda w: w.name,
)
@pytest.mark.parametrize("procs", [1, 2, 4])
def test_programs_finish_with_work_conserved(wl, procs):
    conserved(simulate(wl, SchedulerConfig(gomaxprocs=procs)))


def test_send_to_a_parked_receiver_hands_off_into_runnext():
    # main: go receiver; yield until it has parked on the channel; send; 1 ms; exit.
    # (The first Gosched comes straight back: schedtick 0 checks the global queue.)
    yields = [(0, GOSCHED, 0, 0)] * 2
    wl = program(
        [
            [(0, GO, 1, 0), *yields, (1e-6, SEND, 0, 0), (1e-3, NONE, 0, 0)],
            [(0, RANGE, 0, 6), (0, NONE, 0, 0)],
        ],
        channels=(0,),
    )
    run = simulate(wl, SchedulerConfig(gomaxprocs=1, switch_s=0, costs=FREE))
    # the receiver waits in runnext while main burns its last 1 ms: it runs right after
    assert run.waits_of(1)[-1] == pytest.approx(1e-3)
    assert run.completed == 2


def test_a_full_buffered_channel_parks_the_sender():
    sends = [(0, SEND, 0, 0)] * 5
    wl = program([[*sends, (0, NONE, 0, 0)]], channels=(3,))
    with pytest.raises(SchedulerInvariantError, match="lost"):
        simulate(wl, SchedulerConfig(gomaxprocs=1, costs=FREE))


def test_gosched_sends_the_g_through_the_global_queue():
    wl = program([[(0, GOSCHED, 0, 0), (0, NONE, 0, 0)]])
    run = simulate(wl, SchedulerConfig(gomaxprocs=1, switch_s=1e-7, costs=FREE))
    assert run.waits_s.size == 2, "dispatched twice: at the start and after the Gosched"


def test_dead_gs_are_reused_from_the_free_lists():
    run = simulate(per_task(20_000), SchedulerConfig(gomaxprocs=1))
    assert run.reused_gs > run.fresh_gs > 0
    assert run.fresh_gs <= run.max_live_goroutines, "a G is fresh only when none is free"


def test_free_list_spills_at_64_and_refills_by_32():
    run = simulate(spawn_blocked(GFREE_MAX_LOCAL), SchedulerConfig(gomaxprocs=1))
    assert (run.fresh_gs, run.reused_gs) == (GFREE_MAX_LOCAL, 0)


def test_the_spawner_is_a_g_that_pays_and_gets_preempted():
    cfg = SchedulerConfig(gomaxprocs=1)
    run = simulate(per_task(40_000), cfg)
    assert run.preemptions > 0, "sysmon preempts the spawning loop after 10 ms"
    assert run.runtime_cpu_s > 40_000 * cfg.costs.go_s
    assert run.max_live_goroutines < 40_000, "children ran while the loop was preempted"


def test_a_thief_backs_off_from_a_running_ps_runnext_and_the_robbed_g_pays():
    """runqgrab's usleep(3): at GOMAXPROCS 2 the spawner's P keeps its newest G in runnext,
    so the other P sleeps instead of parking (no futex wake-up needed), and each G it
    takes costs the spawner steal_s (here the only cost besides go itself)."""
    costs = dataclasses.replace(FREE, go_s=300e-9, go_fresh_s=300e-9, steal_s=50e-9)
    run = simulate(per_task(5000), SchedulerConfig(gomaxprocs=2, costs=costs))
    assert run.steal_backoffs > 0 and run.stolen > 0
    # every stolen G was started by a go statement of the spawner, running while robbed
    expected = 5000 * costs.go_s + run.stolen * costs.steal_s
    assert run.runtime_cpu_s == pytest.approx(expected, rel=1e-9)
    eager = simulate(per_task(5000), SchedulerConfig(gomaxprocs=2, steal_backoff_s=0.0))
    assert eager.steal_backoffs == 0 and eager.go_wakeups > run.go_wakeups


@pytest.mark.parametrize(
    "bad",
    [
        dict(op_arg=np.array([5, 0, 0, 0])),  # GO of a goroutine that does not exist
        dict(channels=()),  # SEND on an unknown channel
        dict(op_jump=None),
    ],
)
def test_bad_operations_are_rejected(bad):
    spec = dict(op_arg=np.array([1, 0, 0, 0]), op_jump=np.zeros(4, int), channels=(0,))
    spec.update(bad)
    with pytest.raises(ValidationError):
        Workload(
            "bad",
            np.zeros(2),
            np.array([0, SPAWNED]),
            np.array([0, 3, 4]),
            np.zeros(4),
            np.array([GO, SEND, NONE, NONE], dtype=np.int8),
            np.zeros(4),
            **spec,
        )


def test_op_costs_must_be_finite_and_non_negative():
    with pytest.raises(ValidationError, match="chan_s"):
        OpCosts(chan_s=-1e-9)
    with pytest.raises(ValidationError, match="cold_start"):
        OpCosts(cold_start=(200, 0.0))


@pytest.mark.parametrize(
    ("distances", "extra_s"),
    [((200, 100), (0, 1e-9)), ((200,), (0, 1e-9)), ((0, 100), (0, 1e-9)), ((100, 200), (0, -1))],
)
def test_a_cold_start_curve_must_be_increasing_and_non_negative(distances, extra_s):
    with pytest.raises(ValidationError):
        ColdStart(distances, extra_s)


def test_a_cold_start_is_log_linear_between_its_points_and_flat_outside():
    c = ColdStart((100, 10_000), (0.0, 200e-9))
    assert c.extra(50) == 0 and c.extra(1_000) == pytest.approx(100e-9)
    assert c.extra(1e9) == 200e-9 and ColdStart((), ()).extra(1e9) == 0


def test_all_cold_folds_the_largest_cold_start_into_every_exit():
    costs = OpCosts(exit_s=50e-9, cold_start=ColdStart((10, 100), (0.0, 1e-6)))
    cold = costs.all_cold()
    assert cold.exit_s == pytest.approx(50e-9 + 1e-6) and cold.cold_start.extra(1e9) == 0
    assert FREE.all_cold() == FREE


def test_children_started_long_after_their_go_statement_pay_the_cold_start():
    """At GOMAXPROCS 1 a spawner's 1,000 children all run after it: each starts ~1,000
    goroutines after its own go statement and pays the curve's 1 us, except the last one,
    which waits in runnext and runs first, still warm; the spawner comes from outside and
    pays nothing."""
    costs = dataclasses.replace(FREE, cold_start=ColdStart((10, 100), (0.0, 1e-6)))
    cfg = SchedulerConfig(gomaxprocs=1, switch_s=0.0, costs=costs)
    run = simulate(per_task(1_000, work_s=0.0), cfg)
    assert run.runtime_cpu_s == pytest.approx(999 * 1e-6)
    warm = simulate(per_task(1_000, work_s=0.0), SchedulerConfig(gomaxprocs=1, costs=FREE))
    assert warm.runtime_cpu_s == 0


def test_with_one_p_every_value_is_received_on_the_p_that_sent_it():
    run = simulate(worker_pool(500, workers=4, buffer=8), SchedulerConfig(gomaxprocs=1))
    assert run.chan_receives == 500 and run.chan_receives_same_p == 500
    pong = simulate(ping_pong(100), SchedulerConfig(gomaxprocs=2))
    assert pong.chan_receives == 200 and pong.chan_receives_same_p <= 200
