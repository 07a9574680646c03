"""The models agree with a real Go runtime (data/go/measurements.json) within stated tolerances.

The measurements were taken once with ``python data/go/run_measurements.py`` (Go 1.19,
linux/amd64, 2 shared vCPUs) and committed; CI does not need Go. Tolerances are
stated per test and say why they are what they are.
"""

import dataclasses
import functools

import numpy as np
import pytest

from razorlab.goruntime import OpCosts, SchedulerConfig, simulate
from razorlab.goruntime.calibration import (
    TASK_TOLERANCE,
    cold_start_check,
    gc_vs_model,
    goroutine_memory_vs_model,
    load_measurements,
    op_costs,
    pool_locality_vs_model,
    pool_sizes_vs_model,
    sched_latency_vs_model,
    spawn_sleeps_vs_go,
    stack_growth_vs_model,
    task_patterns_vs_model,
    worker_pool_vs_model,
)
from razorlab.goruntime.programs import per_task, worker_pool


def test_measurements_record_the_machine_and_go_version():
    m = load_measurements()
    assert m["machine"]["go_version"].startswith("go version go1.")
    assert m["machine"]["logical_cpus"] >= 1


def test_bytes_per_blocked_goroutine_within_2_percent_from_1e4_to_1e6():
    """Stacks are exact (2048 B); the heap part is per-object, so 2% covers size-class noise.
    At 1e3 goroutines the runtime's pre-existing free stacks blur the delta, hence 5%."""
    df = goroutine_memory_vs_model()
    assert df["ratio"].loc[10_000:].between(0.98, 1.02).all()
    assert df["ratio"].loc[1_000] == pytest.approx(1.0, abs=0.05)
    assert df["measured_stack_B"].loc[1_000_000] == pytest.approx(2048, rel=0.001)


def test_stack_size_by_depth_matches_doubling_within_3_percent():
    """Each measured stack is the model's power of two; the 3% is the probe goroutine's stack
    and runtime bookkeeping goroutines counted in StackInuse."""
    df = stack_growth_vs_model()
    assert df["ratio"].between(0.99, 1.03).all()


def test_sleep_wakeup_latency_median_within_10_percent_of_go():
    """Medians of 3 runs x 150 samples. Under load both sit at ~19.2 ms (two 10 ms sysmon
    ticks minus the 1 ms sleep); idle, ~0.12 ms (timer slack + futex wake). The machine's
    other core is busy with other work, so p90/p99 are not compared, only medians."""
    df = sched_latency_vs_model()
    assert df["ratio_p50"].between(0.9, 1.1).all()
    loaded = df.xs(2, level="hogs")
    assert (loaded["measured_p50_ms"] > 15).all() and (loaded["model_p50_ms"] > 15).all()


def test_gc_heap_goal_within_half_a_percent_of_the_runtime():
    """NextGC after a forced GC vs live + (live + stacks) x GOGC/100, capped by GOMEMLIMIT.
    The remainder is globals, which Go 1.19 does not report."""
    df = gc_vs_model()
    ratio = df["measured_goal_MiB"] / df["model_goal_MiB"]
    assert ratio.between(0.995, 1.005).all()


def test_gc_cycles_and_cpu_under_gogc_match_within_25_percent():
    """Cycle counts depend on floating garbage (allocation during marking); the model's
    mark time (4 ms) was calibrated once on these runs, so this checks all three GOGC
    values and the GOGC=100 + 96 MiB limit run with one constant. GC CPU within 50%."""
    df = gc_vs_model()
    rows = df.loc[[("50", "-"), ("100", "-"), ("200", "-"), ("100", "96MiB")]]
    cycles = rows["model_cycles"] / rows["measured_cycles"]
    assert cycles.between(0.75, 1.25).all()
    cpu = rows["model_gc_cpu_pct"] / rows["measured_gc_cpu_pct"]
    assert cpu.between(0.5, 1.5).all()


