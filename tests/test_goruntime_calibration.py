"""The models agree with a real Go runtime (data/go/measurements.json) within stated tolerances.

The measurements were taken once with ``python data/go/run_measurements.py`` (Go 1.19,
linux/amd64, 2 shared vCPUs) and committed; CI does not need Go. Tolerances are
stated per test and say why they are what they are.
"""

import dataclasses
import functools

import numpy as np
import pytest

from razorlab.goruntime import OpCosts
from razorlab.goruntime.calibration import (
    TASK_TOLERANCE,
    gc_vs_model,
    goroutine_memory_vs_model,
    load_measurements,
    op_costs,
    sched_latency_vs_model,
    stack_growth_vs_model,
    task_patterns_vs_model,
    worker_pool_vs_model,
)


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
    (The model's absolute count is ~3x low: it has a fixed 4 ms minimum mark phase.)"""
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


# (pattern, GOMAXPROCS) the model predicts within TASK_TOLERANCE of Go 1.19 and of Go 1.23
# (the same rows on both); the others are known gaps (see task_patterns_vs_model and the
# chapter): xfail(strict) so that a model that closes one must move it here.
HOLDS = [("pertask", 1), ("pool", 1), ("pingpong", 1), ("pingpong", 2)]
GAPS = [("pertask", 2), ("pool", 2)]
GO_VERSIONS = ("1.19", "1.23")


@pytest.fixture(scope="module")
def patterns_on():
    """``patterns_on(version)``: task_patterns_vs_model for that Go's stored run (cached)."""
    return functools.cache(lambda version: task_patterns_vs_model(go_version=version))


@pytest.mark.parametrize("go_version", GO_VERSIONS)
@pytest.mark.parametrize("row", HOLDS, ids=str)
def test_task_patterns_predicted_within_15_percent(patterns_on, go_version, row):
    """ns per task (per round trip for ping-pong), model vs the stored Go measurement."""
    assert abs(patterns_on(go_version).loc[row, "error"]) <= TASK_TOLERANCE


@pytest.mark.xfail(strict=True, reason="known gap: see the chapter's model-vs-Go table")
@pytest.mark.parametrize("go_version", GO_VERSIONS)
@pytest.mark.parametrize("row", GAPS, ids=str)
def test_task_patterns_known_gaps(patterns_on, go_version, row):
    assert abs(patterns_on(go_version).loc[row, "error"]) <= TASK_TOLERANCE


def test_worker_pool_beats_goroutine_per_task_in_go_and_in_the_model(patterns):
    """At GOMAXPROCS 1 the pool is over 4 times faster (Go: 139 vs 1,242 ns per task). At
    GOMAXPROCS 2 it is faster by less (Go: 141 vs 328 ns, 2.3 times; the figures over 4x
    came from a loaded machine): goroutine per task spreads its go and exit work over two
    Ps, while the pool's two Ps share one channel and Go's pool gains nothing."""
    for col in ("measured_ns", "model_ns"):
        pool, pertask = patterns.xs("pool")[col], patterns.xs("pertask")[col]
        assert pool[1] < pertask[1] / 4
        assert pool[2] < pertask[2]


def test_default_op_costs_are_the_calibrated_ones_rounded():
    calibrated, _, _ = op_costs()
    for name, value in dataclasses.asdict(OpCosts()).items():
        assert value == pytest.approx(getattr(calibrated, name), rel=0.03), name
