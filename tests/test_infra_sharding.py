"""Consistent hashing: stable placement, ~1/(N+1) keys moved, modulo moves most."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ConflictError, NotFoundError, ValidationError
from razorlab.infra.sharding import (
    HashRing,
    compare_schemes,
    hash_keys,
    hot_shard_report,
    imbalance_by_vnodes,
    jump_hash,
    jump_placement,
    merchant_ids,
    merchant_volumes,
    modulo_placement,
    rebalance_stats,
    split_hot_keys,
    stable_hash64,
    traffic_shares,
)

HASHES = hash_keys(merchant_ids(100_000, seed=7))


def test_hash_is_stable_across_processes():
    code = "from razorlab.infra.sharding import stable_hash64; print(stable_hash64('merch_1'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == stable_hash64("merch_1")
    assert hash_keys(["merch_1"])[0] == stable_hash64("merch_1")


def test_shard_for_agrees_with_vectorised_placement():
    ring = HashRing(["a", "b", "c"], vnodes=50)
    keys = merchant_ids(500)
    assert list(ring.shards_for(keys)) == [ring.shard_for(k) for k in keys]


def test_ownership_sums_to_one_and_more_vnodes_balance_better():
    coarse = HashRing([f"s{i}" for i in range(8)], vnodes=1).ownership()
    fine = HashRing([f"s{i}" for i in range(8)], vnodes=500).ownership()
    assert sum(coarse.values()) == pytest.approx(1) and sum(fine.values()) == pytest.approx(1)
    assert max(fine.values()) / min(fine.values()) < max(coarse.values()) / min(coarse.values())


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 40))
def test_ring_moves_about_one_in_n_plus_one_keys(n):
    stats = rebalance_stats(HASHES, n, "ring")
    assert stats.moved_fraction == pytest.approx(1 / (n + 1), rel=0.35)


@pytest.mark.parametrize("n", [4, 9, 16])
def test_modulo_moves_about_n_over_n_plus_one_keys(n):
    stats = rebalance_stats(HASHES, n, "modulo")
    assert stats.moved_fraction == pytest.approx(n / (n + 1), rel=0.02)


def test_jump_hash_moves_the_minimum_and_balances():
    stats = rebalance_stats(HASHES, 9, "jump")
    assert stats.moved_fraction == pytest.approx(0.1, rel=0.05)
    assert stats.imbalance < 1.05


def test_adding_a_shard_only_moves_keys_to_the_new_shard():
    ring = HashRing([f"shard-{i}" for i in range(5)])
    before = ring.place(HASHES)
    ring.add_shard("shard-5")
    after = ring.place(HASHES)
    assert set(after[before != after].tolist()) == {5}


def test_removing_a_shard_restores_the_old_placement():
    ring = HashRing(["a", "b", "c"])
    before = ring.shards_for(merchant_ids(1_000))
    ring.add_shard("d")
    ring.remove_shard("d")
    assert (ring.shards_for(merchant_ids(1_000)) == before).all()


def test_ring_errors_are_typed():
    ring = HashRing(["a"])
    with pytest.raises(ConflictError):
        ring.add_shard("a")
    with pytest.raises(NotFoundError):
        ring.remove_shard("zz")
    ring.remove_shard("a")
    with pytest.raises(NotFoundError):
        ring.shard_for("m")
    with pytest.raises(ValidationError):
        HashRing(vnodes=0)
    with pytest.raises(ValidationError):
        rebalance_stats(HASHES[:10], 3, "rendezvous")


@settings(max_examples=60, deadline=None)
@given(key=st.integers(0, 2**64 - 1), n=st.integers(1, 200))
def test_jump_hash_is_in_range_and_monotone(key, n):
    b = jump_hash(key, n)
    assert 0 <= b < n
    assert jump_hash(key, n + 1) in (b, n), "growing N moves a key only to the new bucket"


def test_jump_hash_matches_the_scalar_reference_algorithm():
    def reference(key, n):  # Lamping & Veach, Figure 1, in Python integers
        b, j = -1, 0
        while j < n:
            b = j
            key = (key * 2862933555777941757 + 1) % 2**64
            j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
        return b

    keys = HASHES[:300]
    assert jump_placement(keys, 37).tolist() == [reference(int(k), 37) for k in keys]


def test_modulo_and_merchant_ids_are_deterministic():
    assert merchant_ids(5, seed=1) == merchant_ids(5, seed=1) != merchant_ids(5, seed=2)
    assert len(set(merchant_ids(10_000))) == 10_000
    assert np.array_equal(modulo_placement(np.array([10, 11], dtype=np.uint64), 3), [1, 2])


def test_compare_schemes_covers_every_pair():
    rows = compare_schemes(n_keys=2_000, shard_counts=[2, 3], schemes=("modulo", "ring"))
    assert [(r.n_before, r.scheme) for r in rows] == [
        (2, "modulo"),
        (2, "ring"),
        (3, "modulo"),
        (3, "ring"),
    ]


def test_more_virtual_nodes_flatten_the_load():
    rows = imbalance_by_vnodes(8, (1, 16, 512), n_keys=50_000)
    imbalance = [r["imbalance"] for r in rows]
    assert imbalance[0] > imbalance[1] > imbalance[2] >= 1.0
    assert imbalance[2] < 1.1


def test_merchant_volumes_are_zipf_shares_that_sum_to_one():
    v = merchant_volumes(10_000)
    assert v.sum() == pytest.approx(1) and (np.diff(v) <= 0).all()
    assert v[0] == pytest.approx(1 / sum(1 / r for r in range(1, 10_001)))
    assert merchant_volumes(4, exponent=0).tolist() == [0.25] * 4
    with pytest.raises(ValidationError):
        merchant_volumes(0)


def test_split_hot_keys_keeps_the_total_and_splits_only_the_heaviest():
    keys, weights = split_hot_keys(["a", "b", "c"], np.array([0.2, 0.7, 0.1]), top=1, parts=4)
    assert keys == ["a", "b#0", "b#1", "b#2", "b#3", "c"]
    assert weights.sum() == pytest.approx(1) and weights[1] == pytest.approx(0.175)


def test_traffic_shares_follow_the_weights_of_the_keys_each_shard_owns():
    ring = HashRing(["s0", "s1", "s2"], vnodes=50)
    keys = merchant_ids(300)
    shares = traffic_shares(ring, keys, np.ones(300))
    counts = np.bincount(ring.place(hash_keys(keys)), minlength=3)
    assert shares.sum() == pytest.approx(1) and shares.tolist() == pytest.approx(counts / 300)


def test_sharding_by_merchant_makes_a_hot_shard_and_the_fixes_cool_it():
    rows = {r["shard by"]: r for r in hot_shard_report(n_merchants=5_000, n_payments=50_000)}
    by_merchant = rows["merchant id"]["hottest / mean"]
    assert by_merchant > 2, "the biggest merchant alone sends more than two shards' worth"
    assert rows["hot merchants split"]["hottest / mean"] < by_merchant
    assert rows["payment id"]["hottest / mean"] < 1.2
    assert all(r["mean shard"] == pytest.approx(1 / 16) for r in rows.values())
