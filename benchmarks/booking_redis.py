"""Seat holds on real Redis under contention: one Lua script vs a ``SET NX`` per seat.

The opening-minute rush of ``booking_holds`` (5,000 requests of 1–4 adjacent seats for one
show's 100 seats, seed 42), sent by 50 concurrent clients to the Redis that ``make services``
started (or ``RAZORLAB_REDIS_URL``); without one it prints how to start it and skips.

* **Lua script** (``RedisSeatHolds.hold``): one round trip checks every seat and holds all or
  none, fencing token included.
* **SET NX per seat**: ``SET key user NX PX ttl`` seat by seat, stopping at the first refusal
  and deleting the seats already taken (a plain ``DEL`` is safe here only because the run is far
  shorter than the TTL; a real client would need a compare-and-delete). Each seat costs a
  round trip, so a 4-seat request that fails on its last seat costs 4 + 1.

Both methods run the same requests in the same process and minute, after a warm-up, each on its
own namespace; the ratio and the latency percentiles are what to compare (wall-clock times on a
loopback Redis depend on the machine).
"""

import asyncio
import os
import time
from pathlib import Path

import numpy as np

from razorlab.clock import EPOCH_2026
from razorlab.infra.backends.redis_conn import BackendUnavailable
from razorlab.infra.services import recorded_redis_url
from razorlab.social.booking.models import HOLD_TTL_S, SeatsUnavailable
from razorlab.social.booking.redis_holds import RedisSeatHolds
from razorlab.social.booking.simulation import popular_show, rush_requests

ATTEMPTS = 5_000
WARMUP = 500
CLIENTS = 50
SEED = 42
ROOT = Path(__file__).resolve().parent.parent


async def _lua(holds: RedisSeatHolds, show, seats: list[str], user: str) -> tuple[bool, int]:
    try:
        await holds.hold(show, seats, user, EPOCH_2026, HOLD_TTL_S)
    except SeatsUnavailable:
        return False, 1
    return True, 1


async def _set_nx(holds: RedisSeatHolds, show, seats: list[str], user: str) -> tuple[bool, int]:
    taken: list[str] = []
    for seat in seats:
        key = holds.seat_key(show.show_id, seat)
        if not await holds.command("SET", key, user, "NX", "PX", HOLD_TTL_S * 1000):
            if taken:
                await holds.command("DEL", *taken)
            return False, len(taken) + 1 + bool(taken)
        taken.append(key)
    return True, len(taken)


async def _run(url: str, method, requests: list[list[str]], shows: list) -> dict[str, object]:
    """Request ``i`` for ``shows[i]`` through ``method``, by ``CLIENTS`` workers; wall times."""
    holds = RedisSeatHolds(url, namespace=f"bench-{os.getpid()}-{method.__name__}")
    queue = list(enumerate(requests))
    latencies, held, trips = [], 0, 0

    async def worker() -> None:
        nonlocal held, trips
        while queue:
            i, seats = queue.pop()
            tick = time.perf_counter()
            ok, round_trips = await method(holds, shows[i], seats, f"u{i}")
            latencies.append(time.perf_counter() - tick)
            held += ok
            trips += round_trips

    try:
        await holds.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    finally:
        await holds.clear()
        await holds.close()
    return {
        "per_s": len(requests) / elapsed,
        "lat": np.array(latencies),
        "held": held,
        "trips": trips / len(requests),
    }


async def _measure(url: str) -> dict[tuple[str, str], dict[str, object]] | None:
    probe = RedisSeatHolds(url, namespace="bench-probe")
    try:
        await probe.command("PING")
    except BackendUnavailable as exc:
        print(f"skipped: {exc} — run `make services`")
        return None
    finally:
        await probe.close()
    requests = rush_requests(popular_show(), ATTEMPTS, SEED)
    one_show = [popular_show()] * ATTEMPTS
    own_shows = [popular_show(f"show-{i}") for i in range(ATTEMPTS)]
    for method in (_lua, _set_nx):  # warm-up: connections open, script cached
        await _run(url, method, requests[:WARMUP], one_show)
    rows = {}
    for scenario, shows in (("contention", one_show), ("no contention", own_shows)):
        for name, method in (("Lua script", _lua), ("SET NX", _set_nx)):
            rows[(scenario, name)] = await _run(url, method, requests, shows)
    return rows


def _us(samples: np.ndarray, q: float) -> float:
    return float(np.percentile(samples, q)) * 1e6


def main() -> None:
    url = recorded_redis_url(ROOT)
    if url is None:
        print("skipped: no Redis — run `make services` (or set RAZORLAB_REDIS_URL)")
        return
    rows = asyncio.run(_measure(url))
    if rows is None:
        return
    print(
        f"loopback Redis; {ATTEMPTS:,} requests of 1–4 seats for one 100-seat show (seed {SEED}),"
    )
    print(f"{CLIENTS} concurrent clients (latency includes waiting on the client's event loop);")
    print("no contention = the same requests, each for a show of its own\n")
    print("| scenario | method | attempts/s | p50, µs | p99, µs | round trips/attempt | held |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (scenario, name), r in rows.items():
        print(f"| {scenario} | {name} | {r['per_s']:,.0f} | {_us(r['lat'], 50):.0f} | "
              f"{_us(r['lat'], 99):.0f} | {r['trips']:.2f} | {r['held']:,} |")  # fmt: skip
    print()
    for scenario in ("contention", "no contention"):
        lua, nx = rows[(scenario, "Lua script")], rows[(scenario, "SET NX")]
        print(f"{scenario}: Lua / SET NX throughput {lua['per_s'] / nx['per_s']:.2f}x, "
              f"p99 SET NX / Lua {_us(nx['lat'], 99) / _us(lua['lat'], 99):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
