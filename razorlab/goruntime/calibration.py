"""The models next to a real Go runtime: ``data/go/measurements*.json`` versus our numbers.

Scenario: a model is only worth teaching if it predicts what the real runtime
does. ``data/go/run_measurements.py`` runs small Go programs of our own (with the
machine and Go version recorded) and commits their output; this module loads that
file and lines each measurement up with the model's prediction, as tables the
notebooks show and the tests hold to stated tolerances.

Design note: predictions come from the same public functions learners call
(``goroutine_bytes``, ``stack_size_for``, ``simulate`` on ``sleep_probe``,
``heap_goal``, ``simulate_gc``); nothing here is fitted at load time. The pacer
comparison (``pacer_vs_model``) feeds in only what the Go program and the machine
report (live heap, stacks, allocation and marking speed); no constant is tuned to it. The
calibrated constants (bookkeeping bytes, blocked-frame bytes, mark time) live,
with their provenance, in the model modules.

Versions: ``measurements.json`` is Go 1.19 (Debian bookworm's ``golang-go``);
``measurements_go1.23.json`` holds the two experiments the pacer and scheduler models are
compared on (``gc_pointer_heap``, ``task_costs``) on Go 1.23 from bookworm-backports.
``pacer_vs_model``, ``op_costs`` and ``task_patterns_vs_model`` take ``go_version`` to pick
the file, and the pacer model runs with the version that file recorded (its memory-limit
headroom and cons/mark rule follow it); the scheduler model has no version switch, its
costs come from that version's own ``go_costs``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from razorlab.errors import NotFoundError, ValidationError
from razorlab.goruntime.costs import ColdStart, OpCosts
from razorlab.goruntime.gc import (
    MIB,
    AllocWorkload,
    GCConfig,
    GCRun,
    heap_goal,
    shrink,
    simulate_gc,
    steady,
)
from razorlab.goruntime.memory import G_BOOKKEEPING_BYTES, MIN_STACK_BYTES, stack_size_for
from razorlab.goruntime.metrics import SchedulerRun
from razorlab.goruntime.pacer import FractionalSlices, go_minor, mark_workers
from razorlab.goruntime.programs import per_task, ping_pong, spawn_blocked, worker_pool
from razorlab.goruntime.scheduler import SchedulerConfig, simulate
from razorlab.goruntime.traces import cycle_steps, gc_cycles, parse_gctrace
from razorlab.goruntime.workload import Workload, sleep_probe

__all__ = [
    "MEASUREMENTS_PATH",
    "MEASURED_GO_VERSIONS",
    "measurements_path",
    "recorded_go_version",
    "load_measurements",
    "goroutine_memory_vs_model",
    "stack_growth_vs_model",
    "sched_latency_vs_model",
    "gc_vs_model",
    "machine_idle_share",
    "gctrace_rows",
    "pacer_config",
    "pacer_run",
    "pacer_vs_model",
    "sweep_gaps_vs_model",
    "scavenger_run",
    "scavenger_vs_model",
    "scavenger_series",
    "worker_pool_vs_model",
    "cold_start_check",
    "cold_start_vs_model",
    "pool_locality_vs_model",
    "pool_sizes_vs_model",
    "spawn_sleeps_vs_go",
    "op_costs",
    "task_patterns_vs_model",
    "TASK_TOLERANCE",
    "PACER_TOLERANCE",
    "SCAVENGER_TOLERANCE",
]

MEASUREMENTS_PATH = Path(__file__).resolve().parents[2] / "data" / "go" / "measurements.json"
BASE_GO = "1.19"  # measurements.json; any other version has measurements_go<version>.json
MEASURED_GO_VERSIONS = (BASE_GO, "1.23")
NO_LIMIT = 2**62  # debug.SetMemoryLimit(-1) reports math.MaxInt64 when no limit is set
PACER_PROCS = 2  # gc_pointer_heap runs at GOMAXPROCS=2
TASK_TOLERANCE = 0.15  # task_patterns: the model within 15 % of Go's ns per task
PACER_TOLERANCE = 0.15  # gc_pointer_heap: peak heap, cycles, GC CPU within 15 % of Go
# scavenger: every figure within 20 % of Go's median; Go's own five runs spread up to
# -38 % (time to release half), +33 % (MiB per cycle) and +-24 % (GC rate) around it
SCAVENGER_TOLERANCE = 0.20
SCAVENGER_SETTLED_S = 0.5  # the retained heap at the end: median over the last 0.5 s
CHUNK_SPAN_RATIO = 8  # gc_pacer: a 64 KiB chunk per span against 8 KiB spans of small nodes
STEADY_TASKS = 20_000  # pool and ping-pong reach steady state long before this
PACER_SLACK = 20.0  # simulated time budget: this many times the full-speed allocation time


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise NotFoundError(
            f"no Go measurements at {path}; run python data/go/run_measurements.py",
            field="path",
        ) from None


def measurements_path(go_version: str = BASE_GO) -> Path:
    """The committed file for ``go_version`` (``"1.19"``: ``measurements.json``)."""
    go_minor(go_version)  # a clear error for a malformed version
    if go_version == BASE_GO:
        return MEASUREMENTS_PATH
    return MEASUREMENTS_PATH.with_name(f"measurements_go{go_version}.json")


def recorded_go_version(machine: dict) -> str:
    """``"1.23"`` from a machine record's ``go version go1.23.5 linux/amd64``."""
    found = re.search(r"go(1\.\d+)", machine["go_version"])
    if found is None:
        raise ValidationError(f"no Go version in {machine['go_version']!r}", field="go_version")
    return found.group(1)


def load_measurements(path: Path | str | None = None, *, go_version: str = BASE_GO) -> dict:
    """The committed measurements (machine, Go version, one list per experiment): the file
    at ``path``, else the one for ``go_version``."""
    return _load(str(path or measurements_path(go_version)))


def goroutine_memory_vs_model(m: dict | None = None) -> pd.DataFrame:
    """Bytes per blocked goroutine: runtime stack + heap accounting, and the OS view."""
    m = m or load_measurements()
    model = MIN_STACK_BYTES + G_BOOKKEEPING_BYTES
    rows = [
        {
            "goroutines": r["goroutines"],
            "measured_stack_B": r["stack_inuse_bytes"] / r["goroutines"],
            "measured_heap_B": r["heap_alloc_bytes"] / r["goroutines"],
            "measured_total_B": (r["stack_inuse_bytes"] + r["heap_alloc_bytes"]) / r["goroutines"],
            "measured_sys_B": r["sys_bytes"] / r["goroutines"],
            "model_B": model,
        }
        for r in m["goroutine_memory"]
    ]
    df = pd.DataFrame(rows).set_index("goroutines")
    df["ratio"] = df["measured_total_B"] / df["model_B"]
    return df.round(3)


