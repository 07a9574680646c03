"""The Go model benchmarks' baseline: a bare ``heapq`` event loop doing nothing per event."""

from __future__ import annotations

import heapq
import time


def bare_heap(events: int) -> float:
    """Seconds to push and pop ``events`` timestamped events through a small heap."""
    start = time.perf_counter()
    heap: list[tuple[float, int]] = []
    for i in range(events):
        heapq.heappush(heap, (i * 1e-6, i))
        if len(heap) > 8:
            heapq.heappop(heap)
    while heap:
        heapq.heappop(heap)
    return time.perf_counter() - start
