"""Run razorlab's Go measurement programs and write ``data/go/measurements.json``.

Usage (from the repository root, with ``go`` on PATH, e.g. Debian's ``golang-go``)::

    python data/go/run_measurements.py            # writes data/go/measurements.json
    python data/go/run_measurements.py --quick    # smaller sizes, for a smoke run
    python data/go/run_measurements.py --install-go 1.23   # Debian backports' golang-1.23-go
    python data/go/run_measurements.py --go /usr/lib/go-1.23/bin/go \
        --only gc_pointer_heap --only task_costs  # writes data/go/measurements_go1.23.json

Each program prints one JSON object per run; this script adds the machine and Go
version. Timings on a shared machine are noisy, so latency experiments are repeated
and summarised with medians. Needs only the standard library. Peak memory is about
3 GB (one million blocked goroutines); the full run takes a few minutes.

Design note: Go 1.19 (Debian bookworm's ``golang-go``) writes ``measurements.json``;
any other Go writes ``measurements_go1.N.json`` next to it, so the model can be
compared per version and the 1.19 file never changes by accident. A newer Go comes from
bookworm-backports (``--install-go``), installed with ``apt-get`` as root on Debian
bookworm and skipped with a message elsewhere, so ``make go-measure`` stays
reproducible. The programs' ``go.mod`` says ``go 1.19``: a newer toolchain builds them
with the language and the ``GODEBUG`` defaults of 1.19 (``asynctimerchan``, ``panicnil``
and the like; none of them touches the GC or the scheduler), and ``GOTOOLCHAIN=local``
keeps it from fetching another toolchain.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = (
    "goroutine_memory",
    "stack_growth",
    "sched_latency",
    "worker_pool",
    "gc_pacer",
    "gc_pointer_heap",
    "pool_locality",
    "go_costs",
    "task_patterns",
    "scavenger",
)
STACK_DEPTHS = (1, 2, 4, 6, 7, 8, 12, 16, 20, 24, 32, 40, 50, 64, 96, 128)
LATENCY_REPEATS = 3
TASK_REPEATS = 7
TASK_N, TASK_N_QUICK = 200_000, 50_000  # tasks (go statements, round trips) per program run
BUSY_LOAD = 1.0  # 1-minute load average above which a run is warned it will be stretched
# task_patterns: (mode, GOMAXPROCS); the pool has 4 workers and 64 channel slots.
TASK_CONFIGS = tuple((mode, procs) for mode in ("pertask", "pool", "pingpong") for procs in (1, 2))
SCAVENGER_REPEATS = 5
SCAVTRACE = re.compile(
    r"^scav (\d+) KiB work(?: \(bg\), (\d+) KiB work \(eager\))?, (\d+) KiB (?:total|now)"
)
POOL_REPS = (2, 4, 8)  # pool_sizes: task body calls per task (task_costs has 1)
PACER_REPEATS = 3
# gc_pointer_heap: (GOGC, GOMEMLIMIT or "", mutators, MiB of garbage). GOMAXPROCS is 2.
PACER_CONFIGS = (
    ("50", "", 1, 1024),
    ("100", "", 1, 1024),
    ("200", "", 1, 2048),
    ("100", "", 2, 1024),
    ("off", "256MiB", 1, 1024),
    ("off", "128MiB", 1, 1024),
    ("100", "160MiB", 1, 1024),
    ("100", "48MiB", 1, 1024),  # the limit below the live heap: back-to-back cycles
)
BASE_MINOR = 19  # Debian bookworm's golang-go; its results go to measurements.json
BACKPORTS = "deb http://deb.debian.org/debian bookworm-backports main"
BACKPORTS_LIST = Path("/etc/apt/sources.list.d/bookworm-backports.list")
# One gctrace line (Go 1.19..1.23): clock and CPU split, heap at start -> end -> marked, goal.
GCTRACE = re.compile(
    r"^gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, "
    r"([\d.]+)\+([\d.]+)/([\d.]+)/([\d.]+)\+([\d.]+) ms cpu, "
    r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal"
)


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run(
        [str(binary), *args], env=full_env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def gctrace_cycles(
    stderr: str, program: str = "gc_pointer_heap"
) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """gctrace lines before ``<program>: start`` and between start and end (any other
    marker, e.g. ``scavenger: drop``, starts the second list too)."""
    before: list[tuple[float, ...]] = []
    during: list[tuple[float, ...]] = []
    target = before
    for line in stderr.splitlines():
        if line.startswith(f"{program}: "):
            target = [] if line.endswith(": end") else during
        elif m := GCTRACE.match(line):
            target.append(tuple(float(x) for x in m.groups()))
    return before, during


def gap_rate(starts: list[float], cycles: list[tuple[float, ...]]) -> float:
    """The mutators at full speed, MiB/s: what they allocated between one cycle's end
    and the next start (``cycles`` without their start times, indices as in gctrace)."""
    ends = [t + sum(c[:3]) / 1e3 for t, c in zip(starts, cycles, strict=True)]
    gap_mib = sum(nxt[8] - cur[10] for cur, nxt in zip(cycles, cycles[1:], strict=False))
    gap_s = sum(t1 - t0 for t0, t1 in zip(ends, starts[1:], strict=False))
    return gap_mib / gap_s


def pointer_heap_run(binary: Path, gogc: str, limit: str, mutators: int, mib: int) -> dict:
    """One run with ``GODEBUG=gctrace=1``; the garbage phase's cycles summarised."""
    env = {**os.environ, "GOGC": gogc, "GOMAXPROCS": "2", "GODEBUG": "gctrace=1"}
    env.pop("GOMEMLIMIT", None)
    if limit:
        env["GOMEMLIMIT"] = limit
    out = subprocess.run(
        [str(binary), f"-mutators={mutators}", f"-alloc={mib}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    before, cycles = gctrace_cycles(out.stderr)
    # fields: start s; clock st, mark, mt; cpu st, assist, background, idle, mt;
    # MB at start, at end, marked; goal. Drop the start time so indices follow gctrace.
    starts = [c[0] for c in cycles]
    cycles = [c[1:] for c in cycles]
    procs_s = result["wall_s"] * result["gomaxprocs"]
    gc_ms = sum(c[3] + c[4] + c[5] + c[7] for c in cycles)
    idle_ms = sum(c[6] for c in cycles)
    forced = before[-1]  # runtime.GC() on the live set alone: the machine's marking speed
    result.update(
        trace_cycles=len(cycles),
        peak_heap_mib=max(c[9] for c in cycles),
        # Go's GCCPUFraction leaves idle marking out ("free"); both are recorded.
        gc_cpu_share=gc_ms / 1e3 / procs_s,
        gc_cpu_share_with_idle=(gc_ms + idle_ms) / 1e3 / procs_s,
        assist_ms=sum(c[4] for c in cycles),
        mark_clock_ms=statistics.median(c[1] for c in cycles),
        trigger_goal_ratio=statistics.median(c[8] / c[11] for c in cycles),
        marked_mib=statistics.median(c[10] for c in cycles),
        live_mark_cpu_ms=forced[5] + forced[6] + forced[7],
        live_mark_clock_ms=forced[2],
        # runtime.GC() returns once the heap is swept: its clock less gctrace's
        live_sweep_ms=result["forced_gc_ms"] - sum(forced[1:4]),
        # with the limit below the live heap the cycles run back to back and the
        # mutators never run free: no full speed to measure (None)
        mutator_mib_per_s=(
            None
            if result["memory_limit_bytes"] < result["live_heap_bytes"]
            else gap_rate(starts, cycles)
        ),
        # every cycle as gctrace printed it: start s; clock st, mark, mt; cpu st, assist,
        # background, idle, mt; MB at start, at end, marked; goal (the mutators' speed
        # while marking comes from these: calibration._marking_slowdown)
        gctrace=[[t, *c] for t, c in zip(starts, cycles, strict=True)],
    )
    return result


def pointer_heap(go: str, binary: Path, quick: bool) -> dict:
    """Every pacer config ``PACER_REPEATS`` times; medians per config."""
    runs, summary = [], []
    for gogc, limit, mutators, mib in PACER_CONFIGS:
        mib = mib // 4 if quick else mib
        reps = [pointer_heap_run(binary, gogc, limit, mutators, mib) for _ in range(PACER_REPEATS)]
        runs.extend(reps)
        row = {"gogc": gogc, "gomemlimit": limit, "mutators": mutators, "alloc_mib": mib}
        for key in (
            "gc_cycles",
            "peak_heap_mib",
            "gc_cpu_share",
            "gc_cpu_share_with_idle",
            "wall_s",
            "mark_clock_ms",
            "trigger_goal_ratio",
            "marked_mib",
            "live_mark_cpu_ms",
            "live_sweep_ms",
            "mutator_mib_per_s",
            "live_heap_bytes",
            "non_heap_bytes",
            "stack_bytes",
        ):
            values = [r[key] for r in reps if r[key] is not None]
            row[key] = statistics.median(values) if values else None
        row["repeats"] = PACER_REPEATS
        summary.append(row)
    return {"machine": machine(go), "quick": quick, "runs": runs, "summary": summary}


def build(go: str, workdir: Path) -> dict[str, Path]:
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    env.setdefault("GOCACHE", str(workdir / "gocache"))
    env.setdefault("GOPATH", str(workdir / "gopath"))
    bins = {}
    for name in PROGRAMS:
        bins[name] = workdir / name
        subprocess.run(
            [go, "build", "-o", str(bins[name]), f"./{name}"], cwd=HERE, env=env, check=True
        )
    return bins


def latency(binary: Path, procs: int, hogs: int, samples: int) -> dict:
    runs = [
        run(binary, f"-hogs={hogs}", f"-samples={samples}", env={"GOMAXPROCS": str(procs)})
        for _ in range(LATENCY_REPEATS)
    ]
    summary = {k: runs[0][k] for k in ("gomaxprocs", "hogs", "samples", "sleep_ms")}
    for key in ("p10_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms"):
        summary[key] = statistics.median(r[key] for r in runs)
    summary["repeats"] = LATENCY_REPEATS
    return summary


def summarise(runs: list[dict]) -> dict:
    """Numeric fields: the minimum over the repeats (the cost on an unloaded machine: on a
    shared one, other processes only ever add time) and, as ``*_median`` and ``*_max``,
    the median and the largest, which show the spread; a list of objects (``go_costs``'s
    ``warmth`` rows) is summarised row by row."""
    out: dict = {"repeats": len(runs)}
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = min(r[key] for r in runs)
            out[f"{key}_median"] = statistics.median(r[key] for r in runs)
            out[f"{key}_max"] = max(r[key] for r in runs)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [summarise([r[key][i] for r in runs]) for i in range(len(value))]
        else:
            out[key] = value
    return out


def task_costs(go: str, bins: dict[str, Path], quick: bool) -> dict:
    """go_costs (the model's calibration) and task_patterns (what it predicts), interleaved
    so each repeat of every program meets the same machine load."""
    n = TASK_N_QUICK if quick else TASK_N
    costs: list[dict] = []
    patterns: dict[tuple[str, int], list[dict]] = {c: [] for c in TASK_CONFIGS}
    for _ in range(TASK_REPEATS):
        costs.append(run(bins["go_costs"], f"-n={n}"))
        for mode, procs in TASK_CONFIGS:
            env = {"GOMAXPROCS": str(procs)}
            patterns[mode, procs].append(
                run(bins["task_patterns"], f"-mode={mode}", f"-n={n}", env=env)
            )
    return {
        "machine": machine(go),
        "go_costs": summarise(costs),
        "task_patterns": [summarise(r) for r in patterns.values()],
    }


def repeated(go: str, binary: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    """``TASK_REPEATS`` runs of one program, summarised, with the machine they ran on.
    Whole-number fields that vary between runs (counts) are summarised like the timings:
    ``*_median`` is the figure to read."""
    runs = [run(binary, *args, env=env) for _ in range(TASK_REPEATS)]
    varying = {
        k for k, v in runs[0].items() if isinstance(v, int) and len({r[k] for r in runs}) > 1
    }
    as_floats = [{k: float(v) if k in varying else v for k, v in r.items()} for r in runs]
    return {"machine": machine(go), **summarise(as_floats)}


def pool_sizes(go: str, bins: dict[str, Path], n: int) -> dict:
    """task_patterns' pool with heavier tasks (``POOL_REPS`` calls of the task body's
    arithmetic each, summed in the worker: cpuclock.Task), timed at GOMAXPROCS 1 and 2,
    and where it runs at 2 (pool_locality): does a second P help once the tasks are
    longer than the channel work?"""
    rows = []
    for reps in POOL_REPS:
        for procs in (1, 2):
            env = {"GOMAXPROCS": str(procs)}
            args = ("-mode=pool", f"-n={n}", f"-reps={reps}")
            row = repeated(go, bins["task_patterns"], *args, env=env)
            if procs == 2:
                where = repeated(go, bins["pool_locality"], f"-n={n}", f"-reps={reps}", env=env)
                row["same_p_share_median"] = where["same_p_share_median"]
            rows.append(row)
    return {"machine": machine(go), "runs": rows}


def scavenger_run(binary: Path, quick: bool) -> dict:
    """One heap shrink (``data/go/scavenger``) with gctrace and scavtrace, summarised.

    From the metrics samples (every 5 ms): the first GC after the drop (``t_gc_s``), the
    retained heap at its peak and over the last 0.5 s, and how long after that GC it
    took to release half and 90 % of the difference; GCs per second afterwards. From scavtrace: MiB the background scavenger released per
    GC cycle until 90 % of all it released was out. Bytes released per CPU-second by
    FreeOSMemory, by the background scavenger alone in an idle process (the process's
    CPU time), and by it during the watch (its CPU metric, Go 1.20+, else -1). From
    gctrace: the mutator's allocation speed between cycles, and the watch's lines after
    its first cycle (the model's marking and mutator speeds come from them).
    """
    seconds = 1.0 if quick else 2.0
    env = {**os.environ, "GOMAXPROCS": "2", "GOGC": "100", "GODEBUG": "gctrace=1,scavtrace=1"}
    env.pop("GOMEMLIMIT", None)
    out = subprocess.run(
        [str(binary), f"-seconds={seconds}", "-every=5"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,  # a run takes ~3 s; one Go 1.23 run once hung (cause not found)
    )
    result = json.loads(out.stdout)
    _, cycles = gctrace_cycles(out.stderr, "scavenger")
    watch = out.stderr.split("scavenger: drop", 1)[1].split("scavenger: end", 1)[0].splitlines()
    work = [int(m.group(1)) / 1024 for m in map(SCAVTRACE.match, watch) if m]
    samples = result["samples"]
    before = result["before"]
    k = next(i for i, x in enumerate(samples) if x["gc_cycles"] > before["gc_cycles"])
    t_gc = samples[k]["t_s"]
    top = max(samples[:k], key=lambda x: x["retained_bytes"])
    peak = top["retained_bytes"]
    final = statistics.median(x["retained_bytes"] for x in samples if x["t_s"] >= seconds - 0.5)

    def released(share: float) -> float:
        line = peak - share * (peak - final)
        return next(x["t_s"] for x in samples[k:] if x["retained_bytes"] <= line) - t_gc

    mib = 2**20
    result.update(
        t_gc_s=t_gc,
        peak_retained_mib=peak / mib,
        final_retained_mib=final / mib,
        release_half_ms=1e3 * released(0.5),
        release_90_ms=1e3 * released(0.9),
        # after the first cycle, in pages that are mapped already (gctrace's gaps)
        mutator_mib_per_s=gap_rate([c[0] for c in cycles[1:]], [c[1:] for c in cycles[1:]]),
        # ...and while marking: the watch's gctrace lines after the first cycle (as for
        # gc_pointer_heap: calibration._marking_slowdown reads them)
        gctrace=cycles[1:],
        gc_per_s=(samples[-1]["gc_cycles"] - samples[k]["gc_cycles"]) / (samples[-1]["t_s"] - t_gc),
        release_mib_per_cycle=per_cycle_release(work),
        scavenge_bytes_per_s=result["free_os_memory_released_bytes"]
        / (result["free_os_memory_s"] - result["gc_s"]),
        # the background scavenger alone in an idle process: released over process CPU
        # (-1 if it released under half of them: then the process's CPU is not its own)
        idle_bytes_per_s=result["idle_released_bytes"] / result["idle_process_cpu_s"]
        if result["idle_released_bytes"] > result["big_mib"] * mib / 2
        else -1.0,
        # ...and while the program runs, from its CPU metric (Go 1.20 on; updated per GC)
        background_bytes_per_s=(samples[-1]["released_bytes"] - before["released_bytes"])
        / result["scavenge_background_cpu_s"]
        if result["scavenge_background_cpu_s"] > 0
        else -1.0,
        # every other sample, in MiB, for plots
        samples={
            "t_s": [round(x["t_s"], 3) for x in samples[::2]],
            "retained_mib": [round(x["retained_bytes"] / mib, 1) for x in samples[::2]],
            "released_mib": [round(x["released_bytes"] / mib, 1) for x in samples[::2]],
        },
    )
    return result


def per_cycle_release(work: list[float]) -> float:
    """Mean MiB released per cycle from the first cycle that released any until 90 % of
    the total was out (the cycles after that release crumbs as the goal moves)."""
    work = work[next((i for i, w in enumerate(work) if w > 0), len(work)) :]
    done = 0.0
    for n, w in enumerate(work, start=1):
        done += w
        if done >= 0.9 * sum(work):
            return done / n
    return 0.0


def scavenger(go: str, binary: Path, quick: bool) -> dict:
    """``SCAVENGER_REPEATS`` heap shrinks; medians of their figures under ``summary``."""
    runs = [scavenger_run(binary, quick) for _ in range(SCAVENGER_REPEATS)]
    skip = ("every_ms", "idle_bytes_per_s")  # the latter: valid runs only, below
    keys = [k for k, v in runs[0].items() if isinstance(v, float) and k not in skip]
    summary = {k: statistics.median(r[k] for r in runs) for k in keys}
    idle = [r["idle_bytes_per_s"] for r in runs if r["idle_bytes_per_s"] > 0]
    summary["idle_bytes_per_s"] = statistics.median(idle) if idle else -1.0
    for key in ("live_heap_bytes", "sys_bytes_end"):
        summary[key] = statistics.median(r[key] for r in runs)
    summary["before_in_use_bytes"] = runs[0]["before"]["in_use_bytes"]
    return {"machine": machine(go), "runs": runs, "summary": summary}


def measure(go: str, bins: dict[str, Path], quick: bool, only: list[str] | None = None) -> dict:
    """Every experiment, or just those in ``only`` (their keys in ``measurements.json``)."""
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    task_n = TASK_N_QUICK if quick else TASK_N
    alloc = 1024 if quick else 4096
    env_stack = {"GODEBUG": "adaptivestackstart=0"}
    # (environment, MiB of garbage): a limit below the live heap makes the GC run
    # back to back (the CPU limiter's case), so that run allocates less.
    gc_configs = [
        ({"GOGC": "50"}, alloc),
        ({"GOGC": "100"}, alloc),
        ({"GOGC": "200"}, alloc),
        ({"GOGC": "100", "GOMEMLIMIT": "96MiB"}, alloc),
        ({"GOGC": "off", "GOMEMLIMIT": "96MiB"}, alloc),
        ({"GOGC": "100", "GOMEMLIMIT": "48MiB"}, alloc // 8),
    ]
    experiments = {
        "goroutine_memory": lambda: [run(bins["goroutine_memory"], f"-n={n}") for n in sizes],
        "stack_growth": lambda: [
            run(bins["stack_growth"], f"-depth={d}", env=env_stack) for d in STACK_DEPTHS
        ],
        "sched_latency": lambda: [
            latency(bins["sched_latency"], procs, hogs, 60 if quick else 150)
            for procs in (1, 2)
            for hogs in (0, 1, 2, 4)
        ],
        "worker_pool": lambda: [
            run(bins["worker_pool"], f"-mode={mode}", f"-jobs={jobs}", f"-workers={workers}")
            for jobs, workers in ((100_000, 1_000), (100_000, 10_000))
            for mode in ("pool", "unbounded")
        ],
        "gc_pacer": lambda: [
            run(bins["gc_pacer"], "-live=64", f"-alloc={mib}", env=env) for env, mib in gc_configs
        ],
        "gc_pointer_heap": lambda: pointer_heap(go, bins["gc_pointer_heap"], quick),
        "task_costs": lambda: task_costs(go, bins, quick),
        "pool_locality": lambda: repeated(
            go, bins["pool_locality"], f"-n={task_n}", env={"GOMAXPROCS": "2"}
        ),
        "spawn_sleeps": lambda: repeated(go, bins["go_costs"], "-p2-sleeps", f"-n={task_n}"),
        "pool_sizes": lambda: pool_sizes(go, bins, task_n),
        "wakep_costs": lambda: repeated(go, bins["go_costs"], "-wakep", f"-n={task_n}"),
        "scavenger": lambda: scavenger(go, bins["scavenger"], quick),
    }
    return {name: experiments[name]() for name in only or experiments}


def go_version(go: str) -> str:
    """``go version``'s line, e.g. ``go version go1.23.1 linux/amd64``."""
    return subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()


def default_out(version: str) -> Path:
    """``measurements.json`` for Go 1.19, ``measurements_go1.N.json`` for any other 1.N."""
    m = re.search(r"go1\.(\d+)", version)
    if m is None:
        raise SystemExit(f"cannot tell the Go version from {version!r}")
    minor = int(m.group(1))
    return HERE / ("measurements.json" if minor == BASE_MINOR else f"measurements_go1.{minor}.json")


def install_go(minor: str) -> int:
    """Install ``golang-<minor>-go`` from bookworm-backports (``/usr/lib/go-<minor>/bin/go``).

    Adds the backports source if no apt source names it, then ``apt-get update`` and
    ``apt-get install -t bookworm-backports``. Needs root on Debian bookworm; anywhere
    else it says so and does nothing (exit status 0, so ``make go-measure`` goes on).
    """
    binary = Path(f"/usr/lib/go-{minor}/bin/go")
    if binary.exists():
        print(f"{go_version(str(binary))} is installed at {binary}")
        return 0
    release = Path("/etc/os-release")
    codename = re.search(
        r"^VERSION_CODENAME=(\S+)", release.read_text() if release.exists() else "", re.M
    )
    if not codename or codename.group(1) != "bookworm" or shutil.which("apt-get") is None:
        print(f"not Debian bookworm: install Go {minor} yourself; skipped.")
        return 0
    if os.geteuid() != 0:
        print(f"not root: cannot apt-get golang-{minor}-go from bookworm-backports; skipped.")
        return 0
    apt = Path("/etc/apt")
    sources = [apt / "sources.list", *(apt / "sources.list.d").glob("*")]
    if not any(f.is_file() and "bookworm-backports" in f.read_text() for f in sources):
        BACKPORTS_LIST.write_text(BACKPORTS + "\n")
        print(f"added {BACKPORTS_LIST}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], env=env, check=True)
    package = f"golang-{minor}-go"
    subprocess.run(
        ["apt-get", "install", "-y", "-t", "bookworm-backports", package], env=env, check=True
    )
    print(f"installed {go_version(str(binary))} at {binary}")
    return 0


def machine(go: str) -> dict:
    return {
        "go_version": go_version(go),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--go", default="go", help="the go command to build with (default: go)")
    parser.add_argument(
        "--out",
        type=Path,
        help="default: measurements.json for Go 1.19, measurements_go1.N.json for 1.N",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=(
            *(p for p in PROGRAMS if p not in ("go_costs", "task_patterns")),  # measured by
            "task_costs",  # task_costs and the experiments after it
            "spawn_sleeps",
            "pool_sizes",
            "wakep_costs",
        ),
        help="re-measure this experiment (repeatable) and keep the rest of --out as it is",
    )
    parser.add_argument(
        "--install-go",
        metavar="MINOR",
        help="install golang-MINOR-go (e.g. 1.23) from bookworm-backports and exit",
    )
    args = parser.parse_args(argv)
    if args.install_go:
        return install_go(args.install_go)
    go = shutil.which(args.go)
    if go is None:
        print(f"{args.go} is not installed (Debian: apt-get install golang-go); nothing measured.")
        return 1
    machine_now = machine(go)
    if machine_now["load_average_1m"] > BUSY_LOAD:
        print(f"warning: load average {machine_now['load_average_1m']} on "
              f"{os.cpu_count()} CPUs: other processes will stretch Go's timings at "
              "GOMAXPROCS 2 (a run at load 8.3 marked 3x slower than at 1.0); measure on a "
              "quiet machine")  # fmt: skip
    out = args.out or default_out(machine_now["go_version"])
    with tempfile.TemporaryDirectory() as tmp:
        bins = build(go, Path(tmp))
        if args.only:
            new = {"machine": machine_now, "quick": args.quick}
            kept = json.loads(out.read_text()) if out.exists() else new
            result = {**kept, **measure(go, bins, args.quick, args.only)}
        else:
            result = {"machine": machine_now, "quick": args.quick, **measure(go, bins, args.quick)}
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