def stack_growth_vs_model(m: dict | None = None) -> pd.DataFrame:
    """Stack bytes per goroutine at each recursion depth, measured and modelled."""
    m = m or load_measurements()
    rows = []
    for r in m["stack_growth"]:
        used = r["depth"] * r["frame_bytes"]
        rows.append(
            {
                "depth": r["depth"],
                "frames_B": used,
                "measured_stack_B": r["stack_inuse_per_goroutine"],
                "model_stack_B": stack_size_for(used),
            }
        )
    df = pd.DataFrame(rows).set_index("depth")
    df["ratio"] = (df["measured_stack_B"] / df["model_stack_B"]).round(3)
    return df


def sched_latency_vs_model(m: dict | None = None, *, samples: int = 40) -> pd.DataFrame:
    """How late a 1 ms sleep wakes under CPU-bound load: Go's median vs the model's."""
    m = m or load_measurements()
    rows = []
    for r in m["sched_latency"]:
        wl = sleep_probe(r["hogs"], samples=samples, sleep_s=r["sleep_ms"] / 1e3)
        run = simulate(wl, SchedulerConfig(gomaxprocs=r["gomaxprocs"]))
        waits = run.waits_of(0)[1:] * 1e3  # the probe's first run is not a wake-up
        rows.append(
            {
                "GOMAXPROCS": r["gomaxprocs"],
                "hogs": r["hogs"],
                "measured_p50_ms": r["p50_ms"],
                "measured_p90_ms": r["p90_ms"],
                "model_p50_ms": float(np.median(waits)),
                "model_p90_ms": float(np.percentile(waits, 90)),
            }
        )
    df = pd.DataFrame(rows).set_index(["GOMAXPROCS", "hogs"])
    df["ratio_p50"] = df["measured_p50_ms"] / df["model_p50_ms"]
    return df.round(3)


def gc_vs_model(m: dict | None = None, *, dt_s: float = 1e-4) -> pd.DataFrame:
    """Heap goal, GC cycles and GC CPU under GOGC/GOMEMLIMIT: Go vs the pacer model.

    The Go program keeps 64 MiB live in pointer-free chunks (so marking has almost
    nothing to scan) and allocates garbage as fast as one goroutine can; the model
    replays it at the measured allocation rate with ``scan_share=0``. Sweeping costs per
    span (``mspan.sweep``): each 64 KiB chunk is a span of its own, where 64-byte nodes
    share 8 KiB ones, so the heap sweeps ``CHUNK_SPAN_RATIO`` times faster per byte than
    ``GCConfig``'s default (0.3 ms of clock for the 64 MiB on two Ps; a timed
    ``runtime.GC()`` of it took 0.14-0.31 ms beyond its gctrace clock on the faster
    machine).
    """
    m = m or load_measurements()
    rows = []
    for r in m["gc_pacer"]:
        limit = r["memory_limit_bytes"] if r["memory_limit_bytes"] < NO_LIMIT else None
        gogc = "off" if r["gogc"] == "off" else int(r["gogc"])
        cfg = GCConfig(
            gogc=gogc,
            memory_limit_bytes=limit,
            gomaxprocs=2,
            roots_bytes=r["stack_bytes"],
            non_heap_bytes=r["non_heap_bytes"],
            scan_share=0.0,
            sweep_bytes_per_cpu_s=GCConfig.sweep_bytes_per_cpu_s * CHUNK_SPAN_RATIO,
        )
        wl = steady(r["live_heap_bytes"] / MIB, r["alloc_mib"] / r["wall_s"], r["wall_s"], dt_s)
        run = simulate_gc(wl, cfg)
        goal = heap_goal(
            r["live_heap_bytes"],
            gogc=gogc,
            roots_bytes=r["stack_bytes"],
            memory_limit_bytes=limit,
            non_heap_bytes=r["non_heap_bytes"],
        )
        rows.append(
            {
                "GOGC": r["gogc"],
                "GOMEMLIMIT": r["gomemlimit"] or "-",
                "alloc_MiB": r["alloc_mib"],
                "measured_goal_MiB": r["heap_goal_bytes"] / MIB,
                "model_goal_MiB": goal / MIB,
                "measured_cycles": r["gc_cycles"],
                "model_cycles": run.cycles,
                "measured_gc_cpu_pct": 100 * r["gc_cpu_fraction"],
                "model_gc_cpu_pct": 100 * run.gc_cpu_fraction,
            }
        )
    return pd.DataFrame(rows).set_index(["GOGC", "GOMEMLIMIT"]).round(2)


def _config_key(row: dict) -> tuple[str, str, int]:
    return row["gogc"], row["gomemlimit"], row["mutators"]


def _speed_while_marking(gctrace: list[list[float]], full_mib_per_s: float, mutators: int) -> float:
    """MiB allocated during the marks of ``gctrace``'s cycles over the mutators' P-time
    then, over one mutator's full speed (``full_mib_per_s`` is all mutators together).

    A mutator's P-time in a mark is its clock time less what the fractional worker took of
    that P, as the model has it (``pacer.FractionalSlices``: nothing before sysmon's first
    preemption, 10-20 ms in, so nothing at all in a short mark), less the CPU it spent
    assisting (gctrace's assist column). gctrace rows: start s; clock st, mark, mt; cpu
    st, assist, background, idle, mt; MB at start, at end, marked; goal."""
    busy = min(mutators, PACER_PROCS)
    fractional = mark_workers(PACER_PROCS).fractional
    allocated_mib = allocating_s = 0.0
    for start, _, mark_ms, *_, assist_ms, _, _, _, mb_start, mb_end, _, _ in gctrace:
        mark_s = mark_ms / 1e3
        taken = FractionalSlices(fractional, start).take(start, mark_s) if busy else 0.0
        allocating_s += busy * (mark_s - taken) - assist_ms / 1e3
        allocated_mib += mb_end - mb_start
    return allocated_mib / allocating_s / (full_mib_per_s / busy)


def gctrace_rows(text: str) -> list[list[float]]:
    """``GODEBUG=gctrace=1`` output as the rows ``run_measurements.py`` stores per run
    (start s; clock st, mark, mt; cpu st, assist, background, idle, mt; MB at start, at
    end, marked; goal), forced cycles left out: a stored trace's ``gctrace`` field."""
    keys = (
        "at_s sweep_term_ms mark_ms mark_term_ms sweep_term_cpu_ms assist_cpu_ms "
        "background_cpu_ms idle_cpu_ms mark_term_cpu_ms heap0_mb heap1_mb heap2_mb goal_mb"
    ).split()
    return [[c[k] for k in keys] for c in parse_gctrace(text) if not c["forced"]]


