"""Push vs hybrid writes and pull vs hybrid reads on real Redis sorted sets, in one run.

The chapter's default graph (``curriculum/more_scenarios/03_timelines.ipynb``):
``make_workload(10_000, posts=2_000, reads=2_000, seed=42)`` — 10,000 users, about 20
followees each, 20% of follows by Zipf-like popularity, 40% of users active — with the
hybrid's celebrity threshold at 1,000 followers and timelines capped at 800 (Twitter's cap).
The same day is replayed through push, pull and hybrid, each on its own namespace of the
Redis that ``make services`` started (or ``RAZORLAB_REDIS_URL``); without one it prints how
to start it and skips.

Writes are counted (timeline inserts, Redis commands and round trips per post) and timed per
post. Reads are timed per call of the timeline service (``home_ids``: tweet ids, no
hydration), for active users, the reads a cache is for. Reads by users back after 30 days,
whose timelines the hybrid rebuilds, are reported on their own line. Times are wall-clock
on a loopback Redis, so the ratios (measured in the same minute) are what to compare.
"""

import gc
import os
import time
from pathlib import Path

import numpy as np

from razorlab.infra.services import recorded_redis_url
from razorlab.social.timelines.redis_strategies import build_redis_service
from razorlab.social.timelines.workload import make_workload

N_USERS = 10_000
EVENTS = 2_000  # posts, and as many reads
SEED = 42
CELEBRITY_FOLLOWERS = 1_000
READ_K = 20
ROOT = Path(__file__).resolve().parent.parent


def _redis_url() -> str | None:
    url = recorded_redis_url(ROOT)
    if url is None:
        print("skipped: no Redis — run `make services` (or set RAZORLAB_REDIS_URL)")
        return None
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        print(f"skipped: Redis at {url} does not answer ({exc}) — run `make services`")
        return None
    return url


def _replay(service, workload) -> dict[str, object]:
    """The day through one Redis-backed service: per-post and per-read wall times."""
    clock = service.strategy.clock
    start = clock.now()
    post_s, read_s, returning_s = [], [], []
    read_trips = post_commands = 0
    counters = service.strategy.counters
    for t, kind, user in workload.events.itertuples(index=False):
        clock.set(start + t)
        tick = time.perf_counter()
        if kind == "post":
            commands = counters.commands
            service.post(int(user), "hello")
            post_s.append(time.perf_counter() - tick)
            post_commands += counters.commands - commands
            continue
        trips = counters.round_trips
        service.home_ids(int(user), READ_K)
        elapsed = time.perf_counter() - tick
        if workload.active[user]:
            read_s.append(elapsed)
            read_trips += counters.round_trips - trips
        else:
            returning_s.append(elapsed)
    posts = max(len(post_s), 1)
    return {
        "writes_per_post": counters.timeline_writes / posts,
        "post_commands": post_commands / posts,
        "post_s": np.array(post_s),
        "read_s": np.array(read_s),
        "read_trips": read_trips / max(len(read_s), 1),
        "returning_s": np.array(returning_s),
        "stored_entries": service.strategy.stored_entries,
    }


def _pct(samples: np.ndarray, q: float) -> float:
    return float(np.percentile(samples, q)) * 1e6 if samples.size else 0.0


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "n/a"


def main() -> None:
    url = _redis_url()
    if url is None:
        return
    workload = make_workload(N_USERS, posts=EVENTS, reads=EVENTS, seed=SEED)
    results = {}
    for name in ("push", "pull", "hybrid"):
        service = build_redis_service(
            workload,
            name,
            url=url,
            namespace=f"bench-{os.getpid()}-{name}",
            celebrity_followers=CELEBRITY_FOLLOWERS,
        )
        gc.collect()
        gc.freeze()
        try:
            results[name] = _replay(service, workload)
        finally:
            gc.unfreeze()
            service.clear()
            service.close()
    push, pull, hybrid = results["push"], results["pull"], results["hybrid"]
    print(f"loopback Redis; chapter graph: {N_USERS:,} users, {len(workload.follower):,} follows,")
    print(f"{EVENTS:,} posts and {EVENTS:,} reads (seed {SEED}), celebrity threshold "
          f"{CELEBRITY_FOLLOWERS:,}, cap 800, pages of {READ_K}\n")  # fmt: skip
    print("| metric | push | pull | hybrid | ratio |")
    print("|---|---|---|---|---|")
    w = {k: r["writes_per_post"] for k, r in results.items()}
    print(f"| timeline writes (ZADD) per post | {w['push']:.1f} | 0 | {w['hybrid']:.1f} | "
          f"push/hybrid = {_ratio(w['push'], w['hybrid'])} |")  # fmt: skip
    c = {k: r["post_commands"] for k, r in results.items()}
    print(f"| Redis commands per post | {c['push']:.1f} | {c['pull']:.1f} | {c['hybrid']:.1f} | "
          f"push/hybrid = {_ratio(c['push'], c['hybrid'])} |")  # fmt: skip
    for q in (50, 99):
        us = {k: _pct(r["post_s"], q) for k, r in results.items()}
        print(f"| post p{q}, µs | {us['push']:.0f} | {us['pull']:.0f} | {us['hybrid']:.0f} | "
              f"push/hybrid = {_ratio(us['push'], us['hybrid'])} |")  # fmt: skip
    for q in (50, 99):
        us = {k: _pct(r["read_s"], q) for k, r in results.items()}
        print(f"| active-user read (ids) p{q}, µs | {us['push']:.0f} | {us['pull']:.0f} | "
              f"{us['hybrid']:.0f} | pull/hybrid = {_ratio(us['pull'], us['hybrid'])} |")  # fmt: skip
    print(f"| round trips per active read | {push['read_trips']:.2f} | {pull['read_trips']:.2f} | "
          f"{hybrid['read_trips']:.2f} | |")  # fmt: skip
    us = {k: _pct(r["returning_s"], 50) for k, r in results.items()}
    print(f"| returning-user read p50, µs | {us['push']:.0f} | {us['pull']:.0f} | "
          f"{us['hybrid']:.0f} | hybrid rebuilds these |")  # fmt: skip
    print(f"| entries held in Redis home timelines | {push['stored_entries']:,} | 0 | "
          f"{hybrid['stored_entries']:,} | "
          f"push/hybrid = {_ratio(push['stored_entries'], hybrid['stored_entries'])} |")  # fmt: skip


if __name__ == "__main__":
    main()
