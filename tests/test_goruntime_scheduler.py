"""The G-M-P scheduler model keeps the runtime's rules: nothing lost, nothing run twice."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.goruntime import (
    SchedulerConfig,
    Workload,
    cpu_bound,
    io_bound,
    mixed,
    simulate,
    sleep_probe,
    spawn_burst,
)
from razorlab.goruntime.processor import LOCAL_RUNQ_SIZE


def assert_conserved(run, wl):
    assert run.completed == wl.n, "every goroutine finishes exactly once"
    assert run.cpu_executed_s == pytest.approx(wl.total_cpu_s, rel=1e-9, abs=1e-12), (
        "CPU executed equals CPU in the workload (conservation of work)"
    )
    # independent of cpu_executed_s: busy time is summed from the run intervals themselves
    busy = wl.total_cpu_s + run.waits_s.size * run.config.switch_s
    assert run.p_busy_s.sum() == pytest.approx(busy, rel=1e-9), (
        "Ps were busy exactly the workload's CPU plus one switch per dispatch"
    )
    assert run.max_local_runq <= LOCAL_RUNQ_SIZE, "local run queues are bounded at 256"
    assert np.all(run.waits_s >= 0), "no goroutine runs before it is runnable"


@pytest.mark.parametrize(
    "wl",
    [cpu_bound(1000), io_bound(800), mixed(800), spawn_burst(2000)],
    ids=lambda w: w.name,
)
def test_every_workload_completes_with_work_conserved(wl):
    run = simulate(wl, SchedulerConfig(gomaxprocs=4))
    assert_conserved(run, wl)
    assert run.utilisation.max() <= 1.0 + 1e-9, "a P cannot be busy more than 100% of the time"


def test_spawn_burst_overflows_half_the_local_queue_to_global_and_others_steal():
    run = simulate(spawn_burst(6000), SchedulerConfig(gomaxprocs=4))
    assert run.overflows > 0, "a burst on one P overflows its 256-slot queue"
    assert run.stolen > 0 or run.global_gets > 0, "the other Ps take work from P0 or global"
    assert run.global_fair_hits > 0, "every 61st tick checks the global queue"
    assert run.max_local_runq == LOCAL_RUNQ_SIZE


def test_busy_ps_leave_network_waits_to_sysmon_every_10ms():
    run = simulate(io_bound(1000, cpu_s=100e-6, spawn_over_s=0.005), SchedulerConfig(gomaxprocs=2))
    assert run.netpoll_by_sysmon > 0


def test_blocking_syscalls_hand_the_p_off_so_threads_exceed_gomaxprocs():
    run = simulate(mixed(1000, syscall_share=0.8), SchedulerConfig(gomaxprocs=2))
    assert run.handoffs > 0
    assert run.max_threads > 2, "Ms blocked in syscalls are extra threads beyond GOMAXPROCS"


def test_sysmon_preempts_cpu_hogs_after_10ms_and_a_sleeper_waits_about_19ms():
    run = simulate(sleep_probe(1, samples=20), SchedulerConfig(gomaxprocs=1))
    assert run.preemptions > 0
    waits_ms = run.waits_of(0)[1:] * 1e3
    assert 18.0 < np.median(waits_ms) < 21.0, "phase-locked sysmon: 2 ticks minus the 1 ms sleep"


def test_an_idle_p_runs_a_woken_sleeper_at_once():
    run = simulate(sleep_probe(1, samples=20), SchedulerConfig(gomaxprocs=2))
    assert np.median(run.waits_of(0)[1:]) < 1e-3


def test_same_seed_same_run_and_steal_order_depends_on_seed():
    wl = spawn_burst(5000)
    a = simulate(wl, SchedulerConfig(gomaxprocs=4, seed=1))
    b = simulate(wl, SchedulerConfig(gomaxprocs=4, seed=1))
    assert a.summary().equals(b.summary())
    assert np.array_equal(a.waits_s, b.waits_s)
    assert cpu_bound(100, seed=3).cpu_s.tolist() == cpu_bound(100, seed=3).cpu_s.tolist()


def test_run_queue_samples_have_one_column_per_p_and_global():
    run = simulate(cpu_bound(500), SchedulerConfig(gomaxprocs=3))
    df = run.runq_samples()
    assert list(df.columns) == ["P0", "P1", "P2", "global"]
    assert (df.to_numpy() >= 0).all()


@pytest.mark.parametrize("procs", [0, -1, 1.5, True, "4"])
def test_gomaxprocs_must_be_a_positive_int(procs):
    with pytest.raises(ValidationError, match="GOMAXPROCS"):
        SchedulerConfig(gomaxprocs=procs)


def test_bad_workloads_are_rejected():
    with pytest.raises(ValidationError):
        cpu_bound(0)
    with pytest.raises(ValidationError):
        mixed(10, syscall_share=1.5)
    with pytest.raises(ValidationError, match="last phase"):
        Workload(
            "bad",
            np.zeros(1),
            np.zeros(1, np.int64),
            np.array([0, 1]),
            np.ones(1),
            np.array([1], np.int8),
            np.ones(1),
        )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 300),
    procs=st.integers(1, 6),
    share=st.floats(0, 1),
    seed=st.integers(0, 10_000),
)
def test_random_mixed_workloads_never_lose_or_duplicate_goroutines(n, procs, share, seed):
    wl = mixed(n, syscall_share=share, spawn_over_s=0.01, seed=seed)
    run = simulate(wl, SchedulerConfig(gomaxprocs=procs, seed=seed))
    assert_conserved(run, wl)


def test_the_invariant_guard_refuses_a_goroutine_made_runnable_twice():
    from razorlab.goruntime.processor import SchedulerInvariantError
    from razorlab.goruntime.scheduler import Simulation

    sim = Simulation(cpu_bound(2), SchedulerConfig(gomaxprocs=1))
    sim.make_runnable(0, 0.0)
    with pytest.raises(SchedulerInvariantError, match="runnable twice"):
        sim.make_runnable(0, 0.0)


def test_a_thief_takes_half_rounding_up():
    from razorlab.goruntime.scheduler import steal_count

    assert [steal_count(n) for n in (0, 1, 2, 7, 256)] == [0, 1, 1, 4, 128]


def test_20k_goroutines_in_long_syscalls_hit_the_10000_thread_limit():
    from razorlab.goruntime import ThreadExhaustionError

    wl = mixed(20_000, syscall_share=1.0, syscall_mean_s=10.0)
    with pytest.raises(ThreadExhaustionError, match="exceeds 10000-thread limit") as err:
        simulate(wl, SchedulerConfig(gomaxprocs=4))
    assert err.value.code == "THREAD_EXHAUSTION"


def test_max_threads_is_settable_like_debug_setmaxthreads_and_checked():
    from razorlab.goruntime import ThreadExhaustionError

    wl = mixed(1000, syscall_share=0.8)
    peak = simulate(wl, SchedulerConfig(gomaxprocs=2)).max_threads
    ok = simulate(wl, SchedulerConfig(gomaxprocs=2, max_threads=peak + 1))
    assert ok.max_threads == peak, "sysmon's M counts too: peak + 1 threads fit"
    with pytest.raises(ThreadExhaustionError):
        simulate(wl, SchedulerConfig(gomaxprocs=2, max_threads=peak))
    for bad in (0, True, 2.5):
        with pytest.raises(ValidationError):
            SchedulerConfig(max_threads=bad)
