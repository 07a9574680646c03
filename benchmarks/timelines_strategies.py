"""Hybrid vs push writes and hybrid vs pull reads on a 100K-user power-law graph.

The graph is built once per strategy (they keep different caches); ``gc.freeze()``
moves the graph out of the collector's way so full collections triggered by the
replay do not land at random inside the timed reads.
"""

import gc

from razorlab.social.timeline_workload import build_service, make_workload, replay

N_USERS = 100_000
MEAN_FOLLOWEES = 50
EVENTS = 20_000


def main() -> None:
    workload = make_workload(N_USERS, mean_followees=MEAN_FOLLOWEES, posts=EVENTS, reads=EVENTS)
    results = {}
    for name in ("push", "pull", "hybrid"):
        service = build_service(workload, name)
        gc.collect()
        gc.freeze()
        results[name] = replay(service, workload)
        gc.unfreeze()
        del service
    push, pull, hybrid = results["push"], results["pull"], results["hybrid"]
    reads = EVENTS * 0.95
    print(f"{N_USERS:,} users, {len(workload.follower):,} follows, {EVENTS:,} posts and reads\n")
    print("| metric | push | pull | hybrid | ratio |")
    print("|---|---|---|---|---|")
    print(
        f"| timeline writes per post | {push['writes_per_post']:.1f} | 0 | "
        f"{hybrid['writes_per_post']:.1f} | push/hybrid = {push['writes_per_post'] / hybrid['writes_per_post']:.1f}x |"
    )
    print(
        f"| active-user read, µs | {push['read_wall_s'] / reads * 1e6:.0f} | "
        f"{pull['read_wall_s'] / reads * 1e6:.0f} | {hybrid['read_wall_s'] / reads * 1e6:.0f} | "
        f"pull/hybrid = {pull['read_wall_s'] / hybrid['read_wall_s']:.1f}x |"
    )
    print(
        f"| entries held in home timelines | {push['stored_entries']:,} | 0 | "
        f"{hybrid['stored_entries']:,} | push/hybrid = {push['stored_entries'] / hybrid['stored_entries']:.1f}x |"
    )
