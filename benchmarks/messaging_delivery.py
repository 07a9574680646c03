"""Messages/s through the chat server on 64 connections vs a bare WebSocket echo, and delivery
latency at that rate.

Both servers run as their own process (``razorlab serve-chat`` and a bare aiohttp echo), so the
server gets a core and the load generator the other, as in a real deployment. The load is the
same for both: :data:`PAIRS` senders each with a receiver (64 connections), JSON frames of the
same size, :data:`WINDOW` requests in flight per sender. The echo server only sends each frame
back to its sender; the chat server authenticates, validates, commits each message with its
receipt and inbox rows to a WAL SQLite file (group commit), answers the sender, pushes the
message to the receiver, takes the receiver's (cumulative) acknowledgement and sends the sender
its receipts. The chat client opts in to ``batch`` envelopes (frames the server queued for
one device together travel in one WebSocket frame); the echo answers frame by frame. The ratio
is the price of durability, fan-out and receipts. Delivery latency is
send → shown on the receiver, for every message of the loaded run.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web

from razorlab.social.messaging import ChatClient

PAIRS = 32  # senders, each with one receiver: 64 connections
PER_SENDER = 300  # messages per sender
WINDOW = 16  # requests in flight per sender
TEXT = "x" * 200


@contextmanager
def _server(*argv: str):
    """Start a server process that prints its URL as the last word of its first line."""
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = next(word for word in line.split() if word.startswith(("ws://", "http://")))
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _echo_serve() -> None:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/ws", echo)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"echo on ws://127.0.0.1:{runner.addresses[0][1]}/ws", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


async def _windowed(count: int, send) -> None:
    window = asyncio.Semaphore(WINDOW)

    async def one(i: int) -> None:
        async with window:
            await send(i)

    await asyncio.gather(*(one(i) for i in range(count)))


async def _echo_rate(url: str) -> float:
    frame = json.dumps({"op": "send", "chat": "dm:u0:u1", "client_id": "u0-1", "text": TEXT})
    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(url) for _ in range(2 * PAIRS)]

        async def load(ws: aiohttp.ClientWebSocketResponse) -> None:
            replies: asyncio.Queue[None] = asyncio.Queue()

            async def read() -> None:
                for _ in range(PER_SENDER):
                    await ws.receive()
                    replies.put_nowait(None)

            async def send(_i: int) -> None:
                await ws.send_str(frame)
                await replies.get()

            reader = asyncio.ensure_future(read())
            await _windowed(PER_SENDER, send)
            await reader

        start = time.perf_counter()
        await asyncio.gather(*(load(ws) for ws in sockets[:PAIRS]))
        elapsed = time.perf_counter() - start
        for ws in sockets:
            await ws.close()
    return PAIRS * PER_SENDER / elapsed


class _TimedClient(ChatClient):
    """A receiver that notes when each message was shown (the benchmark's clock)."""

    shown_at: dict[str, float]

    async def _handle(self, ws: aiohttp.ClientWebSocketResponse, frame: dict) -> None:
        if frame.get("op") == "msg":
            self.shown_at.setdefault(frame["text"], time.perf_counter())
        await super()._handle(ws, frame)


async def _chat_rate_and_latency(url: str) -> tuple[float, np.ndarray]:
    senders = [await ChatClient.connect(url, f"token-{2 * i:04d}") for i in range(PAIRS)]
    receivers = [await _TimedClient.connect(url, f"token-{2 * i + 1:04d}") for i in range(PAIRS)]
    sent_at: dict[str, float] = {}
    for receiver in receivers:
        receiver.shown_at = {}
    try:
        chats = [(await s.direct(f"u{2 * i + 1}"))["chat"] for i, s in enumerate(senders)]

        async def load(sender: ChatClient, chat: str, receiver: _TimedClient) -> None:
            async def send(i: int) -> None:
                text = f"{sender.user}:{i}:".ljust(len(TEXT), "x")
                sent_at[text] = time.perf_counter()
                await sender.send(chat, text)

            await _windowed(PER_SENDER, send)
            await receiver.wait_until(lambda c: len(c.messages) == PER_SENDER, timeout=300)

        start = time.perf_counter()
        await asyncio.gather(*(load(*trio) for trio in zip(senders, chats, receivers, strict=True)))
        rate = PAIRS * PER_SENDER / (time.perf_counter() - start)
        shown = {text: at for r in receivers for text, at in r.shown_at.items()}
        latencies = np.array([shown[text] - at for text, at in sent_at.items()])
    finally:
        for client in senders + receivers:
            await client.close()
    return rate, latencies * 1e3


def main() -> None:
    users = [f"--user=u{i}:token-{i:04d}" for i in range(2 * PAIRS)]
    with tempfile.TemporaryDirectory() as tmp:
        with _server("-m", "benchmarks.messaging_delivery", "--echo-server") as url:
            echo = asyncio.run(_echo_rate(url))
        db = str(Path(tmp) / "bench.db")
        with _server("-m", "razorlab", "serve-chat", "--port=0", f"--db={db}", *users) as url:
            chat, latency_ms = asyncio.run(_chat_rate_and_latency(url))
    p50, p99 = np.percentile(latency_ms, [50, 99])
    print(f"{PAIRS * PER_SENDER:,} messages of {len(TEXT)} characters from {PAIRS} senders to")
    print(f"{PAIRS} receivers (64 connections), {WINDOW} in flight per sender\n")
    print("| metric | chat server | bare WebSocket echo | ratio |")
    print("|---|---|---|---|")
    print(f"| messages/s | {chat:,.0f} | {echo:,.0f} | chat/echo = {chat / echo:.2f}x |")
    print(f"| delivery latency at that rate, p50 / p99, ms | {p50:.1f} / {p99:.1f} | – | – |")


if __name__ == "__main__":
    if sys.argv[1:] == ["--echo-server"]:
        _echo_serve()
    else:
        main()
