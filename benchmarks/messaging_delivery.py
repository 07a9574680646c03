"""Messages/s through the chat server vs a bare aiohttp WebSocket echo, and delivery latency.

Both sides run on the same stack in the same process and minute: aiohttp WebSockets on
127.0.0.1, JSON frames of the same size, at most ``WINDOW`` requests in flight. The echo
server does nothing but send each frame back; the chat server authenticates, validates,
commits the message with its receipt and inbox rows to a WAL SQLite file, pushes it to the
recipient's connection and takes the recipient's acknowledgement. The ratio is the price of
durability and receipts. Latency is send → shown on the recipient, one message at a time.
"""

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web

from razorlab.clock import SystemClock
from razorlab.social.messaging import ChatClient, start_chat_server

MESSAGES = 2_000
LATENCY_SAMPLES = 300
WINDOW = 64  # requests in flight per sender
TEXT = "x" * 200


async def _echo_rate() -> float:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    window = asyncio.Semaphore(WINDOW)
    frame = json.dumps({"op": "send", "chat": "dm:asha:ben", "client_id": "asha-1", "text": TEXT})
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:

                async def writer() -> None:
                    for _ in range(MESSAGES):
                        await window.acquire()
                        await ws.send_str(frame)

                start = time.perf_counter()
                task = asyncio.ensure_future(writer())
                for _ in range(MESSAGES):
                    await ws.receive()
                    window.release()
                elapsed = time.perf_counter() - start
                await task
    finally:
        await runner.cleanup()
    return MESSAGES / elapsed


async def _chat_rate_and_latency(db: str) -> tuple[float, np.ndarray]:
    users = {"asha": "asha-token", "ben": "ben-token"}
    async with await start_chat_server(db, clock=SystemClock(), users=users) as running:
        async with (
            await ChatClient.connect(running.url, "asha-token") as asha,
            await ChatClient.connect(running.url, "ben-token") as ben,
        ):
            dm = (await asha.direct("ben"))["chat"]
            window = asyncio.Semaphore(WINDOW)

            async def send() -> None:
                async with window:
                    await asha.send(dm, TEXT)

            start = time.perf_counter()
            await asyncio.gather(*(send() for _ in range(MESSAGES)))
            await ben.wait_until(lambda c: len(c.messages) == MESSAGES, timeout=120)
            rate = MESSAGES / (time.perf_counter() - start)
            latencies = []
            for _ in range(LATENCY_SAMPLES):
                t0 = time.perf_counter()
                seq = (await asha.send(dm, TEXT))["seq"]
                await ben.wait_until(lambda c, seq=seq: c.has(dm, seq))
                latencies.append(time.perf_counter() - t0)
    return rate, np.array(latencies) * 1e3


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        echo = asyncio.run(_echo_rate())
        chat, latency_ms = asyncio.run(_chat_rate_and_latency(str(Path(tmp) / "bench.db")))
    p50, p99 = np.percentile(latency_ms, [50, 99])
    print(f"{MESSAGES:,} messages of {len(TEXT)} characters, {WINDOW} in flight\n")
    print("| metric | chat server | bare WebSocket echo | ratio |")
    print("|---|---|---|---|")
    print(f"| messages/s | {chat:,.0f} | {echo:,.0f} | chat/echo = {chat / echo:.2f}x |")
    print(f"| delivery latency p50 / p99, ms | {p50:.2f} / {p99:.2f} | – | – |")


if __name__ == "__main__":
    main()
