"""What readers see: thresholds printed the same on every CPU, and cores sized
from the mean at a stated utilisation."""

import pytest

from razorlab.fraud import TARGET_UTILISATION, Thresholds, cores_needed


def test_thresholds_print_to_four_significant_digits_but_keep_exact_values():
    th = Thresholds(-5.872461762827367, 1.4142955858838984)
    assert repr(th) == "Thresholds(review=-5.872, decline=1.414)"
    assert str(th) == repr(th)
    assert th.review == -5.872461762827367, "the value itself is not rounded"
    # a last-bit difference (another CPU's sum order) prints the same
    assert repr(Thresholds(-5.872461762827366, 1.4142955858838986)) == repr(th)
    assert repr(Thresholds(float("inf"), float("inf"))) == "Thresholds(review=inf, decline=inf)"


def test_cores_come_from_the_mean_service_time_at_the_target_utilisation():
    assert TARGET_UTILISATION == 0.7
    # 100,000 payments/s x 250 µs = 25 busy cores; at 70% busy that is 35.7 -> 36
    assert cores_needed(100_000, 250) == 36
    assert cores_needed(100_000, 250, utilisation=1.0) == 25, "exact products do not round up"
    assert cores_needed(100_000, 7, utilisation=0.7) == 1, "exactly one core: no float spill"
    assert cores_needed(0, 250) == 0
    with pytest.raises(ValueError, match="utilisation"):
        cores_needed(100_000, 250, utilisation=0)
    with pytest.raises(ValueError):
        cores_needed(-1, 250)
