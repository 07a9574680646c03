"""The fraud package's public API is pinned, and the shipped sample regenerates byte for byte."""

import importlib.util
import inspect
from pathlib import Path

import razorlab.fraud as fraud

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_is_exactly_what_the_package_exports():
    public = {
        name
        for name, value in vars(fraud).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert sorted(fraud.__all__) == sorted(public)
    assert {"simulate", "train", "FraudScorer", "FeatureExtractor", "batch_features"} <= public


def test_sample_csv_regenerates_byte_identically():
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "data/fraud/make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SAMPLE.read_bytes() == module.render(), "run python data/fraud/make_sample.py"
    assert module.SAMPLE.stat().st_size < 400_000
