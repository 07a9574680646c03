"""Circuit breaker: closed → open at the failure-rate threshold → half-open → closed/open."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.breaker import (
    HYSTRIX_LIKE,
    RESILIENCE4J_DEFAULTS,
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
)

SMALL = BreakerConfig(
    failure_rate_threshold=0.5,
    sliding_window_size=10,
    minimum_number_of_calls=10,
    wait_duration_in_open_s=30,
    permitted_calls_in_half_open=3,
)


def feed(breaker, outcomes):
    for failed in outcomes:
        breaker.allow()
        breaker.record_failure() if failed else breaker.record_success()


def test_defaults_are_resilience4j_and_hystrix():
    assert RESILIENCE4J_DEFAULTS == BreakerConfig(0.5, 100, 100, 60.0, 10)
    assert HYSTRIX_LIKE.minimum_number_of_calls == 20
    assert HYSTRIX_LIKE.wait_duration_in_open_s == 5.0


def test_stays_closed_below_minimum_calls_even_if_all_fail():
    breaker = CircuitBreaker("hdfc:card", ManualClock(), SMALL)
    feed(breaker, [True] * 9)
    assert breaker.state is BreakerState.CLOSED and breaker.failure_rate() is None


def test_opens_exactly_when_failure_rate_reaches_threshold():
    breaker = CircuitBreaker("hdfc:card", ManualClock(), SMALL)
    feed(breaker, [False] * 6 + [True] * 4)
    assert breaker.state is BreakerState.CLOSED and breaker.failure_rate() == 0.4
    feed(breaker, [True])  # window now 5 successes, 5 failures: 50% >= 50%
    assert breaker.state is BreakerState.OPEN
    assert breaker.transitions[-1].failure_rate == 0.5


def test_open_rejects_with_503_and_time_to_retry():
    clock = ManualClock()
    breaker = CircuitBreaker("hdfc:card", clock, SMALL)
    feed(breaker, [True] * 10)
    clock.advance(12)
    with pytest.raises(CircuitOpen) as info:
        breaker.allow()
    err = info.value
    assert err.http_status == 503 and err.code == "SERVICE_UNAVAILABLE"
    assert err.retry_after_s == pytest.approx(18) and err.state is BreakerState.OPEN
    assert breaker.calls["rejected"] == 1


def test_half_open_after_wait_admits_only_the_probe_calls():
    clock = ManualClock()
    breaker = CircuitBreaker("b", clock, SMALL)
    feed(breaker, [True] * 10)
    clock.advance(29.999)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.001)
    assert breaker.state is BreakerState.HALF_OPEN
    for _ in range(3):
        breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.allow()


def test_half_open_closes_when_probes_succeed_and_reopens_when_they_fail():
    clock = ManualClock()
    breaker = CircuitBreaker("b", clock, SMALL)
    feed(breaker, [True] * 10)
    clock.advance(30)
    feed(breaker, [True, False, False])  # 1/3 < 50%
    assert breaker.state is BreakerState.CLOSED and breaker.failure_rate() is None
    feed(breaker, [True] * 10)
    clock.advance(30)
    feed(breaker, [True, True, False])  # 2/3 >= 50%
    assert breaker.state is BreakerState.OPEN
    states = [(t.from_state, t.to_state) for t in breaker.transitions]
    assert states == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
    ]
    assert [t.at - breaker.transitions[0].at for t in breaker.transitions] == [
        0,
        30,
        30,
        30,
        60,
        60,
    ]


async def test_call_counts_only_chosen_exceptions_as_failures():
    breaker = CircuitBreaker("b", ManualClock(), SMALL)

    class Declined(Exception):
        pass

    async def decline():
        raise Declined("card declined")

    for _ in range(10):
        with pytest.raises(Declined):
            await breaker.call(decline, is_failure=lambda e: not isinstance(e, Declined))
    assert breaker.state is BreakerState.CLOSED, "a decline is the bank working, not failing"

    async def ok():
        return "done"

    assert await breaker.call(ok) == "done"


async def test_registry_keeps_one_breaker_per_key_and_one_log():
    clock = ManualClock()
    registry = BreakerRegistry(clock, SMALL)

    async def boom():
        raise TimeoutError

    for _ in range(10):
        with pytest.raises(TimeoutError):
            await registry.call("sbi:upi", boom)
    assert registry["sbi:upi"].state is BreakerState.OPEN
    assert registry["hdfc:card"].state is BreakerState.CLOSED
    assert "sbi:upi" in registry
    rows = {r["key"]: r for r in registry.snapshot()}
    assert rows["sbi:upi"]["failure"] == 10 and rows["hdfc:card"]["state"] == "closed"
    assert registry.transition_records()[0]["to_state"] == "open"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_rate_threshold": 0},
        {"failure_rate_threshold": 1.5},
        {"sliding_window_size": 0},
        {"permitted_calls_in_half_open": 0},
        {"wait_duration_in_open_s": -1},
    ],
)
def test_bad_configs_are_rejected(kwargs):
    with pytest.raises(ValidationError):
        BreakerConfig(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    window=st.integers(1, 20),
    minimum=st.integers(1, 25),
    threshold=st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]),
    outcomes=st.lists(st.booleans(), max_size=60),
)
def test_opens_at_the_first_call_where_the_window_rate_reaches_threshold(
    window, minimum, threshold, outcomes
):
    config = BreakerConfig(threshold, window, minimum, 60, 1)
    breaker = CircuitBreaker("b", ManualClock(), config)
    seen = []
    for failed in outcomes:
        seen.append(failed)
        feed(breaker, [failed])
        recent = seen[-window:]
        should_open = len(recent) >= min(minimum, window) and (
            sum(recent) / len(recent) >= threshold
        )
        assert (breaker.state is BreakerState.OPEN) == should_open
        if should_open:
            break


def test_release_returns_an_unused_half_open_probe_slot():
    clock = ManualClock()
    breaker = CircuitBreaker("b", clock, SMALL)
    feed(breaker, [True] * 10)
    clock.advance(30)
    for _ in range(3):
        breaker.allow()
    breaker.release()  # that call was refused later in the pipeline, never reached the bank
    breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.allow()
    for _ in range(3):
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.release()  # a closed breaker has nothing to give back
    assert breaker.state is BreakerState.CLOSED


def test_reject_if_open_never_takes_a_probe_slot():
    clock = ManualClock()
    breaker = CircuitBreaker("bank", clock, BreakerConfig(
        failure_rate_threshold=0.5, sliding_window_size=2, minimum_number_of_calls=2,
        wait_duration_in_open_s=10, permitted_calls_in_half_open=1,
    ))  # fmt: skip
    for _ in range(2):
        breaker.allow()
        breaker.record_failure()
    with pytest.raises(CircuitOpen):
        breaker.reject_if_open()
    clock.advance(10)
    breaker.reject_if_open()  # half-open now: no error, and the one probe is still free
    breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.allow()
