"""GC pacer model vs real Go: peak heap, GC cycles, GC CPU and assists per configuration.

Not a speed benchmark: it prints the comparison the tests hold to +-15 %
(``tests/test_goruntime_pacer.py``), from the committed Go 1.19 measurements of
``data/go/gc_pointer_heap`` (medians of three runs, GOMAXPROCS 2, ~72 MiB pointer-heavy
live set). Baseline: the measured figure; the error is model / measured - 1. The model
marks at the speed the phase's own cycles showed; the last column uses instead the speed
of a forced GC before the phase (an independent figure). The time the model took for
all configurations is printed for context.
"""

from __future__ import annotations

import time

from razorlab.goruntime.calibration import load_measurements, pacer_vs_model

BAND = 0.15


def _cell(measured: float, model: float, error: float, fmt: str) -> str:
    mark = "" if abs(error) <= BAND else " ✗"
    return f"{measured:{fmt}} / {model:{fmt}} ({error:+.0%}{mark})"


def main() -> None:
    start = time.perf_counter()
    df = pacer_vs_model()
    forced = pacer_vs_model(marking="forced")
    took = time.perf_counter() - start
    machine = load_measurements()["gc_pointer_heap"]["machine"]
    print(f"{machine['go_version']}, {machine['logical_cpus']} CPUs; model time {took:.1f} s")
    print(
        "| GOGC | GOMEMLIMIT | mutators | peak MiB, Go / model | GC cycles | GC CPU share "
        "| GC CPU, forced-GC marking speed | assist ms per cycle |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for ((gogc, limit, mutators), r), (_, f) in zip(df.iterrows(), forced.iterrows(), strict=True):
        peak = _cell(r.measured_peak_MiB, r.model_peak_MiB, r.peak_error, ".0f")
        cycles = _cell(r.measured_cycles, r.model_cycles, r.cycles_error, ".0f")
        cpu = _cell(r.measured_gc_cpu, r.model_gc_cpu, r.cpu_error, ".2f")
        alt = _cell(f.measured_gc_cpu, f.model_gc_cpu, f.cpu_error, ".2f")
        assist = _cell(r.measured_assist_ms, r.model_assist_ms, r.assist_error, ".1f")
        print(f"| {gogc} | {limit} | {mutators} | {peak} | {cycles} | {cpu} | {alt} | {assist} |")
    print(f"✗: outside ±{BAND:.0%}")


if __name__ == "__main__":
    main()
