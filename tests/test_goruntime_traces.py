"""Go's own views of model runs: schedtrace/gctrace lines in Go 1.19's format, P timelines.

The line regexes are built here from the argument lists of Go 1.19.8's ``print`` calls
(``schedtrace`` in ``proc.go``, ``gcMarkTermination`` in ``mgc.go``), independently of the
module's parser, and must match both the model's lines and real Go's stored output.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from razorlab.errors import NotFoundError, ValidationError
from razorlab.goruntime import (
    GCConfig,
    SchedulerConfig,
    calibration,
    per_task,
    simulate,
    simulate_gc,
    sleep_probe,
    steady,
)
from razorlab.goruntime.gc import MIB
from razorlab.goruntime.plots import error_band_figure, gc_guide_figure, timeline_figure
from razorlab.goruntime.traces import (
    fmt_ns_as_ms,
    gc_cycles,
    gctrace,
    go_trace,
    parse_gctrace,
    parse_schedtrace,
    schedtrace,
    trace_scheduler,
)

TRACES = Path(__file__).parents[1] / "data" / "go" / "traces"
INT, MS, SEC = r"\d+", r"\d+(?:\.\d{1,3})?", r"\d+\.\d{3}"
# print("gc ", numgc, " @", itoaDiv(ms, 3), "s ", util, "%: ", fmtNSAsMS x3 joined by "+",
#       " ms clock, ", five fmtNSAsMS: a+b/c/d+e, " ms cpu, ", heap0>>20, "->", heap1>>20,
#       "->", heap2>>20, " MB, ", goal>>20, " MB goal, ", stacks>>20, " MB stacks, ",
#       globals>>20, " MB globals, ", maxprocs, " P"), then " (forced)" if userForced
GC_PRINT = [
    "gc ", INT, " @", SEC, "s ", INT, "%: ", MS, "+", MS, "+", MS, " ms clock, ",
    MS, "+", MS, "/", MS, "/", MS, "+", MS, " ms cpu, ", INT, "->", INT, "->", INT, " MB, ",
    INT, " MB goal, ", INT, " MB stacks, ", INT, " MB globals, ", INT, " P",
]  # fmt: skip
# print("SCHED ", ms, "ms: gomaxprocs=", n, " idleprocs=", n, " threads=", n,
#       " spinningthreads=", n, " idlethreads=", n, " runqueue=", n), then per P " [a b]"
SCHED_PRINT = [
    "SCHED ", INT, "ms: gomaxprocs=", INT, " idleprocs=", INT, " threads=", INT,
    " spinningthreads=", INT, " idlethreads=", INT, " runqueue=", INT,
]  # fmt: skip
P_DETAIL = [
    "  P", INT, ": status=", INT, " schedtick=", INT, " syscalltick=", INT, " m=", r"-?\d+",
    " runqsize=", INT, " gfreecnt=", INT, " timerslen=", INT,
]  # fmt: skip


def _regex(parts: list[str], tail: str = "") -> re.Pattern:
    literal = [re.escape(p) if i % 2 == 0 else f"({p})" for i, p in enumerate(parts)]
    return re.compile("".join(literal) + tail)


GC_RE = _regex(GC_PRINT, r"( \(forced\))?")
SCHED_RE = _regex(SCHED_PRINT, r" \[(\d+(?: \d+)*)\]")
SCHED_DETAIL_RE = _regex(SCHED_PRINT, " gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0")
P_DETAIL_RE = _regex(P_DETAIL)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (500, "0"),
        (3_000, "0.003"),
        (11_000, "0.011"),
        (99_999, "0.099"),
        (100_000, "0.10"),
        (1_200_000, "1.2"),
        (9_999_999, "9.9"),
        (10_000_000, "10"),
        (123_456_789, "123"),
    ],
)
def test_fmt_ns_as_ms_follows_go(ns, text):
    assert fmt_ns_as_ms(ns) == text


def test_real_go_output_matches_the_format_regexes():
    text = (TRACES / "gctrace_gc_pointer_heap_gogc100.txt").read_text()
    gc_lines = [x for x in text.splitlines() if x.startswith("gc ")]
    assert gc_lines and all(GC_RE.fullmatch(x) for x in gc_lines)
    assert len(parse_gctrace("\n".join(gc_lines))) == len(gc_lines)
    for path in TRACES.glob("schedtrace_*.txt"):
        lines = [x for x in path.read_text().splitlines() if x.startswith("SCHED")]
        assert lines and all(SCHED_RE.fullmatch(x) for x in lines), path.name
        assert len(parse_schedtrace(path.read_text())) == len(lines)


CONFIGS = {
    "gogc100": (steady(64, 400, 1.0), GCConfig(gogc=100)),
    "gogc50_p2": (steady(72, 300, 1.0), GCConfig(gogc=50, gomaxprocs=2, mutators=1)),
    "limit_below_live": (steady(64, 400, 0.5), GCConfig(gogc=100, memory_limit_bytes=60 * MIB)),
    "forced": (steady(64, 400, 1.0), GCConfig(gogc=100, forced_gc_every_s=0.1)),
    "roots": (steady(32, 200, 1.0), GCConfig(gogc=200, roots_bytes=3 * MIB)),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gctrace_lines_are_gos_format_and_agree_with_the_run(name):
    wl, cfg = CONFIGS[name]
    run = simulate_gc(wl, cfg)
    lines = gctrace(run)
    unfinished = bool(run.series["marking"].iloc[-1])
    assert len(lines) == run.cycles - unfinished > 0  # printed at mark termination only
    rows = [GC_RE.fullmatch(line) for line in lines]
    assert all(rows)
    parsed = parse_gctrace("\n".join(lines))
    assert [int(r["numgc"]) for r in parsed] == list(range(1, len(lines) + 1))
    assert {r["procs"] for r in parsed} == {cfg.gomaxprocs}
    assert {r["stacks_mb"] for r in parsed} == {cfg.roots_bytes >> 20}
    assert sum(r["forced"] for r in parsed) <= run.forced_cycles
    goals = {int(g) >> 20 for g in run.series["goal_b"] if np.isfinite(g)}
    marked = {int(h) >> 20 for h in run.series["heap_b"]}
    peak = int(run.peak_heap_bytes) >> 20
    for r in parsed:
        assert r["goal_mb"] in goals and r["heap2_mb"] in marked
        assert r["heap0_mb"] <= r["heap1_mb"] <= peak
    cycles = gc_cycles(run)
    assert [c.start_s for c in cycles] == sorted(c.start_s for c in cycles)
    gc_cpu = sum(c.assist_cpu_s + c.background_cpu_s for c in cycles)
    total = run.gc_cpu_fraction * cfg.gomaxprocs * run.elapsed_s
    if not unfinished:
        assert gc_cpu == pytest.approx(total, rel=1e-9)
        assert parsed[-1]["cpu_pct"] == int(100 * cycles[-1].gc_cpu_fraction)
    assert gc_cpu <= total * (1 + 1e-9)
    marks = [c.mark_s for c in cycles]
    # identical back-to-back cycles are cut evenly from the series: a step off each at most
    tol = 0.02 if name == "limit_below_live" else 1e-6
    assert np.mean(marks) == pytest.approx(run.mean_mark_s, rel=tol)


def test_forced_cycles_are_marked_forced():
    run = simulate_gc(steady(64, 50, 1.0), GCConfig(gogc=100, forced_gc_every_s=0.1))
    parsed = parse_gctrace("\n".join(gctrace(run)))
    assert run.forced_cycles > 0
    assert sum(r["forced"] for r in parsed) >= run.forced_cycles - 1  # the last may not end


def test_schedtrace_lines_are_gos_format_and_the_run_is_unchanged():
    wl, cfg = sleep_probe(3, samples=60), SchedulerConfig(gomaxprocs=2)
    traced = trace_scheduler(wl, cfg, every_s=0.1)
    assert traced.run.summary().equals(simulate(wl, cfg).summary())  # observing only
    lines = schedtrace(traced)
    assert len(lines) >= 5
    for line in lines:
        m = SCHED_RE.fullmatch(line)
        assert m, line
        assert len(m.group(8).split()) == 2
    rows = parse_schedtrace("\n".join(lines))
    assert rows[0]["ms"] == 0
    assert all(b["ms"] - a["ms"] >= 100 for a, b in zip(rows, rows[1:], strict=False))
    for r in rows:
        assert r["gomaxprocs"] == 2 and r["idleprocs"] <= 2 and r["spinningthreads"] <= 2
        assert r["threads"] <= traced.run.max_threads + 1  # busy Ms at peak + sysmon
    # 3 hogs on 2 Ps while the probe sleeps: one G waits, locally or globally (as in Go,
    # data/go/traces/schedtrace_sched_latency_p2_hogs3.txt), until the hogs finish
    assert all(r["runqueue"] + sum(r["local"]) == 1 for r in rows[1:-1])


def test_scheddetail_has_a_line_per_p():
    traced = trace_scheduler(sleep_probe(3, samples=20), SchedulerConfig(gomaxprocs=3))
    lines = schedtrace(traced, detail=True)
    heads = [x for x in lines if x.startswith("SCHED")]
    assert heads and all(SCHED_DETAIL_RE.fullmatch(x) for x in heads)
    p_lines = [x for x in lines if x.startswith("  P")]
    assert len(p_lines) == 3 * len(heads) and all(P_DETAIL_RE.fullmatch(x) for x in p_lines)


def test_timeline_has_a_lane_per_p_and_marks_stop_the_world():
    costs, switch_s, work_s = calibration.op_costs()  # as the scheduler chapter runs it
    cfg = SchedulerConfig(gomaxprocs=1, switch_s=switch_s, costs=costs)
    traced = trace_scheduler(per_task(20_000, work_s=work_s), cfg, every_s=1e-3, spans_until_s=1)
    assert traced.stw_s and len(traced.stw_s) == traced.run.gc_cycles
    spans = sorted(traced.spans, key=lambda s: s.start_s)
    assert len(spans) > 20_000  # main's runs and every child's
    assert all(a.end_s <= b.start_s + 1e-12 for a, b in zip(spans, spans[1:], strict=False))
    stw = traced.stw_s[0]
    fig = timeline_figure(traced, window_s=(stw - 1e-4, stw + 1e-4))
    assert set(fig.data[0].y) == {"P0"} and 0 < len(fig.data[0].x) < 2_000
    assert len(fig.layout.shapes) == 1  # the stop-the-world, dotted


def test_go_trace_reads_only_stored_traces():
    assert go_trace("schedtrace_sched_latency_p2_hogs3.txt").startswith("SCHED 0ms")
    for name in ("../README.md", "missing.txt"):
        with pytest.raises(NotFoundError):
            go_trace(name)


def test_trace_scheduler_rejects_a_zero_period():
    with pytest.raises(ValidationError):
        trace_scheduler(sleep_probe(1, samples=2), every_s=0)


def test_gc_guide_figure_shows_live_new_goal_and_cpu():
    fig = gc_guide_figure("off", 200, 64)
    assert [t.name for t in fig.data] == ["live heap", "new heap", "heap goal", "GC CPU %"]
    assert "GOMEMLIMIT=200 MiB" in fig.layout.title.text


def test_error_band_figure_shades_the_band_and_pins_outliers_to_the_edge():
    errors = pd.DataFrame(
        {"peak": [0.05, -0.9], "cycles": [0.2, 2.11]}, index=[("100", "-"), ("200", "-")]
    )
    fig = error_band_figure({"1.19": errors, "1.23": errors}, 0.15)
    assert [t.name for t in fig.data] == ["peak", "cycles", "peak", "cycles"]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]
    assert list(fig.data[0].x) == ["100 -", "200 -"]
    assert list(fig.data[0].y) == [5.0, -50.0] and fig.data[0].text == ("", "-90 %")
    assert fig.data[1].marker.symbol == ("circle", "triangle-up")
    bands = [s for s in fig.layout.shapes if s.y0 == -15 and s.y1 == 15]
    assert len(bands) == 2, "one ±15 % band per version"
