"""The scavenger (mgcscavenge.go) and a shrinking heap against real Go 1.19 and 1.23.

The comparison uses the committed medians of ``data/go/scavenger`` (five runs per Go
version, GOMAXPROCS 2: ~265 MiB dropped to ~9 MiB while one goroutine allocates); the
model is seeded and deterministic, so nothing here is timed. The overage term of
``memoryLimitHeapGoal``, a known gap of the pacer model before, is modelled here and
tested on the pointer heap's memory-limit runs.
"""

import math

import pytest

from razorlab.errors import ValidationError
from razorlab.goruntime import (
    MIB,
    GCConfig,
    HeapPages,
    Scavenger,
    scavenge_goals,
    shrink,
    simulate_gc,
    steady,
)
from razorlab.goruntime.calibration import (
    SCAVENGER_TOLERANCE,
    load_measurements,
    pacer_run,
    scavenger_vs_model,
)
from razorlab.goruntime.scavenger import MIN_WORK_S, SCAVENGE_PERCENT

GOALS = {"heap_goal": 25 * MIB, "last_heap_goal": 530 * MIB, "last_heap_in_use": 456 * MIB}


def test_after_a_shrink_the_heap_goal_keeps_the_heap_in_use_scaled_plus_10_percent():
    keep, limit_goal = scavenge_goals(
        **GOALS, retained=456 * MIB, mapped=470 * MIB, memory_limit_bytes=None
    )
    assert keep == pytest.approx(456 * MIB * 25 / 530 * 1.1, abs=4096)
    assert keep % 4096 == 0 and math.isinf(limit_goal)


def test_nothing_to_do_when_the_heap_retains_less_than_its_goal():
    keep, _ = scavenge_goals(**GOALS, retained=20 * MIB, mapped=30 * MIB, memory_limit_bytes=None)
    assert math.isinf(keep)
    first, _ = scavenge_goals(
        heap_goal=8 * MIB,
        last_heap_goal=0,
        last_heap_in_use=4 * MIB,
        retained=100 * MIB,
        mapped=100 * MIB,
        memory_limit_bytes=None,
    )
    assert math.isinf(first), "before the first GC the scavenger has no goal"


def test_go_1_19_multiplies_the_limit_by_95_so_its_background_scavenger_ignores_it():
    """mgcscavenge.go in 1.19.8: ``memoryLimit * (100.0 - reduceExtraPercent)``; from 1.20
    ``memoryLimit * (1 - reduceExtraPercent/100.0)``."""
    args = {**GOALS, "retained": 120 * MIB, "mapped": 250 * MIB, "memory_limit_bytes": 256 * MIB}
    assert math.isinf(scavenge_goals(**args, go_version="1.19")[1])
    assert scavenge_goals(**args, go_version="1.23")[1] == pytest.approx(0.95 * 256 * MIB)
    with pytest.raises(ValidationError):
        scavenge_goals(**{**args, "mapped": -1})


def test_allocation_takes_free_pages_before_released_ones_and_sweeping_frees_pages():
    pages = HeapPages(in_use=10.0, free=5.0, released=20.0)
    pages.allocate(8.0)
    assert (pages.in_use, pages.free, pages.released) == (18.0, 0.0, 17.0)
    pages.sweep(12.0)
    assert (pages.in_use, pages.free, pages.retained) == (6.0, 12.0, 18.0)


def test_a_woken_scavenger_works_at_least_1_ms_then_sleeps_and_parks_when_done():
    pages = HeapPages(in_use=10 * MIB, free=100 * MIB)
    s = Scavenger(bytes_per_cpu_s=8e9, gomaxprocs=2)
    s.set_goals(20 * MIB, math.inf)
    assert s.step(0.0, 1e-3, pages, 0) == 0, "parked until woken"
    s.wake(0.0)
    assert s.step(0.0, 1e-3, pages, 0) == pytest.approx(8e9 * MIN_WORK_S)
    assert s.state == "sleeping" and s.wake_at_s > 0.5, "1 ms over the starting ratio 0.001"
    batches = 1
    for gc in range(1, 20):  # each GC start wakes it (finishsweep_m): one batch each
        s.wake(gc * 0.01)
        batches += s.step(gc * 0.01, 1e-3, pages, 0) > 0
    assert pages.retained == pytest.approx(20 * MIB)
    assert batches == math.ceil(90 * MIB / (8e9 * MIN_WORK_S))
    assert s.state == "parked", "a wake that released nothing: bgscavenge parks"
    with pytest.raises(ValidationError):
        Scavenger(bytes_per_cpu_s=0, gomaxprocs=2)


def test_sysmon_wakes_the_scavenger_within_a_round_of_the_sweep_unless_a_gc_did():
    s = Scavenger(bytes_per_cpu_s=8e9, gomaxprocs=2, seed=7)
    s.set_goals(0, math.inf)
    pages = HeapPages(in_use=0, free=1e12)
    s.ready(0.0)
    due = s.sysmon_wake_at_s
    assert 0 <= due < 0.010, "sysmon's next round: within its 10 ms sleep"
    assert Scavenger(bytes_per_cpu_s=8e9, gomaxprocs=2, seed=7).sysmon_wake_at_s == math.inf
    s.step(due - 1e-3, 1e-3, pages, 0)
    assert s.state == "parked"
    s.step(due, 1e-3, pages, 0)
    assert s.state == "sleeping", "woken by sysmon, worked its 1 ms batch"
    s.ready(0.020)
    s.wake(0.020)  # a GC start got there first: the flag is down
    assert math.isinf(s.sysmon_wake_at_s)
    same = Scavenger(bytes_per_cpu_s=8e9, gomaxprocs=2, seed=7)
    same.ready(0.0)
    assert same.sysmon_wake_at_s == due, "seeded"