def test_limit_below_live_heap_makes_both_collect_back_to_back_but_cap_cpu():
    """Qualitative only: with GOMEMLIMIT under the live heap both Go and the model run
    >10x more cycles per MiB than GOGC=100 alone and keep GC CPU under the 50% limiter.
    (The model's absolute count is ~4x low here: it has a fixed 4 ms minimum mark phase,
    where Go's cycles on this pointer-free heap take about 1 ms. On the pointer-heavy heap,
    whose marks take tens of ms, the limit below the live heap is within 15 %:
    ``tests/test_goruntime_pacer.py``.)"""
    df = gc_vs_model()
    base, thrash = df.loc[("100", "-")], df.loc[("100", "48MiB")]
    for who in ("measured", "model"):
        per_mib = thrash[f"{who}_cycles"] / thrash["alloc_MiB"]
        assert per_mib > 10 * base[f"{who}_cycles"] / base["alloc_MiB"]
        assert thrash[f"{who}_gc_cpu_pct"] < 50


def test_goroutine_memory_model_explains_worker_pool_peaks_within_25_percent():
    """Peak stack+heap over peak goroutines; runs with >= 10k goroutines (smaller runs are
    dominated by the runtime's baseline heap)."""
    df = worker_pool_vs_model()
    big = df[df["peak_goroutines"] >= 10_000]
    assert np.all((big["measured_MiB"] / big["model_MiB"]).between(0.9, 1.25))
    pool = df[df["mode"] == "pool"]
    assert (pool["peak_goroutines"] <= pool["workers"] + 2).all(), "a pool bounds goroutines"


@pytest.fixture(scope="module")
def patterns():
    return task_patterns_vs_model()


def test_task_costs_come_from_a_program_other_than_the_patterns():
    m = load_measurements()["task_costs"]
    costs, switch, work = op_costs()
    assert m["go_costs"]["repeats"] >= 5 and all(r["repeats"] >= 5 for r in m["task_patterns"])
    assert costs.go_fresh_s > 3 * costs.go_s, "malg + a new stack cost several reused Gs"
    assert 0 < switch < 1e-6 and 0 < work < 1e-6


# (pattern, GOMAXPROCS): the model predicts each within TASK_TOLERANCE of both Go versions.
ROWS = [(p, procs) for p in ("pertask", "pool", "pingpong") for procs in (1, 2)]
VERSIONS = ("1.19", "1.23")
CASES = [(v, row) for v in VERSIONS for row in ROWS]


@pytest.fixture(scope="module")
def patterns_on():
    """``patterns_on(version)``: task_patterns_vs_model for that Go's stored run (cached)."""
    return functools.cache(lambda version: task_patterns_vs_model(go_version=version))


@pytest.mark.parametrize(
    ("go_version", "row"), CASES, ids=[f"{v}-{row[0]}-P{row[1]}" for v, row in CASES]
)
def test_task_patterns_predicted_within_15_percent(patterns_on, go_version, row):
    """ns per task (per round trip for ping-pong), model vs the stored Go measurement
    (the chapter's model-vs-Go tables: 1.19 -11...+12 %, 1.23 -4...+2 %)."""
    assert abs(patterns_on(go_version).loc[row, "error"]) <= TASK_TOLERANCE


def test_from_go_1_21_wakep_takes_a_lock_even_with_no_idle_p():
    """wakep_costs: runtime.wakep with no idle P costs 3 ns on Go 1.19 (it returns on
    npidle == 0) and 56 ns on 1.23 (it claims nmspinning and takes sched.lock first), the
    difference between the two versions' Gosched (86 and 146 ns)."""
    old, new = (load_measurements(go_version=v)["wakep_costs"] for v in ("1.19", "1.23"))
    assert old["wakep_ns"] < 10 and new["wakep_ns"] > 30
    extra = new["gosched_ns"] - old["gosched_ns"]
    assert new["wakep_ns"] - old["wakep_ns"] == pytest.approx(extra, rel=0.3)


@pytest.mark.parametrize("go_version", VERSIONS)
def test_the_cold_start_curve_predicts_waking_parked_children(go_version):
    """Fitted on children that never park, it adds up ``wake_exit`` (10,000 parked children
    readied by a close) to within 20 % (Go 1.19: +3 %, 1.23: -15 %)."""
    assert abs(cold_start_check(go_version=go_version)["error"]) <= 0.2


