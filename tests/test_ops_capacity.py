"""The capacity planner against hand-computed cases and every seed scenario."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.ops import SEED_CLAIMS, Requirements, compare, plan, seed_scenarios
from razorlab.ops.capacity import DEFAULT_PER_CORE_QPS, DEFAULT_TARGET_UTILISATION


def test_one_million_tps_of_1kb_is_86_4_tb_a_day_at_worst():
    p = plan(Requirements(peak_qps=1e6, payload_bytes=1000, retention_days=10, replication=3))
    assert p.storage_per_day.to("TB") == pytest.approx(86.4)  # 1e6 × 1e3 × 86,400
    assert p.storage_total.to("TB") == pytest.approx(86.4 * 10 * 3)
    assert p.ingress.to("GB/s") == pytest.approx(1)
    assert p.replication_traffic.to("GB/s") == pytest.approx(2)
    assert p.bandwidth_gbps() == pytest.approx(24)  # (1 + 0 + 2) GB/s × 8
    assert p.cores == math.ceil(1e6 / 700)  # 1000/s per core at 70%
    assert p.servers == math.ceil(1429 / 32)


def test_storage_uses_the_average_and_compute_the_peak():
    p = plan(
        Requirements(
            peak_qps=300,
            avg_qps=100,
            payload_bytes=500,
            read_write_ratio=4,
            response_bytes=2000,
            per_core_qps=100,
            target_utilisation=1.0,
        )
    )
    assert p.writes_per_day.to("req") == pytest.approx(8.64e6)
    assert p.storage_per_day.to("B") == pytest.approx(8.64e6 * 500)
    assert p.peak_request_rate.to("req/s") == pytest.approx(1500)
    assert p.egress.to("B/s") == pytest.approx(1200 * 2000)
    assert p.cores == 15
    assert p.cache.to("B") == pytest.approx(0.2 * 8.64e6 * 500)


def test_from_daily_spreads_the_count_over_86400_seconds():
    r = Requirements.from_daily(10_000_000, 1000, peak_to_avg=3)
    assert r.avg_qps == pytest.approx(115.74, rel=1e-4)
    assert r.peak_qps == pytest.approx(347.2, rel=1e-3)
    assert plan(r).writes_per_day.to("req") == pytest.approx(1e7)


def test_table_shows_value_and_formula_for_each_metric():
    table = plan(seed_scenarios()["upi"]).table()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["value", "how"]
    assert table.loc["storage per day", "value"] == "9.31 GiB"
    assert "86,400" in table.loc["writes per day", "how"]


@pytest.mark.parametrize("name", sorted(seed_scenarios()))
def test_every_seed_scenario_plans_with_consistent_units(name):
    p = plan(seed_scenarios()[name])
    assert p.storage_per_day.unit == "B" and p.ingress.unit == "B/s"
    assert p.storage_total.to("B") >= p.storage_per_day.to("B")
    assert p.cores >= 1 and p.servers >= 1
    assert p.table().shape[0] == 12


def test_seed_payment_gateway_claims_check_out_only_in_parts():
    p = plan(seed_scenarios()["payment_gateway"])
    claims = SEED_CLAIMS["payment_gateway"]
    assert p.ingress.to("B/s") == pytest.approx(claims["ingress_bytes_per_s"])
    assert p.storage_per_day.to("B") == pytest.approx(claims["storage_bytes_per_day"], rel=0.01)
    # the seed's 10 Gbps cannot even carry the 8 Gbit/s of ingress plus two replicas
    assert p.bandwidth_gbps() > 2 * claims["network_gbit_per_s"]
    assert p.cores > claims["cores"]  # 1000 cores only at 100% utilisation


@pytest.mark.parametrize("name", ["whatsapp", "twitter"])
def test_seed_peaks_below_their_own_daily_average_are_rejected(name):
    claims = SEED_CLAIMS[name]
    with pytest.raises(ValidationError, match="cannot exceed peak_qps"):
        Requirements(
            peak_qps=claims["peak_per_s"], avg_qps=claims["per_day"] / 86_400, payload_bytes=1000
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"peak_qps": 0}, "peak_qps"),
        ({"peak_qps": float("inf")}, "peak_qps"),
        ({"payload_bytes": -1}, "payload_bytes"),
        ({"replication": 0}, "replication"),
        ({"replication": 2.5}, "replication"),
        ({"cache_fraction": 1.5}, "cache_fraction"),
        ({"target_utilisation": 0}, "target_utilisation"),
        ({"read_write_ratio": -1}, "read_write_ratio"),
        ({"peak_qps": True}, "peak_qps"),
    ],
)
def test_bad_requirements_name_the_field(kwargs, field):
    args = {"peak_qps": 100, "payload_bytes": 100} | kwargs
    with pytest.raises(ValidationError) as info:
        Requirements(**args)
    assert info.value.field == field


def test_plan_refuses_anything_but_requirements():
    with pytest.raises(ValidationError, match="needs Requirements"):
        plan({"peak_qps": 1})


def test_compare_lines_plans_up_in_fixed_units():
    table = compare(seed_scenarios())
    assert list(table.index) == list(seed_scenarios())
    assert table.loc["payment_gateway", "network (Gbit/s)"] == 24
    assert table.loc["upi", "cores"] == 1


@settings(max_examples=60, deadline=None)
@given(
    qps=st.floats(1, 1e7),
    payload=st.floats(1, 1e5),
    ratio=st.floats(0, 100),
    factor=st.floats(1.01, 10),
)
def test_storage_is_linear_and_cores_never_shrink_with_load(qps, payload, ratio, factor):
    base = plan(Requirements(peak_qps=qps, payload_bytes=payload, read_write_ratio=ratio))
    more = plan(Requirements(peak_qps=qps * factor, payload_bytes=payload, read_write_ratio=ratio))
    assert more.storage_per_day.to("B") == pytest.approx(base.storage_per_day.to("B") * factor)
    assert more.cores >= base.cores
    assert (
        base.cores * DEFAULT_PER_CORE_QPS * DEFAULT_TARGET_UTILISATION
        >= base.peak_request_rate.to("req/s") * (1 - 1e-9)
    ), "enough cores for the peak at the target utilisation"


def test_seventy_percent_across_three_zones_does_not_survive_losing_one():
    from razorlab.ops.capacity import after_zone_loss, max_utilisation

    assert after_zone_loss(0.7, 3) == pytest.approx(1.05), "two survivors run at 105%"
    assert max_utilisation(3) == pytest.approx(2 / 3)
    assert after_zone_loss(max_utilisation(3), 3) == pytest.approx(1.0)
    assert after_zone_loss(0.7, 4) == pytest.approx(0.9333, rel=1e-4)
    assert max_utilisation(4) == pytest.approx(0.75)
    assert max_utilisation(2) == pytest.approx(0.5)
    assert max_utilisation(5, lost=2) == pytest.approx(0.6)
    assert DEFAULT_TARGET_UTILISATION > max_utilisation(3), "the 70% default is not zone-proof"


@pytest.mark.parametrize("zones, lost", [(1, 1), (3, 3), (2, -1), (3.0, 1), (True, 0)])
def test_zone_loss_needs_a_survivor_and_int_counts(zones, lost):
    from razorlab.ops.capacity import max_utilisation

    with pytest.raises(ValidationError):
        max_utilisation(zones, lost)
