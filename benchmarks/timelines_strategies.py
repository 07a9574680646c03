"""Hybrid vs push writes and hybrid vs pull reads on a 100K-user power-law graph.

Two tables. The first replays one day through each strategy and measures it: timeline
inserts per post, read time of the timeline service (tweet ids) and of the whole
``home`` call (ids plus hydration into tweets, the same work for every strategy), and
memory. The second is computed from graphs, not replayed (``threshold_costs``): it
shows why both 10x targets cannot hold together. The hybrid's writes fall as more
follows point at pulled authors, and its reads rise by the same cause, so the two
ratios trade against each other along a frontier set by the graph.

The graph is built once per strategy (they keep different caches); ``gc.freeze()``
moves the graph out of the collector's way so full collections triggered by the
replay do not land at random inside the timed reads.
"""

import gc

import pandas as pd

from razorlab.social.timelines.workload import (
    build_service,
    make_workload,
    replay,
    threshold_costs,
)

N_USERS = 100_000
MEAN_FOLLOWEES = 50
EVENTS = 20_000
THRESHOLDS = [300, 1_000, 3_000, 10_000]  # followers above which the hybrid pulls
POPULAR_SHARES = [0.2, 0.5]  # share of follows going to accounts by popularity; 0.2 is replayed


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x"


def _replayed(workload) -> None:
    results = {}
    for name in ("push", "pull", "hybrid"):
        service = build_service(workload, name)
        gc.collect()
        gc.freeze()
        results[name] = replay(service, workload)
        gc.unfreeze()
        del service
    push, pull, hybrid = results["push"], results["pull"], results["hybrid"]
    events = workload.events
    reads = int(workload.active[events.loc[events["kind"] == "read", "user"]].sum())  # active
    print(f"{N_USERS:,} users, {len(workload.follower):,} follows, {EVENTS:,} posts and reads")
    print(f"({POPULAR_SHARES[0]:.0%} of follows by popularity, celebrity threshold 1,000)\n")
    print("| metric | push | pull | hybrid | ratio |")
    print("|---|---|---|---|---|")
    w = {k: r["writes_per_post"] for k, r in results.items()}
    print(f"| timeline writes per post | {w['push']:.1f} | 0 | {w['hybrid']:.1f} | "
          f"push/hybrid = {_ratio(w['push'], w['hybrid'])} |")  # fmt: skip
    for label, key in (("timeline service read (ids), µs", "read_ids_wall_s"),
                       ("home read (ids + hydration), µs", "read_wall_s")):  # fmt: skip
        us = {k: r[key] / reads * 1e6 for k, r in results.items()}
        print(f"| active-user {label} | {us['push']:.0f} | {us['pull']:.0f} | "
              f"{us['hybrid']:.0f} | pull/hybrid = {_ratio(us['pull'], us['hybrid'])} |")  # fmt: skip
    print(f"| lists merged per read | {push['sources_per_read']:.1f} | "
          f"{pull['sources_per_read']:.1f} | {hybrid['sources_per_read']:.1f} | "
          f"pull/hybrid = {_ratio(pull['sources_per_read'], hybrid['sources_per_read'])} |")  # fmt: skip
    print(f"| entries held in home timelines | {push['stored_entries']:,} | 0 | "
          f"{hybrid['stored_entries']:,} | "
          f"push/hybrid = {_ratio(push['stored_entries'], hybrid['stored_entries'])} |")  # fmt: skip


def _frontier(workloads: dict) -> None:
    rows = []
    for share, workload in workloads.items():
        costs = threshold_costs(workload, THRESHOLDS)
        costs.insert(0, "popular share", share)
        rows.append(costs)
    table = pd.concat(rows)
    print("\nFrom the graph (expected costs, not replayed): the two ratios trade off\n")
    print("| popular share | threshold | celebrities | push/hybrid writes | pull/hybrid lists |")
    print("|---:|---:|---:|---:|---:|")
    for r in table.itertuples(index=False):
        print(f"| {r[0]:.0%} | {r.threshold:,} | {r.celebrities} | "
              f"{_ratio(r.push_writes_per_post, r.hybrid_writes_per_post)} | "
              f"{_ratio(r.pull_lists_per_read, r.hybrid_lists_per_read)} |")  # fmt: skip


def main() -> None:
    workloads = {
        share: make_workload(N_USERS, mean_followees=MEAN_FOLLOWEES, popular_share=share,
                             posts=EVENTS, reads=EVENTS)
        for share in POPULAR_SHARES
    }  # fmt: skip
    _replayed(workloads[POPULAR_SHARES[0]])
    _frontier(workloads)


if __name__ == "__main__":
    main()
