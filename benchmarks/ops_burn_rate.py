"""Burn-rate alert evaluation over a 30-day per-minute stream: numpy vs a pure-Python loop.

The engine (``razorlab.ops.slo.evaluate_alerts``) uses cumulative sums, so every
trailing window costs O(1) per minute regardless of its length; the baseline keeps
running sums in a plain Python loop (already O(1) per minute — the fair baseline,
not a strawman that re-sums each window).
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, evaluate_alerts
from razorlab.rand import rng

MINUTES = 30 * 1_440


def _stream() -> tuple[np.ndarray, np.ndarray]:
    gen = rng(42, "bench/burn")
    requests = gen.poisson(12_000, MINUTES).astype(float)
    errors = gen.binomial(requests.astype(int), 0.0005).astype(float)
    errors[20_000:20_090] = requests[20_000:20_090] * 0.03
    return errors, requests


def _python_loop(errors: list[float], requests: list[float], slo: SLO) -> list[list[bool]]:
    out = []
    for a in WORKBOOK_ALERTS:
        fired = []
        state = {}
        for w in (a.long_minutes, a.short_minutes):
            state[w] = [deque(), 0.0, 0.0]
        for e, r in zip(errors, requests, strict=True):
            ok = True
            for w, s in state.items():
                s[0].append((e, r))
                s[1] += e
                s[2] += r
                if len(s[0]) > w:
                    old_e, old_r = s[0].popleft()
                    s[1] -= old_e
                    s[2] -= old_r
                # a young window is judged against a full one's requests (see slo.py)
                burn = (s[1] / s[2] if s[2] else 0.0) * (len(s[0]) / w) / slo.error_budget
                ok = ok and burn >= a.burn_rate
            fired.append(ok)
        out.append(fired)
    return out


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    errors, requests = _stream()
    slo = SLO(0.999)
    frame = evaluate_alerts(errors, requests, slo)
    loop = _python_loop(errors.tolist(), requests.tolist(), slo)
    for a, fired in zip(WORKBOOK_ALERTS, loop, strict=True):
        assert frame[a.name].tolist() == fired, f"engine and loop disagree on {a.name}"
    engine_s = _best(lambda: evaluate_alerts(errors, requests, slo))
    loop_s = _best(lambda: _python_loop(errors.tolist(), requests.tolist(), slo), repeat=1)
    print("| evaluator (3 alerts, 43,200 minutes) | minutes/s | ratio |")
    print("|---|---:|---:|")
    print(
        f"| razorlab.ops.slo (numpy cumsum) | {MINUTES / engine_s:,.0f} | {loop_s / engine_s:.1f}x |"
    )
    print(f"| pure-Python running sums (baseline) | {MINUTES / loop_s:,.0f} | 1.0x |")


if __name__ == "__main__":
    main()
