"""``razorlab serve``'s webhook relay: a process of its own delivers what the API writes;
and the contract of its transport (:class:`HttpTransport`) with every framing of an answer.

The real command runs as a child process (the helpers of ``test_payments_fleet``); a local
aiohttp receiver on a free port plays the merchant's endpoint. The test waits for the
delivery (with a generous limit so a broken relay fails instead of hanging), then stops
the server with SIGTERM, as a service manager would. The transport's tests answer from a
raw socket server, so each framing of an HTTP/1.x answer is exactly what is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from razorlab.clock import SystemClock
from razorlab.payments.api import start_server
from razorlab.payments.fleet import FleetConfig
from razorlab.payments.gateway import Gateway
from razorlab.payments.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    HttpTransport,
    verify_signature,
)
from tests.payments_support import basic_auth
from tests.test_payments_fleet import UPI, _children, _serve

WAIT_S = 120.0  # a hang guard, not a timing assertion


async def _receiver() -> tuple[web.AppRunner, str, asyncio.Queue]:
    """The merchant's endpoint: every delivery's raw body and headers, answered 200."""
    received: asyncio.Queue = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        received.put_nowait((await request.read(), dict(request.headers)))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner, url = await start_server(app, "127.0.0.1", 0)
    return runner, url + "/hook", received


@pytest.mark.parametrize("workers", [1, 2])
async def test_the_default_relay_delivers_signed_webhooks_and_stops_with_the_server(
    tmp_path, workers
):
    runner, hook, received = await _receiver()
    db = str(tmp_path / "pay.db")
    gateway = await Gateway.open(db, clock=SystemClock())
    try:
        merchant, secret = await gateway.create_merchant("Acme", webhook_url=hook)
    finally:
        await gateway.close()
    server = _serve(db, "--workers", str(workers))  # no --relay: the default
    try:
        banner = await asyncio.to_thread(server.stdout.readline)
        assert "webhook relay process" in banner, banner
        url = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert url is not None, banner
        if Path("/proc/self/task").exists():  # the worker(s), the relay (and a fleet's bank)
            await asyncio.to_thread(_children, server.pid, workers + 1 + (workers > 1))
        auth = basic_auth(merchant.key_id, secret)
        async with aiohttp.ClientSession() as session:
            async with session.post(url.group(0) + "/v1/payments", json=UPI, headers=auth) as resp:
                assert resp.status == 201, await resp.text()
                payment = await resp.json()
        body, headers = await asyncio.wait_for(received.get(), WAIT_S)
        assert verify_signature(body, headers[SIGNATURE_HEADER], merchant.webhook_secret)
        assert headers[EVENT_ID_HEADER].startswith("evt_")
        assert payment["id"].encode() in body
    finally:
        server.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.wait, 60)
        server.stdout.close()
        server.stderr.close()
        await runner.cleanup()
    assert code == 0


def test_a_relay_process_cannot_share_an_in_memory_database():
    with pytest.raises(Exception, match="relay"):
        FleetConfig(":memory:", relay="process")
    assert FleetConfig(":memory:", relay="in-process").relay == "in-process"


CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=1\r\nok\r\n0\r\nT: 1\r\n\r\n"
INTERIM = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
ANSWERS = {  # answer → (status the transport reports, connections two deliveries take)
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok": (200, 1),
    CHUNKED: (200, 1),  # with a chunk extension and a trailer
    INTERIM: (204, 1),  # and a 204 without a length: no body (RFC 9112)
    CLOSE: (200, 2),
    b"HTTP/1.0 503 Busy\r\n\r\nbusy": (503, 2),  # no length: the body ends with the connection
    b"SMTP ready\r\n\r\n": (0, 2),
}


async def _scripted(
    answer: bytes, *, hang_up: bool = False
) -> tuple[asyncio.Server, str, list[int]]:
    """A raw HTTP server that reads one request (head + Content-Length body) per answer.

    ``hang_up``: close every connection after one answer without saying so (as a server
    does to a kept-alive connection left idle too long).
    """
    connections: list[int] = []
    closes = hang_up or b"Connection: close" in answer or not answer.startswith(b"HTTP/1.1")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        with contextlib.suppress(asyncio.IncompleteReadError):  # the client closed
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(int(re.search(rb"Content-Length: (\d+)", head)[1]))
                writer.write(answer)
                if closes:  # as it said, or its body ends with the connection
                    break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/hook", connections


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.split(b"\r\n")[0].decode())
async def test_the_transport_reads_every_framing_and_keeps_only_reusable_connections(answer):
    server, url, connections = await _scripted(answer)
    transport = HttpTransport(timeout_s=5.0)
    try:
        statuses = [await transport(url, b'{"n": 1}', {"X-Test": "1"}) for _ in range(2)]
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()
    status, opened = ANSWERS[answer]
    assert (statuses, len(connections)) == ([status, status], opened)


async def test_a_pooled_connection_the_server_closed_is_replaced_not_a_failure():
    server, url, connections = await _scripted(next(iter(ANSWERS)), hang_up=True)
    transport = HttpTransport(timeout_s=5.0)
    try:
        first = await transport(url, b"{}", {})
        await asyncio.sleep(0.1)  # the server's close reaches the pooled connection
        assert (first, await transport(url, b"{}", {})) == (200, 200)
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()
    assert len(connections) == 2


async def test_no_answer_in_time_or_no_server_is_status_zero():
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when the client gives up and closes

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = HttpTransport(timeout_s=0.2)
    try:
        assert await transport(f"http://127.0.0.1:{port}/", b"{}", {}) == 0
        server.close()
        await server.wait_closed()
        assert await transport(f"http://127.0.0.1:{port}/", b"{}", {}) == 0  # refused
        assert await transport("ftp://127.0.0.1/", b"{}", {}) == 0
    finally:
        await transport.close()
