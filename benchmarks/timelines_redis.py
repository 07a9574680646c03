"""Push vs hybrid writes and pull vs hybrid reads on real Redis sorted sets, in one run.

Two graphs, chosen on the command line (``python -m benchmarks.timelines_redis [100k]``;
``--save`` also writes the chapter graph's run to ``data/timelines/redis_measurements.json``,
which the timelines chapter shows):

- ``chapter`` (default), the graph of ``curriculum/more_scenarios/03_timelines.ipynb``:
  ``make_workload(10_000, posts=2_000, reads=2_000, seed=42)`` — 10,000 users, about 20
  followees each, 20% of follows by Zipf-like popularity, 40% of users active;
- ``100k``, the graph of ``benchmarks/timelines_strategies.py``: 100,000 users, about 50
  followees each, 20,000 posts and as many reads.

Both with the hybrid's celebrity threshold at 1,000 followers (a follower count, as Twitter's
was; the benchmark prints how many accounts it makes celebrities) and timelines capped at 800
(Twitter's cap). Before replaying, it prints what the graph itself allows
(:func:`~razorlab.social.timelines.workload.threshold_costs`): the hybrid still pushes each
ordinary author's post to that author's active followers, so push/hybrid writes cannot exceed
the graph's ratio whatever the store.
The same day is replayed through push, pull and hybrid, each on its own namespace of the
Redis that ``make services`` started (or ``RAZORLAB_REDIS_URL``); without one it prints how
to start it and skips.

Writes are counted (timeline inserts, Redis commands and round trips per post) and timed per
post. Reads are timed per call of the timeline service (``home_ids``: tweet ids, no
hydration), for active users, the reads a cache is for, with the Redis commands each sent
(one round trip: the commands packed into one write on a connection the strategy holds, the
replies read in order by redis-py's parser, the same path for all three strategies). Reads by
users back after 30 days, whose timelines the hybrid rebuilds, are reported on their own line.
Times are wall-clock on a loopback Redis, so the ratios (measured in the same minute) are what
to compare. A read costs about F + n*c: F per round trip (the loopback trip and our Python
around it), c per command and a little per id returned (packing, and redis-py's pure-Python
reply parser: no hiredis). On one server a pull read's lists are one pipeline, so the read
ratio weighs pull's extra commands against that fixed cost, which a hybrid read is mostly
made of; a faster client shrinks c and with it the ratio, and a cache sharded over many nodes
would spread pull's lists over as many requests.
"""

import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from razorlab.infra.services import recorded_redis_url
from razorlab.social.timelines.redis_strategies import STORED_RUN, build_redis_service
from razorlab.social.timelines.workload import make_workload, threshold_costs

# name -> make_workload arguments; "chapter" is the notebook's day, "100k" the in-process bench's
GRAPHS = {
    "chapter": {"n_users": 10_000, "posts": 2_000, "reads": 2_000, "seed": 42},
    "100k": {"n_users": 100_000, "mean_followees": 50, "posts": 20_000, "reads": 20_000},
}
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
    read_trips = read_commands = post_commands = 0
    read_points: list[tuple[int, float]] = []  # (commands, seconds) of each active read
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
        trips, commands = counters.round_trips, counters.commands
        service.home_ids(int(user), READ_K)
        elapsed = time.perf_counter() - tick
        if workload.active[user]:
            read_s.append(elapsed)
            read_trips += counters.round_trips - trips
            read_commands += counters.commands - commands
            read_points.append((counters.commands - commands, elapsed))
        else:
            returning_s.append(elapsed)
    posts = max(len(post_s), 1)
    return {
        "writes_per_post": counters.timeline_writes / posts,
        "post_commands": post_commands / posts,
        "post_s": np.array(post_s),
        "read_s": np.array(read_s),
        "read_trips": read_trips / max(len(read_s), 1),
        "read_commands": read_commands / max(len(read_s), 1),
        "returning_s": np.array(returning_s),
        "read_points": read_points,
        "stored_entries": service.strategy.stored_entries,
    }


def _pct(samples: np.ndarray, q: float) -> float:
    return float(np.percentile(samples, q)) * 1e6 if samples.size else 0.0


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "n/a"


