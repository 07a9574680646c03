"""Netting: vectorised results equal the naive oracle; savings grow with two-wayness."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.settlement import (
    bilateral_net,
    naive_netting,
    net_positions,
    netting,
    netting_summary,
    random_obligations,
    savings_by_two_way,
)

obligation = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 10**9)).filter(
    lambda o: o[0] != o[1]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(obligation, min_size=1, max_size=40))
def test_vectorised_netting_equals_naive_oracle(obligations):
    payer, payee, amount = (np.array(c, dtype=np.int64) for c in zip(*obligations, strict=True))
    assert netting_summary(payer, payee, amount, 6) == naive_netting(obligations)
    assert net_positions(payer, payee, amount, 6).sum() == 0, "positions sum to zero"


@settings(max_examples=30, deadline=None)
@given(st.lists(obligation, min_size=1, max_size=40))
def test_sparse_sorting_path_equals_the_dense_path(obligations):
    payer, payee, amount = (np.array(c, dtype=np.int64) for c in zip(*obligations, strict=True))
    dense = bilateral_net(payer, payee, amount, 6)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netting, "_DENSE_PAIRS", 0)
        sparse = bilateral_net(payer, payee, amount, 6)
    key = ["payer", "payee"]
    assert dense.sort_values(key, ignore_index=True).equals(
        sparse.sort_values(key, ignore_index=True)
    )


def test_sums_stay_exact_beyond_float_precision():
    big = 2**52 + 1  # not representable after adding in float64
    pairs = bilateral_net(np.array([0, 0]), np.array([1, 1]), np.array([big, big]), 2)
    assert int(pairs["amount"].iloc[0]) == 2 * big


def test_bilateral_pair_pays_only_the_difference():
    pairs = bilateral_net(np.array([0, 1]), np.array([1, 0]), np.array([10_000, 7_000]), 2)
    assert pairs.to_dict("records") == [{"payer": 0, "payee": 1, "amount": 3_000}]


def test_dense_two_way_network_saves_about_what_cls_reports():
    r = netting_summary(*random_obligations(50, 50_000, two_way=1.0, seed=7), 50)
    assert r.reduction("multilateral") > 0.9
    assert r.multilateral_count <= 50


def test_one_way_flows_save_no_value():
    df = savings_by_two_way([0.0, 0.5, 1.0], n=5_000)
    assert df["multilateral_value"].iloc[0] == 0
    assert df["multilateral_value"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("payer", "payee", "amount"),
    [([0], [0], [5]), ([0], [1], [0]), ([0], [9], [5]), ([0, 1], [1], [5])],
)
def test_bad_obligations_are_refused(payer, payee, amount):
    with pytest.raises(ValidationError):
        netting_summary(np.array(payer), np.array(payee), np.array(amount), 3)
