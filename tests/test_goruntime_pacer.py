"""Go's pacer controller (mgcpacer.go) and the pacer model against real Go 1.19.

The comparison uses the committed medians of ``data/go/gc_pointer_heap`` (three runs per
configuration, GOMAXPROCS 2, ~72 MiB pointer-heavy live set); the model is
deterministic, so nothing here is timed. ``benchmarks/goruntime_pacer.py`` prints the table.
"""

import pytest

from razorlab.errors import ValidationError
from razorlab.goruntime import MIB, GCConfig, heap_goal, simulate_gc, steady
from razorlab.goruntime.calibration import (
    MEASURED_GO_VERSIONS,
    load_measurements,
    pacer_run,
    pacer_vs_model,
    sweep_gaps_vs_model,
)
from razorlab.goruntime.pacer import (
    ConsMark,
    FractionalSlices,
    assist_work_per_byte,
    cons_mark_sample,
    limit_headroom,
    mark_workers,
    runway_bytes,
    trigger_point,
)
from razorlab.goruntime.traces import gc_cycles

BAND = 0.15


@pytest.mark.parametrize(
    ("procs", "dedicated", "fractional"),
    [(1, 0, 0.25), (2, 0, 0.25), (3, 0, 0.25), (4, 1, 0.0), (6, 1, 0.5 / 6), (8, 2, 0.0)],
)
def test_background_workers_are_a_quarter_of_the_ps_dedicated_or_fractional(
    procs, dedicated, fractional
):
    w = mark_workers(procs)
    assert (w.dedicated, w.fractional) == (dedicated, pytest.approx(fractional))


def test_idle_ps_run_idle_workers_and_mutators_lose_the_fractional_share():
    mutator, background, idle = mark_workers(2).shares(2, 1)
    assert (mutator, background, idle) == (0.75, 0.5, 0.75)
    assert mark_workers(4).shares(4, 4) == (3, 1, 0), "one dedicated P, the rest mutate"


def test_trigger_is_goal_minus_runway_within_45_and_61_64ths_or_goal_minus_4_mib():
    marked, goal = 100 * MIB, 200 * MIB
    assert trigger_point(marked, goal, 0) == goal - 4 * MIB, "large heap: goal - 4 MiB"
    assert trigger_point(marked, goal, 10**12) == marked + 100 * MIB * 45 / 64
    assert trigger_point(marked, goal, 20 * MIB) == 180 * MIB
    assert trigger_point(2 * MIB, 4 * MIB, 0) == 2 * MIB + 2 * MIB * 61 / 64, "small: 61/64"
    assert trigger_point(100 * MIB, 90 * MIB, 0) == 90 * MIB, "goal under the marked heap"


def test_runway_is_cons_mark_times_three_times_the_scan_work():
    assert runway_bytes(0.5, 80 * MIB) == pytest.approx(120 * MIB)


def test_assists_are_proportional_from_the_trigger_and_unbounded_past_the_stretched_goal():
    m = MIB
    common = dict(goal=200 * m, triggered=150 * m, work_expected=100 * m, max_work=150 * m)
    ratio = lambda live, done: assist_work_per_byte(  # noqa: E731
        heap_live=live * m, work_done=done * m, gogc=100, **common
    )
    assert ratio(150, 0) == pytest.approx(100 / 50), "remaining work / heap left, at the trigger"
    assert ratio(175, 50) == pytest.approx(50 / 25)
    assert ratio(210, 50) == pytest.approx(100 / 10), "past the goal: goal x 1.1, worst-case work"
    assert ratio(230, 50) == float("inf")
    assert ratio(150, 120) == pytest.approx(30 / 50 / 1.5), (
        "more work than expected: goal stretched"
    )


def test_cons_mark_sample_counts_idle_marking_for_the_gc():
    busy = cons_mark_sample(allocated=30.0, scan_work=90.0, assist_share=0.0, idle_share=0.0)
    assert busy == pytest.approx(30 * 0.25 / (90 * 0.75))
    idle = cons_mark_sample(allocated=30.0, scan_work=90.0, assist_share=0.0, idle_share=0.5)
    assert idle == pytest.approx(3 * busy)
    assert cons_mark_sample(allocated=0.0, scan_work=90.0, assist_share=0, idle_share=0) is None


def test_cons_mark_pi_controller_in_119_settles_and_121_takes_the_max_of_the_last_four():
    old = ConsMark("1.19")
    values = [old.update(2.0) for _ in range(40)]
    assert values[0] == pytest.approx(1.8), "kp 0.9 from zero"
    assert values[-1] == pytest.approx(2.0, rel=0.01), "overdamped, but it settles"
    new = ConsMark("1.21")
    assert [new.update(s) for s in (1.0, 3.0, 2.0, 2.0, 2.0, 2.0, 1.0)] == [
        1.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0,
    ]  # fmt: skip


