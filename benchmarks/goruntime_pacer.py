"""GC pacer model vs real Go: peak heap, GC cycles, GC CPU and assists per configuration.

Not a speed benchmark: it prints the comparison the tests hold to +-15 %
(``tests/test_goruntime_pacer.py`` for Go 1.19, ``tests/test_goruntime_go123.py`` for
1.23), one table per committed measurement of ``data/go/gc_pointer_heap`` (Go 1.19 and
1.23; medians of three runs, GOMAXPROCS 2, ~72 MiB pointer-heavy live set), the model
run with that Go version's pacer rules. Baseline: the measured figure; the error is
model / measured - 1. The model marks at the speed the phase's own cycles showed; the
GC CPU column after it uses instead the speed of a forced GC before the phase (an
independent figure). Under the limit below the live heap, the gap between back-to-back
cycles (``sweep_gaps_vs_model``). The time the model took for each table is printed for
context.
Then the scavenger after a heap shrink (``tests/test_goruntime_scavenger.py``).
"""

from __future__ import annotations

import time

from razorlab.goruntime.calibration import (
    MEASURED_GO_VERSIONS,
    PACER_TOLERANCE,
    SCAVENGER_TOLERANCE,
    load_measurements,
    pacer_vs_model,
    scavenger_vs_model,
    sweep_gaps_vs_model,
)

BAND = PACER_TOLERANCE


def _cell(measured: float, model: float, error: float, fmt: str) -> str:
    mark = "" if abs(error) <= BAND else " ✗"
    return f"{measured:{fmt}} / {model:{fmt}} ({error:+.0%}{mark})"


def table(go_version: str) -> None:
    """Print the comparison for the committed ``go_version`` measurements."""
    start = time.perf_counter()
    df = pacer_vs_model(go_version=go_version)
    forced = pacer_vs_model(marking="forced", go_version=go_version)
    took = time.perf_counter() - start
    data = load_measurements(go_version=go_version)["gc_pointer_heap"]
    machine = data["machine"]
    print(
        f"\n{machine['go_version']}, {machine['logical_cpus']} CPUs, load average "
        f"{machine['load_average_1m']}; model time {took:.1f} s"
    )
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
    gaps = sweep_gaps_vs_model(go_version=go_version)
    print(
        f"Back to back under the limit below the live heap, the gap between cycles (gcStart's"
        f" sweep): Go {gaps['go_ms']:.1f} ms, model {gaps['model_ms']:.1f} ({gaps['error']:+.0%})"
    )


def scavenger_table() -> None:
    """The heap shrink of ``data/go/scavenger`` (medians of five runs per Go version)."""
    frames = {v: scavenger_vs_model(go_version=v) for v in MEASURED_GO_VERSIONS}
    print(
        "\nScavenger after a 265 -> 9 MiB shrink, Go / model (error), the model at the speed"
        " of Go's idle scavenger, medians of 5 runs / 5 seeds:"
    )
    print("| quantity | " + " | ".join(f"Go {v}" for v in frames) + " |")
    print("|---|" + "---|" * len(frames))
    for row in frames[MEASURED_GO_VERSIONS[-1]].index:
        cells = []
        for df in frames.values():
            if row not in df.index:
                cells.append("not reported")
                continue
            r = df.loc[row]
            mark = "" if abs(r.error) <= SCAVENGER_TOLERANCE else " ✗"
            cells.append(f"{r.measured:.1f} / {r.model:.1f} ({r.error:+.0%}{mark})")
        print(f"| {row} | " + " | ".join(cells) + " |")


def main() -> None:
    for go_version in MEASURED_GO_VERSIONS:
        table(go_version)
    scavenger_table()
    print(f"✗: outside ±{BAND:.0%} (the scavenger's rows: ±{SCAVENGER_TOLERANCE:.0%})")


if __name__ == "__main__":
    main()
