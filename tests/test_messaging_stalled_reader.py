"""A device that stops reading is dropped and its memory freed; stopping the server never hangs on it.

The stalled device is a raw TCP socket with a tiny receive buffer that performs the WebSocket
handshake, authenticates and then never reads again — what a phone in a tunnel looks like.
"""

import asyncio
import base64
import json
import os
import socket

from razorlab.social.messaging import CLOSE_SLOW_CONSUMER, start_chat_server

USERS = {"asha": "asha-token", "ben": "ben-token"}
FILLER = "x" * 60_000  # one big frame: a few hundred fill every buffer between us quickly


class StalledDevice:
    """A WebSocket client that authenticates and then stops reading."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url: str, token: str) -> "StalledDevice":
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: tiny window
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        device = cls(reader, writer)
        device.send({"op": "auth", "token": token})
        return device

    def send(self, frame: dict) -> None:
        payload = json.dumps(frame).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    async def drain_until_closed(self) -> int:
        """Read everything the server sent until it closed the socket; bytes read."""
        total = 0
        try:
            while chunk := await self.reader.read(1 << 20):
                total += len(chunk)
        except ConnectionError:
            pass  # an aborted socket ends with a reset, not an orderly EOF
        return total

    def close(self) -> None:
        self.writer.transport.abort()


async def _wait_for(predicate, what: str) -> None:
    for _ in range(400):  # up to ~20 real seconds on a loaded machine; no timing is asserted
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for: {what}")


async def test_a_reader_that_stops_reading_is_dropped_and_its_queue_freed(clock):
    async with await start_chat_server(
        ":memory:",
        clock=clock,
        users=USERS,
        send_buffer=10_000,  # big enough that only the write deadline can catch the stall
        send_timeout_s=0.3,
        close_timeout_s=0.3,
    ) as srv:
        device = await StalledDevice.connect(srv.url, "ben-token")
        try:
            await _wait_for(lambda: "ben" in srv.server.connections, "ben authenticated")
            conn = srv.server.connections["ben"]
            for i in range(300):  # ~18 MB: far more than the socket buffers can take
                assert conn.offer({"op": "filler", "i": i, "text": FILLER})
            await _wait_for(lambda: "ben" not in srv.server.connections, "ben dropped")
            assert conn.close_code == CLOSE_SLOW_CONSUMER
            assert conn.queue.qsize() == 0, "the dropped device's queue was emptied"
            assert srv.server.stats[f"kicked:{CLOSE_SLOW_CONSUMER}"] == 1
            received = await asyncio.wait_for(device.drain_until_closed(), 20)
            assert received < 300 * len(FILLER), "the server gave up before writing it all"
        finally:
            device.close()


async def test_stopping_the_server_does_not_hang_on_a_stalled_reader(clock):
    srv = await start_chat_server(
        ":memory:", clock=clock, users=USERS, send_timeout_s=600, close_timeout_s=0.3
    )
    device = await StalledDevice.connect(srv.url, "ben-token")
    try:
        await _wait_for(lambda: "ben" in srv.server.connections, "ben authenticated")
        conn = srv.server.connections["ben"]
        for i in range(200):
            conn.offer({"op": "filler", "i": i, "text": FILLER})
        await _wait_for(lambda: conn.queue.qsize() < 200, "the writer started")
        await asyncio.sleep(0.2)  # let the writer block on the full socket
        await asyncio.wait_for(srv.stop(), 30)  # would wait forever for the close handshake
        assert srv.server.connections == {}
    finally:
        device.close()