def test_memory_limit_headroom_is_1_mib_before_121_and_3_percent_after():
    assert limit_headroom(100 * MIB, "1.19") == MIB
    assert limit_headroom(100 * MIB, "1.21") == pytest.approx(3 * MIB)
    assert limit_headroom(10 * MIB, "1.23") == MIB, "at least 1 MiB"
    budget = dict(memory_limit_bytes=210 * MIB, non_heap_bytes=10 * MIB)
    assert heap_goal(150 * MIB, gogc="off", **budget) == 199 * MIB
    assert heap_goal(150 * MIB, gogc="off", go_version="1.21", **budget) == 194 * MIB


@pytest.mark.parametrize("bad", ["1.18", "2.0", "go1.19", "x"])
def test_unmodelled_go_versions_are_refused(bad):
    with pytest.raises(ValidationError, match="1.19"):
        GCConfig(go_version=bad)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_bad_mutator_counts_are_refused(bad):
    with pytest.raises(ValidationError, match="mutators"):
        GCConfig(mutators=bad)


def test_an_idle_p_marks_for_free_and_gc_cpu_fraction_leaves_it_out():
    wl = steady(64, 300, duration_s=2.0)
    one = simulate_gc(wl, GCConfig(gomaxprocs=2, mutators=1, scan_bytes_per_cpu_s=300 * MIB))
    assert one.idle_cpu_fraction > 0
    both = simulate_gc(wl, GCConfig(gomaxprocs=2, mutators=2, scan_bytes_per_cpu_s=300 * MIB))
    assert both.idle_cpu_fraction == 0
    # from the same trigger (the first cycle), the idle P shortens marking; later cycles
    # start where each run's own cons/mark puts them, so their lengths are not comparable
    first_one, first_both = gc_cycles(one)[0], gc_cycles(both)[0]
    assert first_one.heap0 == first_both.heap0
    assert first_one.mark_s < first_both.mark_s, "the idle P shortens marking"


def test_a_fixed_allocation_stops_the_run():
    wl = steady(64, 400, duration_s=10.0)
    run = simulate_gc(wl, GCConfig(gogc=100), until_allocated_bytes=512 * MIB)
    assert 512 * MIB <= run.allocated_bytes < 513 * MIB
    assert run.elapsed_s < 10.0 and len(run.series) == round(run.elapsed_s / wl.dt_s)


def test_the_stored_measurements_record_go_and_the_machine():
    data = load_measurements()["gc_pointer_heap"]
    assert data["machine"]["go_version"].startswith("go version go1.19")
    assert {r["repeats"] for r in data["summary"]} == {3}


@pytest.fixture(scope="module")
def table():
    return pacer_vs_model()


def test_peak_heap_within_15_percent_of_go_in_every_configuration(table):
    assert table["peak_error"].abs().max() <= BAND, table["peak_error"]


def test_gc_cycles_within_15_percent_of_go_in_every_configuration(table):
    assert table["cycles_error"].abs().max() <= BAND, table["cycles_error"]


def test_gc_cpu_within_15_percent_of_go_in_three_of_the_four_gogc_configurations(table):
    """GOGC 50/100/200 with one mutator and GOGC=100 with two: -1, -1, +8, -2 % today, so
    all four (the target is three)."""
    gogc_only = table.xs("-", level="GOMEMLIMIT")
    assert (gogc_only["cpu_error"].abs() <= BAND).sum() >= 3, gogc_only["cpu_error"]
    assert (gogc_only["cpu_error"].abs() <= BAND).all(), gogc_only["cpu_error"]


def test_gc_cpu_within_15_percent_under_the_limits_near_the_live_heap(table):
    """128 and 160 MiB: +5 and -1 %."""
    near = table[table.index.get_level_values("GOMEMLIMIT").isin(["128MiB", "160MiB"])]
    assert len(near) == 2, near
    assert near["cpu_error"].abs().max() <= BAND, near["cpu_error"]