def _cycle_cpu_s(runs: list[dict]) -> float:
    """GC CPU per cycle (gctrace's five CPU columns, idle marking included), mean over a
    run's cycles, median over ``runs``: what a cycle's marking costs, as ``pacer_config``
    reads it (from the summary) with ``marking="phase"``."""
    per_run = [np.mean([sum(c[4:9]) for c in r["gctrace"]]) / 1e3 for r in runs]
    return float(np.median(per_run))


def _marking_slowdown(row: dict, runs: list[dict]) -> float:
    """A mutator's allocation speed while marking over its full speed, for ``row``'s
    configuration (median over its ``runs``): the MiB the mutators allocated during the
    marks (gctrace's heap at the cycle's start and at mark termination) over the P-time
    they had for it, the mark's clock time x their share after the fractional worker,
    less the CPU they spent assisting (gctrace's assist column). Taking the assist time
    out, rather than the cycles that had assists (which leaves the cycles whose mutator
    happened to allocate slowly), matches the model, whose mutators pay their assists
    out of the same P-time (``gc._mark_step``)."""
    speeds = []
    full = _full_speed(row, runs)
    for run in runs:
        if _config_key(run) != _config_key(row):
            continue
        speeds.append(_speed_while_marking(run["gctrace"], full, row["mutators"]))
    if not speeds:
        raise NotFoundError(f"no gc_pointer_heap runs for {_config_key(row)}", field="row")
    return float(np.median(speeds))


def _limit_bytes(row: dict) -> int | None:
    """A ``gc_pointer_heap`` row's GOMEMLIMIT in bytes (``"48MiB"``), None without one."""
    limit = row["gomemlimit"]
    return int(limit.removesuffix("MiB")) * MIB if limit else None


def _limit_below_live(row: dict) -> bool:
    """GOMEMLIMIT under the live heap: the cycles run back to back."""
    limit = _limit_bytes(row)
    return limit is not None and limit < row["live_heap_bytes"]


def _full_speed(row: dict, runs: list[dict]) -> float:
    """The mutators' full speed, MiB/s: ``row``'s own (allocation between its cycles) or,
    where its cycles run back to back (the limit below the live heap: the runner stores
    None), the median over every run with the same number of mutators."""
    if row["mutator_mib_per_s"] is not None:
        return row["mutator_mib_per_s"]
    same = [r["mutator_mib_per_s"] for r in runs if r["mutators"] == row["mutators"]]
    speeds = [x for x in same if x is not None]
    if not speeds:
        raise NotFoundError(f"no full speed for {row['mutators']} mutators", field="runs")
    return float(np.median(speeds))


def _sweep_speed(row: dict) -> float:
    """Bytes of heap one P sweeps per second: the live heap over the sweep of the timed
    ``runtime.GC()`` before the phase, both Ps sweeping (the caller and the background
    sweeper); a record from before the program timed it (``data/go/traces``) gets
    ``GCConfig``'s default, Go 1.19.8's on the same machine."""
    if row.get("live_sweep_ms") is None:
        return GCConfig.sweep_bytes_per_cpu_s
    return row["live_heap_bytes"] / (row["live_sweep_ms"] / 1e3 * PACER_PROCS)


def _idle_worker_share(row: dict) -> float:
    """An idle P's idle-worker time over its time not taken by the fractional worker.

    From the run's GC CPU with and without idle marking (per cycle) over its median mark
    phase; 1.0 when every P has a mutator (no idle P to measure).
    """
    busy = min(row["mutators"], PACER_PROCS)
    idle_ps = mark_workers(PACER_PROCS).shares(PACER_PROCS, busy)[2]
    if idle_ps == 0:
        return 1.0
    share = row["gc_cpu_share_with_idle"] - row["gc_cpu_share"]
    idle_s = share * row["wall_s"] * PACER_PROCS / row["gc_cycles"]
    return min(idle_s / (row["mark_clock_ms"] / 1e3 * idle_ps), 1.0)


def machine_idle_share(data: dict) -> float:
    """The share of an idle P its idle worker marks, one figure for the machine: the
    median over ``gc_pointer_heap``'s one-mutator configurations (``data``: its record)."""
    return float(np.median([_idle_worker_share(r) for r in data["summary"] if r["mutators"] == 1]))


def pacer_config(
    row: dict,
    *,
    marking: str = "phase",
    runs: list[dict] | None = None,
    mutator_speed: float | None = None,
    idle_share: float | None = None,
    go_version: str = BASE_GO,
) -> tuple[AllocWorkload, GCConfig, float]:
    """The model's inputs for one ``gc_pointer_heap`` configuration (its medians).

    Only the program and the machine go in: live heap, stacks and non-heap memory as the
    runtime reported them, GOGC/GOMEMLIMIT/GOMAXPROCS and the mutator count, the
    mutators' allocation speed between cycles (``_full_speed``), and the marking speed: with
    ``marking="phase"`` the live heap over the GC CPU (idle workers included) a cycle of
    the garbage phase took, with ``"forced"`` that of a ``runtime.GC()`` on the live set
    alone before the phase (an independent figure, but on a shared machine marking next
    to a mutator is 10-40 % slower). ``mutator_speed`` is the mutators' speed while
    marking as a share of full speed (default: from the gctrace lines of this
    configuration's ``runs``, ``_marking_slowdown``), ``idle_share`` the share of an idle
    P's time its idle worker marks (default: this row's own; ``pacer_vs_model`` passes
    the machine's median). The sweeping speed is that of the timed ``runtime.GC()``
    before the phase (its clock less gctrace's, both Ps sweeping: the caller and the
    background sweeper). Everything the pacer decides
    comes from Go's constants, with ``go_version``'s rules (``GCConfig.go_version``).
    Returns the workload, the config and the bytes allocated.
    """
    total = row["alloc_mib"] * MIB
    if runs is None and (mutator_speed is None or row["mutator_mib_per_s"] is None):
        raise ValidationError(
            "pass the configuration's runs (for its speed while marking and, with the limit"
            " below the live heap, the machine's full speed) or mutator_speed",
            field="mutator_speed",
        )
    rate = (row["mutator_mib_per_s"] if runs is None else _full_speed(row, runs)) * MIB
    slow = _marking_slowdown(row, runs) if mutator_speed is None else mutator_speed
    if marking == "forced":
        mark_cpu_s = row["live_mark_cpu_ms"] / 1e3
    else:
        mark_cpu_s = row["gc_cpu_share_with_idle"] * row["wall_s"] * PACER_PROCS / row["gc_cycles"]
    cfg = GCConfig(
        gogc="off" if row["gogc"] == "off" else int(row["gogc"]),
        memory_limit_bytes=_limit_bytes(row),
        gomaxprocs=PACER_PROCS,
        mutators=row["mutators"],
        roots_bytes=int(row["stack_bytes"]),
        non_heap_bytes=int(row["non_heap_bytes"]),
        scan_bytes_per_cpu_s=row["live_heap_bytes"] / mark_cpu_s,
        marking_mutator_speed=min(slow, 1.0),
        idle_worker_share=_idle_worker_share(row) if idle_share is None else idle_share,
        sweep_bytes_per_cpu_s=_sweep_speed(row),
        go_version=go_version,
    )
    # long enough for any slowdown; the run stops once ``total`` is allocated
    wl = steady(row["live_heap_bytes"] / MIB, rate / MIB, PACER_SLACK * total / rate, 1e-3)
    return wl, cfg, total


