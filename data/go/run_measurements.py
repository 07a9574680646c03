"""Run razorlab's Go measurement programs and write ``data/go/measurements.json``.

Usage (from the repository root, with ``go`` on PATH, e.g. Debian's ``golang-go``)::

    python data/go/run_measurements.py            # writes data/go/measurements.json
    python data/go/run_measurements.py --quick    # smaller sizes, for a smoke run

Each program prints one JSON object per run; this script adds the machine and Go
version. Timings on a shared machine are noisy, so latency experiments are repeated
and summarised with medians. Needs only the standard library. Peak memory is about
3 GB (one million blocked goroutines); the full run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = ("goroutine_memory", "stack_growth", "sched_latency", "worker_pool", "gc_pacer")
STACK_DEPTHS = (1, 2, 4, 6, 7, 8, 12, 16, 20, 24, 32, 40, 50, 64, 96, 128)
LATENCY_REPEATS = 3


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run(
        [str(binary), *args], env=full_env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def build(workdir: Path) -> dict[str, Path]:
    env = dict(os.environ)
    env.setdefault("GOCACHE", str(workdir / "gocache"))
    env.setdefault("GOPATH", str(workdir / "gopath"))
    bins = {}
    for name in PROGRAMS:
        bins[name] = workdir / name
        subprocess.run(
            ["go", "build", "-o", str(bins[name]), f"./{name}"], cwd=HERE, env=env, check=True
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


def measure(bins: dict[str, Path], quick: bool) -> dict:
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
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
    return {
        "goroutine_memory": [run(bins["goroutine_memory"], f"-n={n}") for n in sizes],
        "stack_growth": [
            run(bins["stack_growth"], f"-depth={d}", env=env_stack) for d in STACK_DEPTHS
        ],
        "sched_latency": [
            latency(bins["sched_latency"], procs, hogs, 60 if quick else 150)
            for procs in (1, 2)
            for hogs in (0, 1, 2, 4)
        ],
        "worker_pool": [
            run(bins["worker_pool"], f"-mode={mode}", f"-jobs={jobs}", f"-workers={workers}")
            for jobs, workers in ((100_000, 1_000), (100_000, 10_000))
            for mode in ("pool", "unbounded")
        ],
        "gc_pacer": [
            run(bins["gc_pacer"], "-live=64", f"-alloc={mib}", env=env) for env, mib in gc_configs
        ],
    }


def machine() -> dict:
    go_version = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    return {
        "go_version": go_version,
        "os": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--out", type=Path, default=HERE / "measurements.json")
    args = parser.parse_args(argv)
    if shutil.which("go") is None:
        print("go is not installed (Debian: apt-get install golang-go); nothing measured.")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        bins = build(Path(tmp))
        result = {"machine": machine(), "quick": args.quick, **measure(bins, args.quick)}
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
