"""Nines, downtime budgets and composition, against hand-computed values."""

import math

import pytest

from razorlab.errors import ValidationError
from razorlab.ops import downtime, from_nines, nines, redundant, serial


def test_four_nines_allow_52_56_minutes_a_year():
    # 365 days × 24 h × 60 min × 0.0001 = 52.56 min
    assert downtime(0.9999).to("min") == pytest.approx(52.56)
    assert downtime(0.9999, "month").to("min") == pytest.approx(4.32)
    assert downtime(0.999, "day").to("s") == pytest.approx(86.4)


def test_nines_round_trip():
    assert nines(0.999) == pytest.approx(3)
    assert from_nines(4) == pytest.approx(0.9999)
    assert nines(1.0) == math.inf


def test_serial_components_multiply():
    assert serial(0.999, 0.999, 0.9999) == pytest.approx(0.999 * 0.999 * 0.9999)
    assert serial([0.99, 0.99]) == pytest.approx(0.9801)


def test_redundant_replicas_fail_only_together():
    assert redundant(0.99, 2) == pytest.approx(0.9999)
    assert redundant(0.9, 3) == pytest.approx(0.999)


@pytest.mark.parametrize("bad", [99.99, 0, -0.5, float("nan"), True, "0.99"])
def test_availability_must_be_a_fraction(bad):
    with pytest.raises(ValidationError, match="availability"):
        downtime(bad)


def test_percentages_get_a_hint_and_bad_periods_are_named():
    with pytest.raises(ValidationError, match=r"did you mean 0\.9999"):
        nines(99.99)
    with pytest.raises(ValidationError, match="period"):
        downtime(0.999, "fortnight")
    with pytest.raises(ValidationError, match="replica count"):
        redundant(0.9, 0)
    with pytest.raises(ValidationError, match="at least one"):
        serial()
