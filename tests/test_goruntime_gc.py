"""The GC pacer model: GOGC's heap goal, the 4 MiB floor, GOMEMLIMIT, the CPU limiter."""

import numpy as np
import pytest

from razorlab.errors import ValidationError
from razorlab.goruntime import MIB, GCConfig, heap_goal, parse_gogc, simulate_gc, spike, steady


def test_heap_goal_is_live_plus_live_and_roots_times_gogc():
    assert heap_goal(100 * MIB, gogc=100, roots_bytes=10 * MIB) == 210 * MIB
    assert heap_goal(100 * MIB, gogc=50) == 150 * MIB


def test_heap_goal_never_below_4_mib_scaled_by_gogc():
    assert heap_goal(0, gogc=100) == 4 * MIB
    assert heap_goal(MIB // 2, gogc=200) == 8 * MIB


def test_memory_limit_caps_the_goal_but_never_below_the_live_heap():
    goal = heap_goal(64 * MIB, gogc=100, memory_limit_bytes=96 * MIB, non_heap_bytes=10 * MIB)
    assert goal == 85 * MIB, "limit - non-heap - 1 MiB headroom"
    assert heap_goal(64 * MIB, gogc=100, memory_limit_bytes=32 * MIB) == 64 * MIB
    assert heap_goal(64 * MIB, gogc="off") == float("inf")


@pytest.mark.parametrize("bad", [-1, -100, "-5", "lots", float("nan"), True])
def test_negative_or_garbage_gogc_is_rejected_pointing_at_off(bad):
    with pytest.raises(ValidationError, match="GOGC"):
        parse_gogc(bad)


def test_off_and_numbers_parse():
    assert parse_gogc("off") is None and parse_gogc("OFF") is None
    assert parse_gogc("150") == 150 and parse_gogc(0) == 0


def test_bad_gc_configs_raise():
    with pytest.raises(ValidationError):
        GCConfig(gogc=-1)
    with pytest.raises(ValidationError):
        GCConfig(gomaxprocs=0)
    with pytest.raises(ValidationError):
        GCConfig(memory_limit_bytes=0)


def test_higher_gogc_means_fewer_cycles_and_a_bigger_heap():
    wl = steady(64, 2000, duration_s=1.0)
    runs = [simulate_gc(wl, GCConfig(gogc=g, gomaxprocs=2)) for g in (50, 100, 200)]
    assert runs[0].cycles > runs[1].cycles > runs[2].cycles
    assert runs[0].peak_heap_bytes < runs[1].peak_heap_bytes < runs[2].peak_heap_bytes
    assert all(r.pauses == 2 * r.cycles for r in runs), "two STW pauses per cycle"


def test_gogc_off_with_a_limit_collects_only_near_the_limit():
    wl = steady(64, 2000, duration_s=1.0)
    run = simulate_gc(wl, GCConfig(gogc="off", memory_limit_bytes=128 * MIB))
    assert run.cycles > 0
    assert run.peak_heap_bytes <= 128 * MIB


def test_limit_below_live_heap_cpu_limiter_caps_gc_near_half_the_cpu():
    """A live heap of 120 MiB under an 80 MiB limit on 4 busy Ps: back-to-back cycles
    whose assists take 2 of the 4 Ps. In Go's window that is 3 Ps of GC time (the flat
    25 % plus the assists) against 1 of mutator time, so the 4 CPU-second bucket fills
    after about two seconds, less the sweeps between cycles, which drain it."""
    wl = steady(120, 1000, duration_s=4.0)
    cfg = dict(gogc=100, memory_limit_bytes=80 * MIB, gomaxprocs=4)
    limited = simulate_gc(wl, GCConfig(**cfg))
    spiral = simulate_gc(wl, GCConfig(**cfg, cpu_limiter=False))
    on = limited.series["limiter_on"] > 0
    assert on.any(), "seconds of back-to-back GC fill the limiter's bucket"
    assert not on.iloc[: round(1.5 / wl.dt_s)].any(), "not before 1.5 s"
    assert limited.series.loc[on, "gc_cpu_share"].max() <= 0.5 + 1e-9, "then GC CPU <= 50%"
    assert spiral.series.loc[on, "gc_cpu_share"].max() >= 0.75, "without it: assists on"
    assert spiral.gc_cpu_fraction > limited.gc_cpu_fraction
    assert limited.peak_heap_bytes > 80 * MIB, "GOMEMLIMIT is soft: the live heap wins"


def test_live_heap_never_exceeds_heap():
    run = simulate_gc(spike(10, 60, 500, duration_s=2.0), GCConfig(gogc=100))
    s = run.series
    assert (s["heap_b"] >= s["live_b"] - 1).all()


@pytest.mark.parametrize("gogc", [50, 200])
def test_peak_heap_counts_the_heap_just_before_each_sweep(gogc):
    wl = steady(64, 400, duration_s=1.0)
    s = simulate_gc(wl, GCConfig(gogc=gogc)).series  # rows are recorded after a step's sweep
    before = np.r_[64 * MIB, s["heap_b"].to_numpy()[:-1]]  # the heap entering each step
    pre_sweep = before + wl.alloc_bytes_per_s * wl.dt_s * (1 - s["gc_cpu_share"].to_numpy())
    run = simulate_gc(wl, GCConfig(gogc=gogc))
    assert run.peak_heap_bytes == pytest.approx(max(pre_sweep.max(), s["heap_b"].max()))


def test_forced_gc_runs_cycles_the_pacer_would_not_and_costs_cpu():
    wl = steady(64, 400, duration_s=2.0)
    paced = simulate_gc(wl, GCConfig(gogc=100))
    forced = simulate_gc(wl, GCConfig(gogc=100, forced_gc_every_s=0.05))
    assert paced.forced_cycles == 0
    assert forced.forced_cycles > 0 and forced.cycles > 2 * paced.cycles
    assert forced.gc_cpu_fraction > 2 * paced.gc_cpu_fraction, "NumGC and GC CPU count them"
    assert forced.pauses == 2 * forced.cycles


def test_a_forced_gc_during_marking_waits_and_then_runs_its_own_cycle():
    wl = steady(64, 400, duration_s=2.0)
    rare = simulate_gc(wl, GCConfig(gogc=100, forced_gc_every_s=10.0))  # never due in 2 s
    assert rare.cycles == simulate_gc(wl, GCConfig(gogc=100)).cycles
    busy = simulate_gc(wl, GCConfig(gogc=100, forced_gc_every_s=1e-3))  # always pending
    marking = busy.series["marking"].to_numpy()
    assert marking[10:].all(), "back-to-back cycles: a pending runtime.GC() starts the next"


@pytest.mark.parametrize("bad", [0, -1.0, True])
def test_bad_forced_gc_interval_is_rejected(bad):
    with pytest.raises(ValidationError, match="forced_gc_every_s"):
        GCConfig(forced_gc_every_s=bad)
