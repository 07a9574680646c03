"""`make bench` finds every benchmark module (and never itself): discovery only, nothing timed."""

import importlib
from pathlib import Path

from benchmarks.__main__ import modules

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_every_area_module_is_found_and_the_runner_is_not():
    files = sorted(p.stem for p in BENCHMARKS.glob("*_*.py") if not p.stem.startswith("_"))
    assert modules() == files
    assert "__main__" not in modules() and "__init__" not in modules()


def test_every_benchmark_has_a_main():
    for name in modules():
        assert callable(importlib.import_module(f"benchmarks.{name}").main), name