@pytest.mark.parametrize("go_version", VERSIONS)
def test_a_g_costs_more_the_more_gs_ran_since_it_was_touched(go_version):
    """go_costs' warmth rounds: a child's run and exit cost at least 1.8x as much after
    10,000 other Gs as after 200 (Go 1.19: 165 -> 371 ns; the VM's L3 is 8 MiB)."""
    sweep = load_measurements(go_version=go_version)["task_costs"]["go_costs"]["warmth"]
    assert [w["size"] for w in sweep] == sorted(w["size"] for w in sweep)
    assert sweep[-1]["run_exit_ns"] >= 1.8 * sweep[0]["run_exit_ns"]
    costs, _, _ = op_costs(go_version=go_version)
    assert costs.cold_start.extra(100) == 0 and costs.cold_start.extra(1e6) > 100e-9


@pytest.mark.parametrize("go_version", VERSIONS)
def test_at_gomaxprocs_2_the_spawning_loop_bounds_goroutine_per_task(go_version):
    """Go's busiest thread (the spawner's) is busy for at least 75 % of the run (medians,
    1.19: 340 of 341 ns per task; 1.23: 387 of 491), and so is the model's busiest P
    (children start warm and keep up with the loop; 1.19: 91 %, 1.23: 87 %)."""
    row = next(
        r
        for r in load_measurements(go_version=go_version)["task_costs"]["task_patterns"]
        if (r["mode"], r["gomaxprocs"]) == ("pertask", 2)
    )
    assert row["max_thread_cpu_ns_per_task_median"] >= 0.75 * row["ns_per_task_median"]
    costs, switch, work = op_costs(go_version=go_version)
    run = simulate(
        per_task(row["n"], work_s=work),
        SchedulerConfig(gomaxprocs=2, switch_s=switch, costs=costs),
    )
    assert run.p_busy_s.max() >= 0.75 * run.makespan_s


@pytest.mark.parametrize("go_version", VERSIONS)
def test_go_runs_the_pool_on_one_p_at_a_time(go_version):
    """Why Go's pool gains nothing from a second P (data/go/pool_locality): at GOMAXPROCS 2
    at least 80 % of its tasks are received on the P that sent them (1.19: 89 %, 1.23: 95 %,
    medians), and the sender changes P less than once per 100 tasks."""
    where = pool_locality_vs_model(go_version=go_version)
    assert where["go_same_p_share"] >= 0.8
    assert where["go_sender_moves_per_1k_tasks"] < 10


@pytest.mark.parametrize("go_version", VERSIONS)
def test_the_model_keeps_the_pool_on_one_p_as_go_does(go_version):
    """Its thief sleeps before taking a running P's runnext, as Go's runqgrab does, and
    finds nothing else: 93 % (1.23: 97 %) of the pool's tasks are received on the sending
    P (Go: 89 %, 95 %)."""
    where = pool_locality_vs_model(go_version=go_version)
    assert abs(where["model_same_p_share"] - where["go_same_p_share"]) <= 0.15


@pytest.fixture(scope="module")
def sizes_on():
    """``sizes_on(version)``: pool_sizes_vs_model for that Go's stored run (cached)."""
    return functools.cache(lambda version: pool_sizes_vs_model(go_version=version))


@pytest.mark.parametrize("go_version", VERSIONS)
def test_heavier_pool_tasks_are_predicted_at_gomaxprocs_1(sizes_on, go_version):
    """2, 4 and 8 calls of the task body per task, one P: within 15 % (1.19: -7/+1/+5 %)."""
    df = sizes_on(go_version).xs(1, level="GOMAXPROCS")
    assert (df["error"].abs() <= TASK_TOLERANCE).all()


@pytest.mark.parametrize("go_version", VERSIONS)
def test_a_second_p_does_not_make_gos_pool_much_faster_even_for_heavier_tasks(go_version):
    """Go's fastest of 7 runs at GOMAXPROCS 2 takes at least 0.7 times as long as at 1 for
    every task size (1.19: 1.24/1.05/0.87, 1.23: 1.12/1.09/0.90 for 2/4/8 calls)."""
    runs = {
        (r["reps"], r["gomaxprocs"]): r
        for r in load_measurements(go_version=go_version)["pool_sizes"]["runs"]
    }
    for reps in {k[0] for k in runs}:
        one, two = runs[reps, 1]["cpu_ns_per_task"], runs[reps, 2]["ns_per_task"]
        assert two >= 0.7 * one, reps


