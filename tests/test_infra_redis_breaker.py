"""The fleet-wide circuit breaker on Redis decides exactly as the in-process one, is shared by
every object of the same name, counts half-open permits fleet-wide, and reports an unreachable
server as a typed error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.backends import BackendUnavailable, RedisCircuitBreaker, circuit_breaker
from razorlab.infra.breaker import (
    HYSTRIX_LIKE,
    RESILIENCE4J_DEFAULTS,
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
)
from razorlab.infra.services import free_port
from razorlab.rand import py_random
from tests.test_infra_breaker import SMALL  # the same small config as the in-process tests

EAGER = BreakerConfig(  # judges from 5 calls in a window of 20; odd threshold and wait
    failure_rate_threshold=0.3,
    sliding_window_size=20,
    minimum_number_of_calls=5,
    wait_duration_in_open_s=2.5,
    permitted_calls_in_half_open=2,
)


@pytest.fixture
def namespace(request) -> str:
    return f"t-{os.getpid()}-{request.node.name}".replace("[", "-").replace("]", "")


@pytest.fixture
def redis_breaker(redis_url, clock, namespace):
    def make(key: str, config: BreakerConfig) -> RedisCircuitBreaker:
        breaker = RedisCircuitBreaker(key, clock, redis_url, config, namespace=namespace)
        made.append(breaker)
        return breaker

    made: list[RedisCircuitBreaker] = []
    yield make
    for breaker in made:
        breaker.clear()
        breaker.close()


def _try(breaker: CircuitBreaker) -> tuple[object, ...]:
    """``allow()`` as a comparable value: admitted, or refused with its state and retry time."""
    try:
        breaker.allow()
    except CircuitOpen as exc:
        return ("refused", exc.state, exc.retry_after_s)
    return ("admitted",)


def _drive(breakers: list[CircuitBreaker], clock: ManualClock, seed: int, steps: int, gap: float):
    """Seeded traffic with calls in flight, through every breaker in lockstep; the outcomes."""
    rng = py_random(seed, "redis-breaker")
    in_flight = 0
    seen = []
    for step in range(steps):
        if step % 150 == 0:
            failure_p = rng.choice([0.0, 0.2, 0.5, 0.9, 1.0])  # the bank's health changes
        clock.advance(rng.choice([0.0, 0.0, 0.1, gap / 4, gap]))
        action, failed = rng.random(), rng.random() < failure_p
        if action < 0.5 or in_flight == 0:
            got = [_try(b) for b in breakers]
            in_flight += got[0] == ("admitted",)
        else:
            in_flight -= 1
            for b in breakers:
                if action < 0.95:
                    b.record_failure() if failed else b.record_success()
                else:
                    b.release()  # a call refused later (e.g. by the rate limiter)
            got = [None] * len(breakers)
        got = [(g, b.state, b.failure_rate()) for g, b in zip(got, breakers, strict=True)]
        assert all(g == got[0] for g in got), f"step {step}: {got}"
        seen.append(got[0])
    return seen


@pytest.mark.parametrize(
    "config",
    [SMALL, EAGER, HYSTRIX_LIKE, RESILIENCE4J_DEFAULTS],
    ids=["small", "eager", "hystrix", "r4j"],
)
def test_redis_breaker_makes_the_in_process_decisions(redis_breaker, clock, config):
    local = CircuitBreaker("hdfc:card", clock, config)
    shared = redis_breaker("hdfc:card", config)
    steps = 3000 if config is RESILIENCE4J_DEFAULTS else 1200
    seen = _drive([local, shared], clock, seed=18, steps=steps, gap=config.wait_duration_in_open_s)
    assert shared.transitions == local.transitions
    assert shared.snapshot() == local.snapshot()
    states = {state for _, state, _ in seen}
    assert states == set(BreakerState), "the traffic visits every state"
    assert {t.to_state for t in local.transitions} == {s.value for s in BreakerState}
    assert any(t.from_state == "half_open" and t.to_state == "open" for t in local.transitions)


def test_two_breakers_of_one_name_share_failures(redis_breaker, clock):
    """Two gateway processes, one bank: failures seen by one open the breaker for both."""
    a, b = redis_breaker("icici:upi", SMALL), redis_breaker("icici:upi", SMALL)
    for i in range(10):
        caller = a if i % 2 else b
        caller.allow()
        caller.record_failure()
    assert a.state is BreakerState.OPEN and b.state is BreakerState.OPEN
    assert a.failure_rate() == b.failure_rate() == 1.0
    with pytest.raises(CircuitOpen) as refused:
        b.allow()
    assert refused.value.retry_after_s == 30 and b.calls["rejected"] == 1
    assert [t.to_state for t in a.transitions] == ["open"], "a's last failure opened it"
    assert b.transitions == []


def test_half_open_permits_are_counted_across_the_fleet(redis_breaker, clock):
    a, b = redis_breaker("axis:netbanking", SMALL), redis_breaker("axis:netbanking", SMALL)
    for _ in range(10):
        a.allow()
        a.record_failure()
    clock.advance(30)
    a.allow()
    b.allow()
    a.allow()  # three permits taken, by two processes
    for breaker in (a, b, b, a):
        with pytest.raises(CircuitOpen) as refused:
            breaker.allow()
        assert refused.value.state is BreakerState.HALF_OPEN
    b.release()  # b's probe never reached the bank: its permit goes back to the fleet
    a.allow()
    with pytest.raises(CircuitOpen):
        b.allow()
    for breaker in (a, a, b):
        breaker.record_success()
    assert a.state is BreakerState.CLOSED and b.state is BreakerState.CLOSED
    assert b.transitions[-1].to_state == "closed" and b.transitions[-1].failure_rate == 0.0


_WORKER = """
import sys
from razorlab.clock import ManualClock
from razorlab.infra.backends import RedisCircuitBreaker
from razorlab.infra.breaker import BreakerConfig, CircuitOpen
config = BreakerConfig(0.5, 10, 10, 30.0, 3)
breaker = RedisCircuitBreaker("kotak:card", ManualClock(float(sys.argv[3])), sys.argv[1], config,
                              namespace=sys.argv[2])
