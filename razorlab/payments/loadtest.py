"""A small closed-loop load test against the HTTP API, with per-request latency.

Scenario: "p99 < 100 ms" is a claim about a running server, so measure one. ``n``
create-payment requests go out from ``concurrency`` workers (each sends its next
request when the previous answer arrives — a closed loop, like most benchmark tools;
an open loop with Poisson arrivals, as wrk2 does, shows queueing that a closed loop
hides). Latency is measured with the wall clock, which is right for a measurement and
why cells that show it are excluded from nbval's output comparison.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import numpy as np

__all__ = ["LoadResult", "load_test"]


@dataclass(frozen=True)
class LoadResult:
    latencies_ms: np.ndarray
    statuses: Counter
    elapsed_s: float

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))

    def summary(self) -> dict[str, float]:
        return {
            "requests": len(self.latencies_ms),
            "req/s": round(self.rps),
            "p50 ms": round(self.percentile(50), 2),
            "p99 ms": round(self.percentile(99), 2),
        }


async def load_test(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Callable[[int], dict] | None = None,
    n: int = 500,
    concurrency: int = 16,
) -> LoadResult:
    """POST ``body(i)`` as JSON to ``url`` ``n`` times (GET if ``body`` is None)."""
    latencies = np.zeros(n)
    statuses: Counter = Counter()
    next_index = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            for i in next_index:
                began = time.perf_counter()
                if body is None:
                    request = session.get(url)
                else:
                    request = session.post(url, json=body(i))
                async with request as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                latencies[i] = (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return LoadResult(latencies, statuses, elapsed)