def test_without_gcs_the_controller_paces_the_scavenger_to_1_percent_of_gomaxprocs():
    pages = HeapPages(in_use=10e6, free=1e12)
    s = Scavenger(bytes_per_cpu_s=8e9, gomaxprocs=2)
    s.set_goals(0, math.inf)
    s.wake(0.0)
    steps = 60_000  # a minute of 1 ms steps
    for k in range(steps):
        s.step(k * 1e-3, 1e-3, pages, 0)
    share = s.cpu_s / (steps * 1e-3 * 2)
    assert share == pytest.approx(SCAVENGE_PERCENT / 100, rel=0.05)
    assert s.released_total == pytest.approx(s.cpu_s * 8e9)


def test_under_a_limit_the_allocator_releases_what_takes_mapped_memory_over_it():
    pages = HeapPages(in_use=200.0, free=60.0)
    s = Scavenger(bytes_per_cpu_s=1e9, gomaxprocs=2)
    assert s.eager(pages, non_heap=10.0, limit=256.0) == pytest.approx(14.0)
    assert pages.retained + 10.0 == pytest.approx(256.0)
    assert s.eager(pages, non_heap=10.0, limit=256.0) == 0


@pytest.mark.parametrize("limit", ["256MiB", "128MiB", "160MiB"])
@pytest.mark.parametrize("go", ["1.19", "1.23"])
def test_mapped_memory_stays_at_the_limit_on_the_pointer_heap(go, limit):
    """Free pages left by a sweep count against GOMEMLIMIT until released; the allocator
    releases them (``Scavenger.eager``), so only a heap that is itself over the limit
    (at its peak, before the overage term of ``memoryLimitHeapGoal`` lowers the goal)
    takes mapped memory past it."""
    data = load_measurements(go_version=go)["gc_pointer_heap"]
    run = pacer_run(data, next(r for r in data["summary"] if r["gomemlimit"] == limit))
    cfg = run.config
    mapped = run.series["retained_b"] + cfg.non_heap_bytes
    heap_over = run.peak_heap_bytes + cfg.non_heap_bytes - cfg.memory_limit_bytes
    assert mapped.max() - cfg.memory_limit_bytes <= max(0.0, heap_over) + 1


def test_a_run_reports_retained_and_released_memory_and_the_scavengers_cpu():
    run = simulate_gc(shrink(265, 9, 1500, duration_s=1.0), GCConfig(gomaxprocs=2, mutators=1))
    s = run.series
    assert s["retained_b"].iloc[0] >= 265 * MIB
    assert s["retained_b"].iloc[-1] < 40 * MIB
    assert s["released_b"].iloc[-1] > 200 * MIB
    assert 0 < run.scavenger_cpu_fraction < 0.05
    steady_run = simulate_gc(steady(64, 500, 1.0), GCConfig(gomaxprocs=2))
    assert steady_run.series["released_b"].iloc[-1] == 0, "a steady heap keeps its pages"
    with pytest.raises(ValidationError):
        GCConfig(scavenge_bytes_per_cpu_s=0)


@pytest.fixture(scope="module", params=["1.19", "1.23"])
def release(request):
    return request.param, scavenger_vs_model(go_version=request.param)


def test_every_figure_within_20_percent_of_go(release):
    """Medians of Go's five runs against the model's medians over five seeds (where
    sysmon's rounds fall); the model's scavenger runs at the speed measured for the
    background scavenger alone in the idle program, the same way on both versions. 20 %:
    Go's own runs spread up to -38 % around their median release times, +33 % around the
    MiB per cycle and +-24 % around the GC rate. Today: 1.19 within -20...+17 %, 1.23
    within -12...+19 % (its scavenger's CPU +18 %); the retained heap at the end, which Go
    holds to +-2 % from run to run, is +16 % and +13 %."""
    _, df = release
    assert df["error"].abs().max() <= SCAVENGER_TOLERANCE, df


def test_go_1_23_reports_its_scavengers_cpu_and_1_19_does_not():
    assert "scavenger_cpu_ms" in scavenger_vs_model(go_version="1.23").index
    assert "scavenger_cpu_ms" not in scavenger_vs_model(go_version="1.19").index


def test_at_freeosmemorys_speed_the_1_19_model_releases_too_fast():
    """Why the model takes the idle scavenger's speed: ``debug.FreeOSMemory`` releases in
    one call, faster per CPU-second, and with its speed the 1.19 model releases 29-33 %
    too fast."""
    free_os = scavenger_vs_model(go_version="1.19", speed="free_os")
    assert (free_os.loc[["release_half_ms", "release_90_ms"], "error"] < -0.2).all()
    with pytest.raises(ValidationError):
        scavenger_vs_model(go_version="1.19", speed="background")  # 1.19 has no metric


def test_the_default_scavenging_speed_is_go_1_19s_measured_one():
    idle = load_measurements()["scavenger"]["summary"]["idle_bytes_per_s"]
    assert GCConfig().scavenge_bytes_per_cpu_s == pytest.approx(idle, rel=0.02)