def test_gc_cpu_under_memory_limits_within_15_percent(table):
    """Every limit, the one below the live heap included: 256, 128, 160, 48 MiB at +6, +5,
    -1, +8 % (GOGC=off + 256 MiB was +20 % on the measurement before)."""
    limited = table.drop("-", level="GOMEMLIMIT")
    assert len(limited) == 4, limited
    assert limited["cpu_error"].abs().max() <= BAND, limited["cpu_error"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="known gap: assists per cycle +4/-30/-43/+14 % without a limit (GOGC 50/100/"
    "200, 100 with 2 mutators); Go's, one mutator: 4.5-11 ms a cycle",
)
def test_assists_per_cycle_near_go_under_gogc_and_low_under_a_memory_limit(table):
    """gctrace's assist CPU per cycle: within 20 % for the four GOGC-only runs, and at most
    50 % low under a memory limit. It held (+3, +10, -18, -18 %; 23-49 % low) on the first
    measurement, taken at load average 8.3 on the first 2-vCPU machine, where each mark
    took three to seven times as long. On the faster machine of the re-measurement Go
    assists 3.5-13 ms per cycle with one mutator (26 with two), and with each
    configuration's speed while marking taken from its gctrace (assist time out) the
    model is -1, -35 (GOGC 100: 3.3 vs 5.0 ms), -29 and -3 % without a limit, 0, -3, -4 %
    under the limits; on the latest (with the limit below the live heap added) +4, -30
    (3.7 vs 5.3 ms), -43 (2.5 vs 4.5 ms), +14 % without a limit."""
    gogc_only = table.xs("-", level="GOMEMLIMIT")
    assert gogc_only["assist_error"].abs().max() <= 0.2, gogc_only["assist_error"]
    assert table["assist_error"].between(-0.5, 0.2).all(), table["assist_error"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="known gap: assists per cycle under GOGC=off + 256 MiB -32 % (5.7 vs 8.4 ms) and "
    "under the 48 MiB limit below the live heap +20 % (15.6 vs 13.0 ms)",
)
def test_assists_per_cycle_within_15_percent_under_every_memory_limit(table):
    """Held on the measurement before (0, -3, -4 % for 256, 128, 160 MiB); on the latest,
    256 MiB is -32 % and the limit below the live heap +20 %."""
    limited = table.drop("-", level="GOMEMLIMIT")
    assert len(limited) == 4, limited
    assert limited["assist_error"].abs().max() <= BAND, limited["assist_error"]


def test_assists_per_cycle_within_15_percent_under_the_limits_near_the_live_heap(table):
    """128 and 160 MiB: +3 and -8 %."""
    near = table[table.index.get_level_values("GOMEMLIMIT").isin(["128MiB", "160MiB"])]
    assert len(near) == 2, near
    assert near["assist_error"].abs().max() <= BAND, near["assist_error"]


@pytest.mark.parametrize("go_version", MEASURED_GO_VERSIONS)
def test_below_the_live_heap_the_gap_between_cycles_is_the_sweep(go_version):
    """Under the 48 MiB limit (live heap 72 MiB) Go's cycles follow each other after a gap
    of 2.9 (1.19) and 5.9 ms (1.23, medians): gcStart sweeping every span. The model's gap
    is the heap in use over the sweep speed of a timed ``runtime.GC()`` (whose own sweep
    spread 1.6-5.9 ms between runs), over both Ps: -18 and -22 %. Within 25 %; Go's gap
    also holds the two stop-the-world pauses, which the model leaves out."""
    gaps = sweep_gaps_vs_model(go_version=go_version)
    assert abs(gaps["error"]) <= 0.25, gaps


LIMITS = ["256MiB", "128MiB", "160MiB"]


@pytest.mark.parametrize("limit", LIMITS)
def test_under_a_memory_limit_the_cpu_limiter_stays_off(limit):
    """The model's low assists under GOMEMLIMIT do not come from the GC CPU limiter: it
    never fills (``gcCPULimiter`` could only switch assists off)."""
    data = load_measurements()["gc_pointer_heap"]
    run = pacer_run(data, next(r for r in data["summary"] if r["gomemlimit"] == limit))
    assert not run.series["limiter_on"].any()


def test_a_fractional_worker_waits_for_sysmon_then_runs_to_1_2_times_its_goal():
    p = FractionalSlices(0.25, start_s=0.0)
    assert p.take(0.0, 0.0199) == 0, "the mutator keeps its P until sysmon preempts it"
    burst = p.take(0.0199, 0.01)
    assert burst == pytest.approx(0.3 * 0.02 / 0.7)  # (w + x) / (t + x) = 1.2 x 0.25
    worked = burst + sum(p.take(0.0299 + i * 1e-3, 1e-3) for i in range(970))
    assert worked / 1.0 == pytest.approx(0.3, abs=0.02), "long run: 1.2 x the goal"
    assert FractionalSlices(0.0, 0.0).take(0.0, 1.0) == 0


def test_the_independent_marking_speed_keeps_peaks_and_cycles_near_go():
    """With the marking speed of a forced GC before the phase (not of the phase's own
    cycles) peak heap and cycles stay within 15 % (on the loaded first measurement one
    cycle count was +18 %; on the re-measurement the worst is -14 %)."""
    forced = pacer_vs_model(marking="forced")
    assert forced["peak_error"].abs().max() <= BAND
    assert (forced["cycles_error"].abs() <= BAND).sum() >= len(forced) - 1
