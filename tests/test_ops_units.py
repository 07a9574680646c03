"""Quantities carry units: conversions are exact and dimension mistakes are refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.ops.units import Quantity, UnitError, q


def test_binary_and_decimal_prefixes_differ():
    assert q(1, "KiB").to("B") == 1024
    assert q(1, "KB").to("B") == 1000
    assert q(1, "TiB").to("GiB") == 1024
    assert q(1, "TB").to("TiB") == pytest.approx(0.9095, rel=1e-3)


def test_links_are_sold_in_bits_per_second():
    assert q(10, "Gbit/s").to("GB/s") == pytest.approx(1.25)
    assert q(1, "GB/s").to("Gbit/s") == pytest.approx(8)


def test_rate_times_duration_is_an_amount():
    per_day = q(1e6, "req/s") * q(1_000, "B/req") * q(1, "day")
    assert per_day.unit == "B"
    assert per_day.to("TB") == pytest.approx(86.4)


def test_same_dimension_in_other_units_adds_after_conversion():
    total = q(1, "MiB/s") + q(86_400, "MiB/day")
    assert total.to("MiB/s") == pytest.approx(2)


@pytest.mark.parametrize(
    ("a", "b"),
    [(q(1, "B/s"), q(1, "B")), (q(1, "req/s"), q(1, "B/s")), (q(1, "s"), q(1, "core"))],
)
def test_adding_different_dimensions_is_refused(a, b):
    with pytest.raises(UnitError, match="different dimensions"):
        a + b


def test_bare_numbers_and_wrong_conversions_are_refused():
    with pytest.raises(UnitError, match="bare number"):
        q(1, "B") + 5
    with pytest.raises(UnitError, match="cannot express"):
        q(1, "B/s").to("GiB")
    with pytest.raises(UnitError, match="has units"):
        float(q(1, "B"))
    with pytest.raises(UnitError, match="unknown unit 'GBs'"):
        q(1, "GBs")
    with pytest.raises(UnitError, match="finite number"):
        q(float("nan"), "B")


def test_formatting_picks_a_readable_prefix():
    assert q(78.6, "TiB").format() == "78.6 TiB"
    assert q(1e6, "req/s").format() == "1M req/s"
    assert q(52.56, "min").format() == "52.6 min"
    assert q(0, "B").format() == "0 B"
    assert str(q(3, "B") / q(1, "core")) == "3 B/core"


def test_rates_can_be_shown_per_day():
    assert q(1e6, "req/s").format(per="day") == "86.4B req/day"
    assert q(1, "GB/s").format(per="day") == "78.6 TiB/day"
    assert q(5, "KiB").format(per="day") == "5 KiB"  # amounts are not rates
    with pytest.raises(UnitError, match="time unit"):
        q(1, "B/s").format(per="GiB")


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1e-3, max_value=1e15), st.sampled_from(["KiB", "GB", "PiB", "Mbit"]))
def test_conversion_round_trips(value, unit):
    assert Quantity.of(value, unit).to(unit) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(999_999, "req", "1M req"), (999_499, "req", "999K req"), (1023.9, "B", "1 KiB")],
)
def test_values_that_round_up_to_the_next_prefix_use_it(value, unit, text):
    assert q(value, unit).format() == text, "never '1e+03K': round, then pick the prefix"
