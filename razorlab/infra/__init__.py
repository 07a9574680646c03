"""Generic building blocks every service here stands on: breakers, rate limits, caches, shards.

None of these knows about payments, seats or messages: the gateway puts a breaker in front of
each bank route and a token bucket in front of each merchant, booking and messaging can do the
same. Each module is one idea with its design note:

* :mod:`~razorlab.infra.breaker` — circuit breakers (closed → open → half-open), per key;
* :mod:`~razorlab.infra.ratelimit` — token buckets, per key;
* :mod:`~razorlab.infra.cache` — an in-process LRU (L1) over a shared store (L2) and a loader;
* :mod:`~razorlab.infra.sharding` — consistent hashing, jump hash and modulo placement;
* :mod:`~razorlab.infra.latency` — a Monte-Carlo latency budget for a pipeline of steps;
* :mod:`~razorlab.infra.outage` — a drill: steady traffic to a dependency that fails;
* :mod:`~razorlab.infra.plots` — figures of all of the above (imported on demand: plotly).
"""

from razorlab.infra.breaker import (
    HYSTRIX_LIKE,
    RESILIENCE4J_DEFAULTS,
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    Transition,
)
from razorlab.infra.cache import InMemoryL2, L2Store, LRUCache, MultiLevelCache
from razorlab.infra.latency import PIPELINE_STEPS, LatencyBudget, Step, fanout_p99
from razorlab.infra.outage import DRILL_CONFIG, OutageRun, simulate_outage
from razorlab.infra.ratelimit import RateDecision, RateLimited, RateLimiter, TokenBucket
from razorlab.infra.sharding import (
    HashRing,
    compare_schemes,
    jump_hash,
    modulo_placement,
    rebalance_stats,
)

__all__ = [
    "HYSTRIX_LIKE",
    "RESILIENCE4J_DEFAULTS",
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpen",
    "Transition",
    "InMemoryL2",
    "L2Store",
    "LRUCache",
    "MultiLevelCache",
    "PIPELINE_STEPS",
    "LatencyBudget",
    "Step",
    "fanout_p99",
    "DRILL_CONFIG",
    "OutageRun",
    "simulate_outage",
    "RateDecision",
    "RateLimited",
    "RateLimiter",
    "TokenBucket",
    "HashRing",
    "compare_schemes",
    "jump_hash",
    "modulo_placement",
    "rebalance_stats",
]
