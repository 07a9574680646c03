"""HTTP create-payment throughput vs a bare aiohttp handler on the same server stack.

Both servers are aiohttp on 127.0.0.1 in this process, driven by the same closed-loop
client (:func:`razorlab.payments.load_test`, 16 concurrent connections). The bare
handler parses the JSON body and returns a fixed 201 JSON payment; the gateway
authenticates (HTTP Basic), validates, rate-limits, claims the idempotency key, runs the
breaker and two SQLite transactions around a zero-latency simulated bank, and writes
an outbox row. Each side's best of three alternating rounds is reported. Target from the
issue: gateway ≥ 40% of the bare handler's req/s.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from pathlib import Path

from aiohttp import web

from razorlab.clock import SystemClock
from razorlab.infra import RateLimiter
from razorlab.payments import (
    BankProfile,
    Gateway,
    SimulatedBank,
    create_app,
    load_test,
    start_server,
)

N_REQUESTS = 1_000
ROUNDS = 3  # alternate the two servers and keep each one's best round (a shared machine is noisy)
CONCURRENCY = 16
BODY = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}
FIXED = {"id": "pay_0", "entity": "payment", "amount": 49_900, "currency": "INR",
         "status": "authorized"}  # fmt: skip


async def _bare(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response(FIXED, status=201)


async def _measure(app: web.Application, headers: dict[str, str]) -> dict:
    runner, url = await start_server(app)
    try:
        await load_test(f"{url}/v1/payments", headers=headers, body=lambda i: BODY, n=200)  # warm
        result = await load_test(
            f"{url}/v1/payments", headers=headers, n=N_REQUESTS, concurrency=CONCURRENCY,
            body=lambda i: BODY,
        )  # fmt: skip
    finally:
        await runner.cleanup()
    assert set(result.statuses) == {201}, result.statuses
    return result.summary()


async def _run() -> tuple[dict, dict]:
    bare = web.Application()
    bare.router.add_post("/v1/payments", _bare)
    clock = SystemClock()
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        gw = await Gateway.open(
            str(Path(tmp) / "gateway.db"), clock=clock, bank=SimulatedBank(clock, BankProfile()),
            limiter=RateLimiter(clock, rate_per_s=1e9, burst=1e9),
        )  # fmt: skip
        merchant, secret = await gw.create_merchant("Bench")
        token = base64.b64encode(f"{merchant.key_id}:{secret}".encode()).decode()
        for _ in range(ROUNDS):
            for name, app, headers in (
                ("bare", bare, {}),
                ("gateway", create_app(gw), {"Authorization": f"Basic {token}"}),
            ):
                stats = await _measure(app, headers)
                if name not in best or stats["req/s"] > best[name]["req/s"]:
                    best[name] = stats
        await gw.close()
    return best["gateway"], best["bare"]


def main() -> None:
    gw, bare = asyncio.run(_run())
    print("| server | req/s | p50 ms | p99 ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    print(f"| gateway POST /v1/payments | {gw['req/s']:,} | {gw['p50 ms']} | {gw['p99 ms']} | "
          f"{gw['req/s'] / bare['req/s']:.2f} |")  # fmt: skip
    print(f"| bare aiohttp handler | {bare['req/s']:,} | {bare['p50 ms']} | {bare['p99 ms']} "
          "| 1.00 |")  # fmt: skip


if __name__ == "__main__":
    main()