def pacer_run(data: dict, row: dict, *, marking: str = "phase") -> GCRun:
    """The model's run of one ``gc_pointer_heap`` configuration (``row``, one of the
    record ``data``'s summary rows) as ``pacer_vs_model`` makes it: ``pacer_config`` with
    the record's runs, the machine's idle share and the recorded Go version's rules,
    until the configuration's garbage is allocated (``GCRun.config`` holds the config)."""
    wl, cfg, total = pacer_config(
        row,
        marking=marking,
        runs=data["runs"],
        idle_share=machine_idle_share(data),
        go_version=recorded_go_version(data["machine"]),
    )
    return simulate_gc(wl, cfg, until_allocated_bytes=total)


def pacer_vs_model(
    m: dict | None = None, *, marking: str = "phase", go_version: str = BASE_GO
) -> pd.DataFrame:
    """Peak heap, GC cycles and GC CPU on a pointer-heavy heap: Go medians vs model.

    The program (``data/go/gc_pointer_heap``) keeps ~72 MiB of 64-byte three-pointer
    nodes live while 1-2 goroutines allocate short-lived nodes; GOMAXPROCS is 2. GC CPU
    is Go's ``GCCPUFraction`` definition (idle marking left out), over the garbage phase.
    The mutators' speed while marking is each configuration's own, from its gctrace
    lines with the assist time taken out (``_marking_slowdown``); the share of an idle P
    its idle worker marks is one figure for the machine (the median over the
    one-mutator configurations). Assists are CPU ms per cycle (gctrace's assist column
    over the phase's cycles; Go: median of the three runs).

    ``m`` defaults to the committed file for ``go_version``; the model follows the Go
    version the ``gc_pointer_heap`` run recorded.

    Go 1.23.5 (``measurements_go1.23.json``, same VM as the 1.19 run, measured after it at
    load 1.44): peak heap (-12...+6 %), cycles (-11...0 %) and GC CPU (-1...+10 %) hold
    within 15 % in all eight configurations, the 48 MiB limit under the 72 MiB live heap
    included (127 cycles back to back in both), assists in seven (-7...+11 %; GOGC=200, the
    smallest, 3.9 against 1.2 ms per cycle). Go 1.19.8 (load 1.19): peak (-8...+4 %),
    cycles (-8...+10 %; 48 MiB: 127 against 136) and GC CPU (-3...+11 %) in all eight,
    assists in four (GOGC 100 and 200: -30, -43 %; 256 MiB -32 %; 48 MiB +20 %). A forced
    GC of the live set took 47-65 ms of CPU on 1.19, 57-74 on 1.23; marking, sweeping and
    mutator speeds are inputs here, not fitted. The pacer's only version switches are the
    two documented in ``pacer.py`` (memory-limit headroom, cons/mark); no constant was
    changed for 1.23.
    """
    data = (m or load_measurements(go_version=go_version))["gc_pointer_heap"]
    rows = []
    for r in data["summary"]:
        run = pacer_run(data, r, marking=marking)
        reps = [x for x in data["runs"] if _config_key(x) == _config_key(r)]
        assists = [c.assist_cpu_s for c in gc_cycles(run)]
        rows.append(
            {
                "GOGC": r["gogc"],
                "GOMEMLIMIT": r["gomemlimit"] or "-",
                "mutators": r["mutators"],
                "measured_peak_MiB": r["peak_heap_mib"],
                "model_peak_MiB": run.peak_heap_bytes / MIB,
                "measured_cycles": r["gc_cycles"],
                "model_cycles": run.cycles,
                "measured_gc_cpu": r["gc_cpu_share"],
                "model_gc_cpu": run.gc_cpu_fraction,
                "measured_trigger_goal": r["trigger_goal_ratio"],
                "model_trigger_goal": run.trigger_goal_ratio,
                "measured_mark_ms": r["mark_clock_ms"],
                "model_mark_ms": 1e3 * run.mean_mark_s,
                "measured_assist_ms": np.median([x["assist_ms"] / x["trace_cycles"] for x in reps]),
                "model_assist_ms": 1e3 * np.mean(assists) if assists else 0.0,
            }
        )
    df = pd.DataFrame(rows).set_index(["GOGC", "GOMEMLIMIT", "mutators"])
    pairs = (("peak", "peak_MiB"), ("cycles", "cycles"), ("cpu", "gc_cpu"), ("assist", "assist_ms"))
    for name, what in pairs:
        df[f"{name}_error"] = df[f"model_{what}"] / df[f"measured_{what}"] - 1
    return df.round(3)


def sweep_gaps_vs_model(m: dict | None = None, *, go_version: str = BASE_GO) -> dict[str, float]:
    """With the limit below the live heap (``gc_pointer_heap``'s config whose limit is under
    the live heap), cycles run back to back, separated only by ``gcStart``'s sweep: the
    clock from one cycle's mark termination to the next start, ms. Go's from gctrace
    (each run's median gap, median over the runs); the model's is its sweep per cycle
    over the Ps (``GCRun.sweep_cpu_fraction``), at the speed of the timed ``runtime.GC()``
    before the phase, so the gaps are a check the sweep speed was not fitted to."""
    data = (m or load_measurements(go_version=go_version))["gc_pointer_heap"]
    row = next(r for r in data["summary"] if _limit_below_live(r))
    gaps = []
    for run in data["runs"]:
        if _config_key(run) == _config_key(row):
            trace = np.array(run["gctrace"])
            ends = trace[:, 0] * 1e3 + trace[:, 1:4].sum(axis=1)
            gaps.append(np.median(trace[1:, 0] * 1e3 - ends[:-1]))
    run = pacer_run(data, row)
    model_ms = float(1e3 * run.sweep_cpu_fraction * run.elapsed_s / run.cycles)
    go_ms = float(np.median(gaps))
    return {
        "go_ms": round(go_ms, 2),
        "model_ms": round(model_ms, 2),
        "error": round(model_ms / go_ms - 1, 3),
    }