admitted = 0
for _ in range(100):
    try:
        breaker.allow()
        admitted += 1
    except CircuitOpen:
        pass
print(admitted)
"""


def test_processes_racing_for_probe_permits_take_only_the_permitted(
    redis_breaker, redis_url, clock, namespace
):
    """Two real processes ask 100 times each as the breaker turns half-open: 3 probes in all."""
    assert SMALL == BreakerConfig(0.5, 10, 10, 30.0, 3), "the worker builds the same config"
    breaker = redis_breaker("kotak:card", SMALL)
    for _ in range(10):
        breaker.allow()
        breaker.record_failure()
    clock.advance(30)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    args = [sys.executable, "-c", _WORKER, redis_url, namespace, repr(clock.now())]
    workers = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    admitted = [int(w.communicate()[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(admitted) == 3, f"admitted {admitted}: the half-open breaker had 3 permits"
    assert breaker.state is BreakerState.HALF_OPEN


def test_bad_input_is_refused_and_stores_nothing(redis_url, clock, namespace):
    for key in ("", None):
        with pytest.raises(ValidationError):
            RedisCircuitBreaker(key, clock, redis_url, SMALL, namespace=namespace)
    with pytest.raises(ValidationError):
        RedisCircuitBreaker("b", clock, redis_url, namespace="has*glob")
    with pytest.raises(ValidationError):
        RedisCircuitBreaker("b", clock, "http://127.0.0.1:1")


def test_unreachable_redis_is_a_typed_error_and_counts_nothing(clock):
    port = free_port()  # nothing listens there
    breaker = RedisCircuitBreaker("hdfc:card", clock, f"redis://127.0.0.1:{port}/0", SMALL)
    for operation in (breaker.allow, breaker.record_failure, lambda: breaker.state):
        with pytest.raises(BackendUnavailable) as down:
            operation()
        assert down.value.http_status == 503 and str(port) in down.value.description
    assert breaker.calls == {"success": 0, "failure": 0, "rejected": 0}
    assert breaker.transitions == []
    breaker.close()


def test_url_picks_the_backend_and_no_url_keeps_the_embedded_one(redis_url, clock, monkeypatch):
    monkeypatch.delenv("RAZORLAB_REDIS_URL", raising=False)
    assert type(circuit_breaker("b", clock, config=SMALL)) is CircuitBreaker
    shared = circuit_breaker("b", clock, url=redis_url, config=SMALL, namespace="factory")
    assert isinstance(shared, RedisCircuitBreaker) and shared.config is SMALL
    shared.close()
    monkeypatch.setenv("RAZORLAB_REDIS_URL", redis_url)
    from_env = circuit_breaker("b", clock, namespace="factory")
    assert isinstance(from_env, RedisCircuitBreaker)
    from_env.close()
