"""Shared fixtures: the repository root and a simulated clock."""

from pathlib import Path

import pytest

from razorlab.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