def release_figures(run: GCRun, settled_s: float = SCAVENGER_SETTLED_S) -> dict[str, float]:
    """What ``run_measurements.scavenger_run`` reads off Go's samples, read off a model run
    of ``gc.shrink``: from the end of the first cycle (when Go's ``NumGC`` moves), the
    time to release half and 90 % of the retained heap's fall, the retained heap at its
    peak and at the end, GC cycles per second, and MiB released per cycle until 90 % of
    it was out (scavtrace prints at the end of each sweep, the end of marking here)."""
    s = run.series
    t, retained, numgc = s["t_s"].to_numpy(), s["retained_b"].to_numpy(), s["numgc"].to_numpy()
    ends = np.array([e for _, e in cycle_steps(run)])
    k = int(ends[0])
    peak = float(retained[: k + 1].max())
    final = float(np.median(retained[t >= t[-1] - settled_s]))

    def released(share: float) -> float:
        line = peak - share * (peak - final)
        return 1e3 * float(t[k + int(np.argmax(retained[k:] <= line))] - t[k])

    per_cycle = np.diff(s["released_b"].to_numpy()[ends]) / MIB
    per_cycle = per_cycle[int(np.argmax(per_cycle > 0)) :]
    n = int(np.argmax(np.cumsum(per_cycle) >= 0.9 * per_cycle.sum())) + 1
    return {
        "peak_retained_mib": peak / MIB,
        "final_retained_mib": final / MIB,
        "release_half_ms": released(0.5),
        "release_90_ms": released(0.9),
        "gc_per_s": float(numgc[-1] - numgc[k]) / float(t[-1] - t[k]),
        "release_mib_per_cycle": float(per_cycle[:n].mean()),
    }


SCAVENGE_SPEEDS = {  # scavenger_vs_model's ``speed``: which measured figure the model runs at
    "idle": "idle_bytes_per_s",  # the background scavenger alone, over process CPU time
    "background": "background_bytes_per_s",  # during the watch, its CPU metric (1.20+)
    "free_os": "scavenge_bytes_per_s",  # debug.FreeOSMemory, scavenging in one go
}


def scavenger_run(
    m: dict | None = None, *, go_version: str = BASE_GO, speed: str = "idle", seed: int = 0
) -> GCRun:
    """The model's run of ``data/go/scavenger``'s heap shrink (see ``scavenger_vs_model``);
    ``seed`` places sysmon's rounds (``Scavenger.ready``)."""
    wl, cfg = _scavenger_inputs(m or load_measurements(go_version=go_version), speed)
    return simulate_gc(wl, replace(cfg, seed=seed))


def _scavenger_inputs(m: dict, speed: str) -> tuple[AllocWorkload, GCConfig]:
    """The workload and config every seed of ``scavenger_run`` shares."""
    go = m["scavenger"]["summary"]
    runs = m["scavenger"]["runs"]
    if speed not in SCAVENGE_SPEEDS or go[SCAVENGE_SPEEDS[speed]] <= 0:
        raise ValidationError(
            f"speed must be one of {sorted(SCAVENGE_SPEEDS)} and measured, got {speed!r}",
            field="speed",
        )
    seconds = float(np.median([r["samples"]["t_s"][-1] for r in runs]))
    wl = shrink(
        go["before_in_use_bytes"] / MIB,
        go["live_heap_bytes"] / MIB,
        go["mutator_mib_per_s"],
        duration_s=round(seconds, 1),
    )
    speeds = [_speed_while_marking(r["gctrace"], r["mutator_mib_per_s"], 1) for r in runs]
    cfg = GCConfig(
        gogc=100,
        gomaxprocs=PACER_PROCS,
        mutators=1,
        scan_bytes_per_cpu_s=go["live_heap_bytes"] / _cycle_cpu_s(runs),
        marking_mutator_speed=float(np.median(speeds)),
        idle_worker_share=machine_idle_share(m["gc_pointer_heap"]),
        scavenge_bytes_per_cpu_s=go[SCAVENGE_SPEEDS[speed]],
        go_version=recorded_go_version(m["scavenger"]["machine"]),
    )
    return wl, cfg


def _scavenger_runs(m: dict, speed: str) -> list[tuple[GCRun, dict[str, float]]]:
    """One model run per Go run (seeds 0, 1, ...: sysmon's rounds fall elsewhere in
    each, as they do in each Go run), with ``release_figures`` and the scavenger's CPU,
    sorted by time to release half."""
    wl, cfg = _scavenger_inputs(m, speed)
    out = []
    for seed in range(len(m["scavenger"]["runs"])):
        run = simulate_gc(wl, replace(cfg, seed=seed))
        figures = release_figures(run)
        figures["scavenger_cpu_ms"] = 1e3 * run.scavenger_cpu_fraction * run.elapsed_s * PACER_PROCS
        out.append((run, figures))
    return sorted(out, key=lambda x: x[1]["release_half_ms"])


def scavenger_vs_model(
    m: dict | None = None, *, go_version: str = BASE_GO, speed: str = "idle"
) -> pd.DataFrame:
    """A heap that shrinks from ~265 MiB to ~9 MiB (``data/go/scavenger``): how fast the
    retained heap comes back down, Go (medians of five runs) vs the model (medians of as
    many runs, each with its own seed for where sysmon's rounds fall).

    The model takes the program's heap before and after the drop, the mutator's
    allocation speed (gctrace's gaps between cycles), the scavenger's speed (``speed``,
    ``SCAVENGE_SPEEDS``: by default the bytes the background scavenger released over the
    process's CPU time while the program slept, measured the same way on every version;
    ``"background"``, its speed during the watch from its CPU metric, Go 1.20+;
    ``"free_os"``, ``debug.FreeOSMemory``'s, scavenging in one go), the marking
    speed of the watch's own cycles (GC CPU per cycle, as ``pacer_vs_model`` takes it;
    the heap left holds no pointers and marks three times faster than
    ``gc_pointer_heap``'s), the mutator's speed while marking from its own gctrace lines (assist time taken out, as for ``gc_pointer_heap``: it sets how
    much is allocated black, so the next goal and the heap the scavenger keeps), and the
    idle workers' share as ``gc_pointer_heap`` shows it (``machine_idle_share``); the
    scavenger's pacing, its goals and its wake-ups are
    Go's (``scavenger.py``). Non-heap memory is ``GCConfig``'s default (it only matters
    under a memory limit). Where Go reports its scavenger's CPU, so does the table.
    """
    m = m or load_measurements(go_version=go_version)
    go = m["scavenger"]["summary"]
    runs = [figures for _, figures in _scavenger_runs(m, speed)]
    model = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    measured = {k: go[k] for k in model if k in go}
    if go["background_bytes_per_s"] > 0:  # Go 1.20+ also report the scavenger's CPU
        measured["scavenger_cpu_ms"] = 1e3 * go["scavenge_background_cpu_s"]
    df = pd.DataFrame({"measured": measured, "model": model}, index=list(measured))
    df["error"] = df["model"] / df["measured"] - 1
    return df.round(3)