@pytest.mark.xfail(strict=True, reason="known gap: Go's tasks cost more on two Ps")
@pytest.mark.parametrize("go_version", VERSIONS)
def test_heavier_pool_tasks_are_predicted_at_gomaxprocs_2(sizes_on, go_version):
    """The model's two Ps split heavier tasks and halve the time (1.19: -61/-50/-39 %;
    1.23: -28/-52/-41 %); Go's tasks cost more when both Ps run them (1.19, 8 calls: 989
    ns of CPU per task against 621 on one P), for a reason not identified
    (pool_sizes_vs_model)."""
    df = sizes_on(go_version).xs(2, level="GOMAXPROCS")
    assert (df["error"].abs() <= TASK_TOLERANCE).all()


def test_the_steal_cost_lets_the_pools_second_p_run_dry_and_the_back_off_keeps_it_asleep():
    """Go 1.19 costs, the 4-worker pool at GOMAXPROCS 2, share of tasks received on the
    sending P: 93 % with both, 79 % without the back-off (same speed), 39 % without the
    cost a steal puts on the sender (both Ps run the pool, ~40 % faster)."""
    costs, switch, work = op_costs()

    def run(**changes):
        cfg = SchedulerConfig(gomaxprocs=2, switch_s=switch, costs=costs)
        return simulate(worker_pool(20_000, work_s=work), dataclasses.replace(cfg, **changes))

    both, eager = run(), run(steal_backoff_s=0.0)
    free = run(costs=dataclasses.replace(costs, steal_s=0.0))
    share = {"both": both.same_p_share, "eager": eager.same_p_share, "free": free.same_p_share}
    assert share["both"] > 0.85 and share["eager"] < share["both"] - 0.05
    assert share["free"] < 0.5 and free.makespan_s < 0.8 * both.makespan_s
    assert eager.makespan_s == pytest.approx(both.makespan_s, rel=0.05)


@pytest.mark.parametrize("go_version", VERSIONS)
def test_go_spawning_at_gomaxprocs_2_rarely_puts_a_thread_to_sleep(go_version):
    """go_costs' spawn rounds at GOMAXPROCS 2: Go's threads sleep about twice per 1,000
    go statements (spawn_sleeps), so the extra time of a go there is not wake-ups."""
    assert spawn_sleeps_vs_go(go_version=go_version)["go_sleeps_per_go"] < 0.01


@pytest.mark.parametrize("go_version", VERSIONS)
def test_the_models_threads_sleep_about_as_rarely_as_gos_in_that_loop(go_version):
    """The model's other P sleeps in runqgrab's back-off, not parked, and wakes no idle P:
    4.1 (1.23: 5.7) sleeps per 1,000 go statements against Go's 2.1 (2.4), within a factor
    of 2.5 (before the back-off was modelled: 167 and 100 futex wake-ups)."""
    where = spawn_sleeps_vs_go(go_version=go_version)
    assert where["model_wakeups_per_go"] < 0.001
    assert where["go_sleeps_per_go"] / 2.5 <= where["model_sleeps_per_go"]
    assert where["model_sleeps_per_go"] <= 2.5 * where["go_sleeps_per_go"]


def test_worker_pool_beats_goroutine_per_task_in_go_and_in_the_model(patterns):
    """At GOMAXPROCS 1 the pool is over 4 times faster (Go 1.19: 137 vs 1,086 ns per task).
    At GOMAXPROCS 2 it is faster by less (137 vs 318 ns, 2.3 times): goroutine per task
    spreads its go and exit work over two Ps, while the pool's two Ps share one channel
    and Go's pool gains nothing."""
    for col in ("measured_ns", "model_ns"):
        pool, pertask = patterns.xs("pool")[col], patterns.xs("pertask")[col]
        assert pool[1] < pertask[1] / 4
        assert pool[2] < pertask[2]


def test_default_op_costs_are_the_calibrated_ones_rounded():
    calibrated, _, _ = op_costs()
    default = OpCosts()
    for name, value in dataclasses.asdict(default).items():
        if name != "cold_start":
            assert value == pytest.approx(getattr(calibrated, name), rel=0.03), name
    assert default.cold_start.distances == calibrated.cold_start.distances
    assert default.cold_start.extra_s == pytest.approx(calibrated.cold_start.extra_s, rel=0.03)