def _graph_limits(name: str, workload) -> None:
    """What the graph allows at the threshold, before any store is involved."""
    args = GRAPHS[name]
    (row,) = threshold_costs(workload, [CELEBRITY_FOLLOWERS]).itertuples(index=False)
    print(f"loopback Redis; {name} graph: {workload.n_users:,} users, "
          f"{len(workload.follower):,} follows, {args['posts']:,} posts and {args['reads']:,} "
          f"reads; celebrity threshold {CELEBRITY_FOLLOWERS:,} followers "
          f"({CELEBRITY_FOLLOWERS / workload.n_users:.0%} of users: {row.celebrities} "
          f"celebrities), cap 800, pages of {READ_K}")  # fmt: skip
    print(f"from the graph: push/hybrid writes "
          f"{_ratio(row.push_writes_per_post, row.hybrid_writes_per_post)}, pull/hybrid lists "
          f"per read {_ratio(row.pull_lists_per_read, row.hybrid_lists_per_read)}\n")  # fmt: skip


def _by_commands(points: list[tuple[int, float]], least: int = 5) -> list[list[float]]:
    """``[commands, p50 µs, reads]`` for each command count seen at least ``least`` times."""
    by: dict[int, list[float]] = {}
    for commands, seconds in points:
        by.setdefault(commands, []).append(seconds)
    return [[n, round(float(np.median(t)) * 1e6, 1), len(t)]
            for n, t in sorted(by.items()) if len(t) >= least]  # fmt: skip


def save(results: dict[str, dict], workload, graph: str) -> None:
    """Write the run to ``STORED_RUN`` (what the timelines chapter shows)."""
    strategies = {
        name: {"writes_per_post": round(r["writes_per_post"], 1),
               "commands_per_post": round(r["post_commands"], 1),
               "post_p50_us": round(_pct(r["post_s"], 50)),
               "read_p50_us": round(_pct(r["read_s"], 50)),
               "read_p99_us": round(_pct(r["read_s"], 99)),
               "commands_per_read": round(r["read_commands"], 1),
               "returning_read_p50_us": round(_pct(r["returning_s"], 50)),
               "stored_entries": int(r["stored_entries"]),
               "reads_by_commands": _by_commands(r["read_points"])}
        for name, r in results.items()
    }  # fmt: skip
    run = {"graph": {"name": graph, **GRAPHS[graph], "follows": len(workload.follower),
                     "celebrity_followers": CELEBRITY_FOLLOWERS, "page": READ_K},
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                       "load_average_1m": round(os.getloadavg()[0], 2)},
           "strategies": strategies}  # fmt: skip
    STORED_RUN.parent.mkdir(parents=True, exist_ok=True)
    STORED_RUN.write_text(json.dumps(run, indent=1) + "\n")
    print(f"\nwrote {STORED_RUN.relative_to(ROOT)}")


def main(graph: str = "chapter", *, save_run: bool = False) -> None:
    if graph not in GRAPHS:
        raise SystemExit(f"graph must be one of {sorted(GRAPHS)}, got {graph!r}")
    url = _redis_url()
    if url is None:
        return
    args = dict(GRAPHS[graph])
    workload = make_workload(args.pop("n_users"), **args)
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
    _graph_limits(graph, workload)
    push, pull, hybrid = results["push"], results["pull"], results["hybrid"]
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
    r = {k: v["read_commands"] for k, v in results.items()}
    print(f"| Redis commands per active read | {r['push']:.1f} | {r['pull']:.1f} | "
          f"{r['hybrid']:.1f} | pull/hybrid = {_ratio(r['pull'], r['hybrid'])} |")  # fmt: skip
    us = {k: _pct(r["returning_s"], 50) for k, r in results.items()}
    print(f"| returning-user read p50, µs | {us['push']:.0f} | {us['pull']:.0f} | "
          f"{us['hybrid']:.0f} | hybrid rebuilds these |")  # fmt: skip
    print(f"| entries held in Redis home timelines | {push['stored_entries']:,} | 0 | "
          f"{hybrid['stored_entries']:,} | "
          f"push/hybrid = {_ratio(push['stored_entries'], hybrid['stored_entries'])} |")  # fmt: skip
    if save_run:
        save(results, workload, graph)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--save"]
    main(*args[:1], save_run="--save" in sys.argv[1:])