def scavenger_series(m: dict | None = None, *, go_version: str = BASE_GO) -> pd.DataFrame:
    """Retained heap over time from the first GC after the drop: Go's median run and the
    model's (by time to release half), one row per sample (``label``, ``t_ms``,
    ``retained_mib``), for ``plots.scavenger_figure``."""
    m = m or load_measurements(go_version=go_version)
    runs = sorted(m["scavenger"]["runs"], key=lambda r: r["release_half_ms"])
    go = runs[len(runs) // 2]
    t = np.array(go["samples"]["t_s"]) - go["t_gc_s"]
    rows = [pd.DataFrame({"t_ms": 1e3 * t, "retained_mib": go["samples"]["retained_mib"]})]
    runs = _scavenger_runs(m, "idle")
    run = runs[len(runs) // 2][0]
    s = run.series
    t0 = s["t_s"].iloc[cycle_steps(run)[0][1]]
    rows.append(
        pd.DataFrame({"t_ms": 1e3 * (s["t_s"] - t0), "retained_mib": s["retained_b"] / MIB})
    )
    version = recorded_go_version(m["scavenger"]["machine"])
    df = pd.concat(rows, keys=[f"Go {version}", "model"], names=["label", None])
    return df.reset_index(level=0).reset_index(drop=True).round(1)


def worker_pool_vs_model(m: dict | None = None) -> pd.DataFrame:
    """Worker pool vs one goroutine per job in Go, with the memory model's estimate."""
    m = m or load_measurements()
    df = pd.DataFrame(m["worker_pool"])
    df["model_MiB"] = df["peak_goroutines"] * (MIN_STACK_BYTES + G_BOOKKEEPING_BYTES) / MIB
    df["measured_MiB"] = df["peak_stack_heap_bytes"] / MIB
    cols = ["jobs", "workers", "mode", "peak_goroutines", "measured_MiB", "model_MiB", "wall_s"]
    return df[cols].round(3)


def op_costs(m: dict | None = None, *, go_version: str = BASE_GO) -> tuple[OpCosts, float, float]:
    """The model's per-operation costs from ``data/go/go_costs`` alone (``m``, by default
    the committed file for ``go_version``, computed once per version; the defaults in
    ``costs.py`` are Go 1.19.8's).

    Each figure is the minimum over interleaved repeats (on a shared machine other
    processes only ever add time). ``go_costs`` times single operations, not the
    patterns predicted later: a ``Gosched`` with nothing else to run is one goroutine
    switch plus the ``wakep`` every Gosched makes, which ``wakep_costs`` times alone
    (runtime.wakep by linkname, no idle P) and which is taken out: Go 1.19's returns at
    once (3 ns), from Go 1.21 it takes ``sched.lock`` to look for an idle P (1.23: 56 ns;
    a ``ready`` pays it too, so it stays in ``ready_s``); buffered send + receive is two channel operations; Add + Done two WaitGroup
    operations; a ``go`` statement with free Gs, and with none (children stay blocked);
    a hop around a ring of goroutines is a send to a parked G (``chan_s + ready_s``), a
    receive that parks (``chan_s``) and a switch, which gives ``ready_s``. The ``warmth``
    rounds time a child's switch, ``wg.Done`` and exit after ``size`` other Gs: at the
    smallest size that gives the warm ``exit_s``, and what larger sizes add is the
    ``ColdStart`` curve (made non-decreasing). Closing a channel on 10,000 blocked
    children and waiting for them (``wake_exit``) is not used: ``cold_start_check``
    predicts it from the rest. At GOMAXPROCS 2 a ``go`` statement costs more (1.19: 38 ns,
    1.23: 82 ns): not for waking the other P (Go's threads sleep about twice per 1,000
    ``go`` there, ``spawn_sleeps``; its thief sleeps in runqgrab's back-off on the
    spawner's ``runnext``, as the model's does), but for the run queue it shares with that
    thief. The model runs one later round of that loop (``spawn_blocked``, Gs reused) to
    count the Gs stolen per ``go``; the extra time divided by them is ``steal_s``, charged
    to the robbed P's running G per G taken. Returns the costs, the switch time
    (``SchedulerConfig.switch_s``) and the task body's CPU.

    How a ring hop splits between ``switch`` and ``ready_s`` does not change a pattern
    run on one P, but it decides which side of a pool is the slower at GOMAXPROCS 2
    (``task_patterns_vs_model``): counted in the switch, 1.23's ``wakep`` made the
    model's workers slower than its sender.
    """
    if m is None:
        return _committed_costs(go_version)
    c = {k: v * 1e-9 for k, v in m["task_costs"]["go_costs"].items() if k.endswith("_ns")}
    wakep = m["wakep_costs"]["wakep_ns"] * 1e-9
    switch, chan, wg = c["gosched_ns"] - wakep, c["chan_pair_ns"] / 2, c["wg_pair_ns"] / 2
    ready = max(0.0, c["ring_hop_ns"] - 2 * chan - switch)
    sweep = m["task_costs"]["go_costs"]["warmth"]
    run_exit = np.array([w["run_exit_ns"] for w in sweep]) * 1e-9
    extra = np.maximum.accumulate(np.maximum(0.0, run_exit - run_exit[0]))
    costs = OpCosts(
        go_s=c["go_reused_ns"],
        go_fresh_s=max(c["go_fresh_ns"], c["go_reused_ns"]),
        exit_s=max(0.0, run_exit[0] - switch - wg),
        chan_s=chan,
        ready_s=ready,
        wg_s=wg,
        steal_s=0.0,
        cold_start=ColdStart(tuple(w["size"] for w in sweep), tuple(extra.tolist())),
    )
    batch = m["task_costs"]["go_costs"]["batch"]
    stolen_per_go = _spawn_round(costs, switch, batch).stolen / batch
    extra = max(0.0, c["go_reused_p2_ns"] - c["go_reused_ns"])
    steal = extra / stolen_per_go if stolen_per_go else 0.0
    return replace(costs, steal_s=steal), switch, c["work_ns"]


@lru_cache(maxsize=4)
def _committed_costs(go_version: str) -> tuple[OpCosts, float, float]:
    """``op_costs`` of the committed file for ``go_version``, computed once (it simulates
    a spawn round): every comparison, test and chapter cell asks for it."""
    return op_costs(load_measurements(go_version=go_version), go_version=go_version)


def _spawn_round(costs: OpCosts, switch: float, batch: int) -> SchedulerRun:
    """A later round of go_costs' GOMAXPROCS 2 spawn loop: ``batch`` go statements, each
    reusing a free G (as after the first round), whose children block."""
    return _on_ps(spawn_blocked(batch), 2, switch, replace(costs, go_fresh_s=costs.go_s))


def _child_run_exit_s(costs: OpCosts, switch: float, distance: float) -> float:
    """A child's switch, ``Done`` and exit, ``distance`` Gs after it was last touched."""
    return switch + costs.wg_s + costs.exit_s + costs.cold_start.extra(distance)


def cold_start_check(m: dict | None = None, *, go_version: str = BASE_GO) -> dict[str, float]:
    """``go_costs``' ``wake_exit`` (per child: closing a channel readies 10,000 parked
    children, each switches in, calls ``Done`` and exits), measured and as the
    calibrated costs add it up: ``ready_s + switch + wg_s + exit_s`` plus the cold start
    after ``batch`` other Gs. A cross-check of the ``ColdStart`` curve on a program it
    was not fitted to (ns; ``error`` is model / measured - 1)."""
    costs, switch, _ = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    g = m["task_costs"]["go_costs"]
    model = costs.ready_s + _child_run_exit_s(costs, switch, g["batch"])
    measured = g["wake_exit_ns"] * 1e-9
    return {
        "measured_ns": round(measured * 1e9),
        "model_ns": round(model * 1e9),
        "error": round(model / measured - 1, 3),
    }


def cold_start_vs_model(m: dict | None = None, *, go_version: str = BASE_GO) -> pd.DataFrame:
    """``go_costs``' warmth rounds: per child, the switch, ``Done`` and exit after ``size``
    other Gs, Go's fastest and median of the repeats and the model's (the calibrated warm
    cost plus ``ColdStart``; it passes through the fastest by construction, so the median
    shows the spread). ns, one row per size."""
    costs, switch, _ = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    rows = [
        {
            "size": int(w["size"]),
            "go_ns": w["run_exit_ns"],
            "go_median_ns": w["run_exit_ns_median"],
            "model_ns": _child_run_exit_s(costs, switch, w["size"]) * 1e9,
        }
        for w in m["task_costs"]["go_costs"]["warmth"]
    ]
    return pd.DataFrame(rows).round(1)


def _on_ps(wl: Workload, procs: int, switch: float, costs: OpCosts) -> SchedulerRun:
    """``wl`` on ``procs`` Ps with calibrated costs and switch time."""
    return simulate(wl, SchedulerConfig(gomaxprocs=procs, switch_s=switch, costs=costs))


def _timed(row: dict, run: SchedulerRun, n: int) -> dict:
    """GOMAXPROCS, Go's ns per task for a timed run (the fastest CPU time per task at
    GOMAXPROCS 1, robust to other processes on the machine; the fastest wall time at 2)
    and the model's for its ``n`` tasks."""
    procs = row["gomaxprocs"]
    return {
        "GOMAXPROCS": procs,
        "measured_ns": row["cpu_ns_per_task" if procs == 1 else "ns_per_task"],
        "model_ns": run.makespan_s / n * 1e9,
    }


def pool_locality_vs_model(m: dict | None = None, *, go_version: str = BASE_GO) -> dict:
    """Where the 4-worker pool runs at GOMAXPROCS 2: the share of tasks received on the P
    that sent them, Go's (``data/go/pool_locality``, the median of 7 runs) and the model's
    (``SchedulerRun.chan_receives_same_p``), with how often Go's sender changed P."""
    costs, switch, work = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    go = m["pool_locality"]
    n = min(go["n"], STEADY_TASKS)
    wl = worker_pool(n, workers=go["workers"], buffer=go["buffer"], work_s=work)
    run = _on_ps(wl, 2, switch, costs)
    return {
        "go_same_p_share": round(go["same_p_share_median"], 3),
        "model_same_p_share": round(run.same_p_share, 3),
        "go_sender_moves_per_1k_tasks": round(1000 * go["sender_moves_median"] / go["n"], 2),
    }


def pool_sizes_vs_model(m: dict | None = None, *, go_version: str = BASE_GO) -> pd.DataFrame:
    """The 4-worker pool with heavier tasks (``pool_sizes``: 2, 4 and 8 calls of the task
    body each), Go vs the model, at GOMAXPROCS 1 and 2: ns per task (Go's fastest of 7: CPU
    time at 1, wall time at 2, as in ``task_patterns_vs_model``) and, at 2, the share of
    tasks received on the sending P (Go's median of 7).

    At GOMAXPROCS 1 the model follows Go as the task grows (within 7 %; its task is that
    many times the measured ``Work``, whose one atomic add the heavier tasks leave out). At
    2 it does not: Go's second P adds little or nothing (1.19: 537 ns at 8 calls against 621
    on one P) though half the tasks now run on the other P, because each costs more there:
    the process's CPU per task rises to 989 ns. The tasks share no memory
    (``cpuclock.Task``); a trace (``pool_trace -reps 8``) shows both Ps draining the 64-slot
    buffer at once at about 1.6 times the one-P time per task, and one waiting while the
    sender refills it. Why each task costs more is not identified, nor robust: ``pool_trace``
    times the same pool untraced and gets 380-440 ns at GOMAXPROCS 2 (1.19, 8 calls), the
    program around it changing the figure. The model has no such cost, so its two Ps halve
    the time (-28 to -61 %).
    """
    costs, switch, work = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    rows = []
    for r in m["pool_sizes"]["runs"]:
        procs, reps = r["gomaxprocs"], r["reps"]
        wl = worker_pool(STEADY_TASKS, workers=r["workers"], buffer=r["buffer"], work_s=reps * work)
        run = _on_ps(wl, procs, switch, costs)
        rows.append(
            {
                "task_calls": reps,
                **_timed(r, run, STEADY_TASKS),
                "go_same_p_share": r.get("same_p_share_median", 1.0),
                "model_same_p_share": run.same_p_share,
            }
        )
    df = pd.DataFrame(rows).set_index(["task_calls", "GOMAXPROCS"])
    df["error"] = df["model_ns"] / df["measured_ns"] - 1
    df[["measured_ns", "model_ns"]] = df[["measured_ns", "model_ns"]].round().astype(int)
    return df.round({"error": 3, "go_same_p_share": 2, "model_same_p_share": 2})


def spawn_sleeps_vs_go(m: dict | None = None, *, go_version: str = BASE_GO) -> dict:
    """``go_costs``' later spawn rounds at GOMAXPROCS 2 (children block on a channel): how
    often Go's threads went to sleep per ``go`` statement (``spawn_sleeps``, the median of
    7: voluntary context switches, so a futex sleep of an idle M and runqgrab's
    ``usleep`` alike) against the model's in one such round: its thief's ``runnext``
    back-offs plus the Ms it parked (``failed_spins``)."""
    costs, switch, _ = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    batch = m["task_costs"]["go_costs"]["batch"]
    run = _spawn_round(costs, switch, batch)
    return {
        "go_sleeps_per_go": round(m["spawn_sleeps"]["p2_sleeps_per_go_median"], 4),
        "model_sleeps_per_go": round((run.steal_backoffs + run.failed_spins) / batch, 4),
        "model_wakeups_per_go": round(run.go_wakeups / batch, 4),
    }


def task_patterns_vs_model(m: dict | None = None, *, go_version: str = BASE_GO) -> pd.DataFrame:
    """ns per task of goroutine-per-task, a 4-worker pool and ping-pong: Go vs the model.

    The model runs the same programs (``programs.py``) with the costs ``op_costs``
    derived from a different program (``go_costs``). Goroutine per task is simulated
    with Go's task count (how many Gs are fresh depends on it); the pool and ping-pong
    with ``STEADY_TASKS`` (their cost per task is flat). Go's figure is the minimum over
    the repeats of CPU time per task at GOMAXPROCS 1 (robust to other processes on the
    machine) and of wall time at GOMAXPROCS 2. ``*_cpu_ns`` compare CPU per task (the
    model's busy time over all Ps; Go's process CPU time, spinning Ms included).

    The stored programs ran at a load average of 0.6 on 2 vCPUs (``task_costs.machine``;
    an earlier run at load 3.91 gave two busy threads about one core and inflated every
    GOMAXPROCS 2 figure). Goroutine per task at GOMAXPROCS 2 is bound by the spawning
    loop: Go's busiest thread runs 340 ns per task of the 341 the run takes (medians), its
    children keep up on the other P. They can because they start warm: a child run a few
    dozen Gs after its ``go`` statement finds its G and stack in the caches, and the
    ``ColdStart`` curve (``go_costs``' warmth rounds) charges it 165 ns for the switch,
    ``Done`` and exit instead of the ~370 ns a child pays 10,000 Gs later. Without that
    curve the model charged every child the cold cost, its children fell behind, a backlog
    of ~5,300 Gs built up, and it came out 31 % slow; with it, +7 %. At GOMAXPROCS 1 the
    backlog (~30,000 Gs in a 10 ms time slice) keeps children cold in the model as in Go.

    Go's pool at GOMAXPROCS 2 is no faster than at 1 (137 ns vs 137, its process CPU 146
    ns per task: about one core busy). ``pool_locality_vs_model`` shows why: Go receives
    89 % of the tasks (median of 7 runs; 1.23: 95 %) on the P that sent them, its sender
    changing P about once per 1,000 tasks. A ``runtime/trace`` of the pool (Go 1.23, read
    with ``go tool trace -d=1``) shows the mechanism: the sender and one worker hand the
    P to each other through ``runnext`` (the worker readies the parked sender, drains the
    buffer and parks; the sender readies it, fills the buffer and parks), so the other P's
    thief finds an empty queue and a full ``runnext`` and sleeps ~58 us in runqgrab; it
    wakes, takes the few workers left queued, runs them briefly and sleeps again. The
    model's thief does the same (93 % on the sending P, 1.23: 97 %), provided its workers
    are not slower than its sender's hand-offs, or readied workers would pile up behind
    ``runnext`` for the thief to take at once. What slows the hand-offs enough is the cost
    each steal puts on the sender (``steal_s``): without it the model runs the pool on both
    Ps (1.19: 39 % on the sending P, -39 %); without the back-off the share drops to 79 %
    at the same speed. With 1.23's ``wakep`` (56 ns, see ``op_costs``) counted in the
    switch, the workers were the slower side and the model ran the pool on both Ps (40 %
    on the sending P, -47 %).

    ``m`` defaults to the committed file for ``go_version``, whose ``go_costs`` give the
    costs. Go 1.23.5 (same VM, load 0.74): all six rows hold (goroutine per task -1 % and
    0 % of the fastest of 7 runs at GOMAXPROCS 2, 436 ns: median 491, slowest 816; the
    pool -3 % and -4 %; ping-pong 0 % and +2 %).
    """
    costs, switch, work = op_costs(m, go_version=go_version)
    m = m or load_measurements(go_version=go_version)
    rows = []
    for r in m["task_costs"]["task_patterns"]:
        mode, procs = r["mode"], r["gomaxprocs"]
        n = r["n"] if mode == "pertask" else min(r["n"], STEADY_TASKS)
        if mode == "pertask":
            wl = per_task(n, work_s=work)
        elif mode == "pool":
            wl = worker_pool(n, workers=r["workers"], buffer=r["buffer"], work_s=work)
        else:
            wl = ping_pong(n)
        run = _on_ps(wl, procs, switch, costs)
        rows.append(
            {
                "pattern": mode,
                **_timed(r, run, n),
                "measured_cpu_ns": r["cpu_ns_per_task"],
                "model_cpu_ns": run.p_busy_s.sum() / n * 1e9,
                "model_peak_live": run.max_live_goroutines,
                "model_peak_global_runq": run.max_global_runq,
            }
        )
    df = pd.DataFrame(rows).set_index(["pattern", "GOMAXPROCS"])
    df["error"] = df["model_ns"] / df["measured_ns"] - 1
    df["cpu_error"] = df["model_cpu_ns"] / df["measured_cpu_ns"] - 1
    ns = ["measured_ns", "model_ns", "measured_cpu_ns", "model_cpu_ns"]
    df[ns] = df[ns].round().astype(int)
    return df.round({"error": 3, "cpu_error": 3})
