"""Seat holds per second under contention (everyone wants one show's 100 seats) vs none.

Under contention most attempts are refused, which costs one read; without contention every
attempt claims a free seat, which costs a write. The ratio says how the store's cost per
attempt changes when everyone queues on the same rows. Both sides run in the same process
and minute, so a busy machine slows both alike.
"""

import asyncio

from razorlab.social.booking.simulation import hold_rate

ATTEMPTS = 5_000


async def _measure() -> list[tuple[str, float, float, int]]:
    rows = []
    for engine in ("memory", "sqlite"):
        hot = await hold_rate(engine, ATTEMPTS, contention=True)
        cold = await hold_rate(engine, ATTEMPTS, contention=False)
        rows.append((engine, hot.per_s, cold.per_s, hot.held))
    return rows


def main() -> None:
    rows = asyncio.run(_measure())
    print(f"{ATTEMPTS:,} hold attempts per run; contention = one 100-seat show")
    print()
    print(
        "| store | attempts/s, contention | attempts/s, no contention | ratio | held under contention |"
    )
    print("|---|---:|---:|---:|---:|")
    for engine, hot, cold, held in rows:
        print(f"| {engine} | {hot:,.0f} | {cold:,.0f} | {hot / cold:.2f}x | {held} |")


if __name__ == "__main__":
    main()
