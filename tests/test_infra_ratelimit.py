"""Token-bucket rate limiter: burst + rate, Retry-After, bounded memory."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.ratelimit import RateLimited, RateLimiter


def test_full_bucket_admits_exactly_burst_then_refuses():
    limiter = RateLimiter(ManualClock(), rate_per_s=10, burst=5)
    decisions = [limiter.try_acquire("m1") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].retry_after_s == pytest.approx(0.1)


def test_refill_is_rate_per_second_capped_at_burst():
    clock = ManualClock()
    limiter = RateLimiter(clock, rate_per_s=2, burst=4)
    for _ in range(4):
        limiter.acquire("m1")
    clock.advance(1.0)
    assert limiter.tokens("m1") == pytest.approx(2)
    clock.advance(100)
    assert limiter.tokens("m1") == pytest.approx(4), "a bucket never holds more than burst"


def test_retry_after_is_exactly_when_the_request_would_pass():
    clock = ManualClock()
    limiter = RateLimiter(clock, rate_per_s=4, burst=8)
    for _ in range(8):
        limiter.acquire("m1")
    refused = limiter.try_acquire("m1", cost=3)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(0.75)
    clock.advance(refused.retry_after_s)
    assert limiter.try_acquire("m1", cost=3).allowed


def test_acquire_raises_429_with_retry_after_header_rounded_up():
    limiter = RateLimiter(ManualClock(), rate_per_s=4, burst=1)
    limiter.acquire("m1")
    with pytest.raises(RateLimited) as info:
        limiter.acquire("m1")
    err = info.value
    assert err.http_status == 429 and err.code == "RATE_LIMIT_EXCEEDED"
    assert err.retry_after_s == pytest.approx(0.25) and err.retry_after_header == "1"
    assert err.to_dict()["code"] == "RATE_LIMIT_EXCEEDED"


def test_merchants_have_independent_buckets_and_overrides():
    limiter = RateLimiter(ManualClock(), rate_per_s=1, burst=1)
    limiter.set_limit("big", rate_per_s=100, burst=50)
    assert limiter.try_acquire("small").allowed and not limiter.try_acquire("small").allowed
    assert all(limiter.try_acquire("big").allowed for _ in range(50))
    assert limiter.limits("big") == (100.0, 50.0)


@pytest.mark.parametrize("cost", [0, -1, True, "1", 2.5])
def test_bad_costs_are_rejected(cost):
    limiter = RateLimiter(ManualClock(), rate_per_s=1, burst=2)
    with pytest.raises(ValidationError):
        limiter.try_acquire("m1", cost=cost)


@pytest.mark.parametrize("rate,burst", [(0, 1), (-1, 5), (1, 0), (float("nan"), 5)])
def test_bad_limits_are_rejected(rate, burst):
    with pytest.raises(ValidationError):
        RateLimiter(ManualClock(), rate_per_s=rate, burst=burst)


def test_idle_full_buckets_are_evicted_without_losing_anything():
    clock = ManualClock()
    limiter = RateLimiter(clock, rate_per_s=1, burst=2, max_keys=1_000)
    for i in range(500):
        limiter.acquire(f"m{i}")
    clock.advance(10)  # every bucket is full again
    limiter.acquire("new")
    assert len(limiter) == 1
    assert limiter.evictions == 500 and limiter.lossy_evictions == 0


def test_memory_stays_bounded_under_many_active_merchants():
    limiter = RateLimiter(ManualClock(), rate_per_s=1, burst=2, max_keys=100)
    for i in range(1_000):
        limiter.acquire(f"m{i}")
    assert len(limiter) == 100
    assert limiter.lossy_evictions == 900


def test_history_and_snapshot_are_observable():
    limiter = RateLimiter(ManualClock(), rate_per_s=1, burst=1, history_max=3)
    for _ in range(5):
        limiter.try_acquire("m1")
    assert len(limiter.history) == 3
    assert limiter.history_records()[-1]["allowed"] is False
    assert limiter.snapshot() == {
        "buckets": 1,
        "admitted": 1,
        "rejected": 4,
        "evictions": 0,
        "lossy_evictions": 0,
    }


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.floats(0, 2), st.integers(1, 3)), min_size=1, max_size=80),
)
def test_never_admits_more_than_burst_plus_rate_times_elapsed(rate, burst, steps):
    clock = ManualClock(start=0.0)  # small timestamps: no float rounding of elapsed time
    limiter = RateLimiter(clock, rate_per_s=rate, burst=burst)
    admitted = []  # (time, cost)
    for gap, cost in steps:
        clock.advance(gap)
        if cost <= burst and limiter.try_acquire("m", cost).allowed:
            admitted.append((clock.now(), cost))
    for i, (start, _) in enumerate(admitted):  # every window [start, end], not just from 0
        total = 0
        for end, cost in admitted[i:]:
            total += cost
            assert total <= burst + rate * (end - start) + 1e-6
