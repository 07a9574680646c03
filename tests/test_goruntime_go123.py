"""The pacer and scheduler models against Go 1.23 (``data/go/measurements_go1.23.json``).

Go 1.23.5 from Debian's bookworm-backports, measured on the same 2-vCPU VM as the Go 1.19
file with ``run_measurements.py --go /usr/lib/go-1.23/bin/go --only task_costs --only
gc_pointer_heap --only pool_locality --only spawn_sleeps --only pool_sizes --only
wakep_costs --only scavenger`` (what ``make go-measure`` runs for it). The models are not
refitted: the pacer runs with Go 1.23's rules
(``GCConfig.go_version``: 3 % memory-limit headroom, cons/mark as the largest of the
last five samples), fed the same kind of inputs the 1.19 comparison takes from the run;
the scheduler model takes its costs from 1.23's own ``go_costs``. Rows the model predicts
within the 1.19 tolerances are asserted; the others are known gaps, xfail(strict) so a
model that closes one must move it. Tolerances are those of
``tests/test_goruntime_pacer.py``; the task patterns are checked for both versions in
``tests/test_goruntime_calibration.py``.
"""

import importlib.util

import pytest

from razorlab.errors import NotFoundError, ValidationError
from razorlab.goruntime import calibration
from razorlab.goruntime.calibration import (
    PACER_TOLERANCE,
    load_measurements,
    measurements_path,
    pacer_config,
    pacer_vs_model,
    recorded_go_version,
)

GO = "1.23"
EXPERIMENTS = (
    "gc_pointer_heap",
    "task_costs",
    "pool_locality",
    "spawn_sleeps",
    "pool_sizes",
    "wakep_costs",
    "scavenger",
)


def test_the_file_records_go_1_23_and_the_load_for_each_experiment():
    m = load_measurements(go_version=GO)
    assert measurements_path(GO).name == "measurements_go1.23.json"
    for name in EXPERIMENTS:
        assert recorded_go_version(m[name]["machine"]) == GO
        assert m[name]["machine"]["load_average_1m"] >= 0
    assert {r["repeats"] for r in m["gc_pointer_heap"]["summary"]} == {3}
    assert load_measurements()["machine"]["go_version"].startswith("go version go1.19")


def test_the_runner_writes_each_go_version_where_the_comparisons_read_it():
    """``run_measurements.py`` is standard-library only, so it names the files itself."""
    runner = calibration.MEASUREMENTS_PATH.with_name("run_measurements.py")
    spec = importlib.util.spec_from_file_location("run_measurements", runner)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for go_version in calibration.MEASURED_GO_VERSIONS:
        line = f"go version go{go_version}.5 linux/amd64"
        assert module.default_out(line) == calibration.measurements_path(go_version)


def test_a_version_without_a_pacer_model_or_a_record_without_one_is_refused():
    with pytest.raises(ValidationError):
        measurements_path("1.18")
    with pytest.raises(ValidationError):
        recorded_go_version({"go_version": "go version devel linux/amd64"})


def test_the_pacer_model_runs_with_the_recorded_versions_rules():
    row = load_measurements(go_version=GO)["gc_pointer_heap"]["summary"][0]
    assert pacer_config(row, mutator_speed=0.5, go_version=GO)[1].go_version == GO
    assert pacer_config(row, mutator_speed=0.5)[1].go_version == "1.19"


def test_the_speed_while_marking_comes_from_the_runs_or_is_given():
    data = load_measurements(go_version=GO)["gc_pointer_heap"]
    row = data["summary"][0]
    with pytest.raises(ValidationError, match="mutator_speed"):
        pacer_config(row, go_version=GO)
    own = pacer_config(row, runs=data["runs"], go_version=GO)[1].marking_mutator_speed
    assert 0.3 < own < 1.0
    with pytest.raises(NotFoundError):
        pacer_config({**row, "gogc": "75"}, runs=data["runs"])


@pytest.fixture(scope="module")
def pacer():
    return pacer_vs_model(go_version=GO)


CONFIGS = [
    ("50", "-", 1),
    ("100", "-", 1),
    ("200", "-", 1),
    ("100", "-", 2),
    ("off", "256MiB", 1),
    ("off", "128MiB", 1),
    ("100", "160MiB", 1),
    ("100", "48MiB", 1),
]
# (config, metric) outside PACER_TOLERANCE on Go 1.23 (see pacer_vs_model): the assists at
# GOGC=200, the smallest (Go 1.2 ms per cycle, model 3.9: +210 %). Peak heap, cycles and
# GC CPU hold in all eight (the 48 MiB limit below the live heap included), assists in
# seven (GOGC=100 was +16 % on the measurement before, +11 % now).
PACER_GAPS = [(("200", "-", 1), "assist")]
PACER_HOLDS = [
    (config, metric)
    for config in CONFIGS
    for metric in ("peak", "cycles", "cpu", "assist")
    if (config, metric) not in PACER_GAPS
]


@pytest.mark.parametrize(("row", "metric"), PACER_HOLDS, ids=str)
def test_pacer_predicts_go_1_23_within_15_percent(pacer, row, metric):
    assert abs(pacer.loc[row, f"{metric}_error"]) <= PACER_TOLERANCE


@pytest.mark.xfail(strict=True, reason="known gap on Go 1.23: see pacer_vs_model")
@pytest.mark.parametrize(("row", "metric"), PACER_GAPS, ids=str)
def test_pacer_known_gaps_on_go_1_23(pacer, row, metric):
    assert abs(pacer.loc[row, f"{metric}_error"]) <= PACER_TOLERANCE
