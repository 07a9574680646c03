"""``razorlab serve-booking`` from outside: concurrent HTTP clients, ``kill -9`` mid-booking.

The server runs as a real process (``python -m razorlab serve-booking``) on a SQLite file.
Eight users hold seats, pay (some twice at once), release or walk away, over plain aiohttp
client sessions, while the test kills the server with SIGKILL at seeded random moments when
a payment is in flight, and restarts it on the same files. At the end (clean SIGTERM, one
more restart so the start-up reconciler runs, clean SIGTERM again) the files and the API
must show: no seat sold twice; every booking a client was told about still confirmed with
the same payment; every payment the gateway captured either bought a confirmed booking or
was refunded, never both; no 5xx and no non-JSON error for any request.
"""

import asyncio
import json
import random
import signal
import socket
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest

SEED = 2026
USERS = 8
KILLS = 4
HOLD_TTL_S = 2.0  # short, so some payments outlive their hold and the refund paths run
READY_GUARD_S = 60  # a guard against a hung start, not a measurement
ROWS = "ABCDEFGHIJKLMNOPQRST"  # the demo show's 20 rows of 20 seats


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``serve-booking`` process at a time on the same files and port."""

    def __init__(self, tmp_path):
        self.tmp_path, self.port = tmp_path, _free_port()
        self.db = tmp_path / "tickets.db"
        self.ledger = tmp_path / "tickets.payments.db"
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> str:
        self.starts += 1
        with open(self.tmp_path / f"server-{self.starts}.err", "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "razorlab", "serve-booking", "--port", str(self.port),
                "--db", str(self.db), "--demo-show", "demo", "--hold-ttl", str(HOLD_TTL_S),
                "--payment-latency", "0.4", "--decline-rate", "0.15",
                "--reconcile-every", "3", "--seed", str(SEED + self.starts),
                stdout=asyncio.subprocess.PIPE, stderr=err,
            )  # fmt: skip
        line = await asyncio.wait_for(self.proc.stdout.readline(), READY_GUARD_S)
        assert self.base in line.decode(), (line, self.errors())
        return line.decode()

    async def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no handler, no cleanup, no flush
        await self.proc.wait()

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), READY_GUARD_S)

    def errors(self) -> str:
        return "".join(p.read_text() for p in sorted(self.tmp_path.glob("server-*.err")))


@pytest.fixture
async def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    if srv.proc is not None and srv.proc.returncode is None:  # a failed test: stop it anyway
        srv.proc.kill()
        await srv.proc.wait()


@dataclass
class Tally:
    told_confirmed: dict[int, str] = field(default_factory=dict)  # token -> payment id
    bad: list[str] = field(default_factory=list)  # 5xx, non-JSON, malformed errors
    outcomes: Counter = field(default_factory=Counter)
    paying: int = 0  # pay requests in flight now
    cut_pays: int = 0  # pay requests whose connection a kill cut


async def _call(session, tally, base, method, path, **kw):
    """(status, JSON body), or None when the server is down and the request's fate unknown."""
    try:
        async with session.request(method, base + path, **kw) as resp:
            status, ctype, text = resp.status, resp.content_type, await resp.text()
    except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
        return None
    if status >= 500 or ctype != "application/json":
        tally.bad.append(f"{method} {path}: {status} {ctype} {text[:200]}")
        return None
    body = json.loads(text)
    error = body.get("error") if isinstance(body, dict) else None
    if status >= 400 and not (isinstance(error, dict) and isinstance(error.get("code"), str)):
        tally.bad.append(f"{method} {path}: {status} without an error code: {text[:200]}")
        return None
    return status, body


async def _pay(session, tally, base, token, user_id):
    """Pay until the server answers; the answer decides what the client was told."""
    for attempt in range(40):  # a restart takes a second or two; retrying is what a client does
        tally.paying += 1
        try:
            got = await _call(
                session, tally, base, "POST", f"/v1/holds/{token}/pay", json={"user_id": user_id}
            )
        finally:
            tally.paying -= 1
        if got is not None:
            break
        tally.cut_pays += attempt == 0
        await asyncio.sleep(0.25)
    else:
        return
    status, body = got
    if status != 200:
        tally.outcomes[body["error"]["code"]] += 1
        return
    tally.outcomes[body["outcome"]] += 1
    if body["outcome"] == "confirmed":
        told = tally.told_confirmed.setdefault(token, body["payment_id"])
        if told != body["payment_id"]:
            tally.bad.append(f"hold {token} confirmed with {told} and {body['payment_id']}")


async def _user(n, base, tally, stop):
    rnd, user_id = random.Random(SEED * 100 + n), f"user{n}"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            size = rnd.choice((1, 2, 2, 3, 4))
            row = rnd.choice(ROWS[:12])  # everyone wants the middle of the front half
            start = min(21 - size, int(rnd.triangular(1, 21 - size, 9)))
            seats = [f"{row}{i}" for i in range(start, start + size)]
            got = await _call(
                session,
                tally,
                base,
                "POST",
                "/v1/holds",
                json={"show_id": "demo", "seat_ids": seats, "user_id": user_id},
            )
            if got is None:
                await asyncio.sleep(0.25)
                continue
            status, hold = got
            if status != 201:
                tally.outcomes[hold["error"]["code"]] += 1
                continue
            token, choice = hold["token"], rnd.random()
            await asyncio.sleep(rnd.uniform(0, HOLD_TTL_S * 0.6))  # the user types a UPI PIN
            if choice < 0.45:
                await _pay(session, tally, base, token, user_id)
            elif choice < 0.55:  # a double tap: two pays of one hold at once
                await asyncio.gather(
                    *(_pay(session, tally, base, token, user_id) for _ in range(2))
                )
            elif choice < 0.85:
                path, params = f"/v1/holds/{token}", {"user_id": user_id}
                await _call(session, tally, base, "DELETE", path, params=params)
            # else: walks away; the hold expires


async def _kill_mid_payment(server, tally, rnd):
    """SIGKILL the server while a payment is in flight, then restart it on the same files."""
    await asyncio.sleep(rnd.uniform(0.3, 1.5))
    while tally.paying == 0:
        await asyncio.sleep(0.005)
    await asyncio.sleep(rnd.uniform(0.05, 0.4))  # into the gateway's answer time
    await server.kill()
    down_s = rnd.uniform(0, 1.5 * HOLD_TTL_S)  # long enough, at times, for holds to lapse
    await asyncio.sleep(down_s)
    await server.start()


def _audit(server):
    with sqlite3.connect(server.db) as db:
        sold_twice = db.execute(
            "SELECT c.seat_id, count(*) FROM claims c JOIN holds h USING (token)"
            " WHERE h.status IN ('held', 'confirmed') GROUP BY c.show_id, c.seat_id"
            " HAVING count(*) > 1"
        ).fetchall()
        booked = dict(db.execute("SELECT token, payment_id FROM holds WHERE status = 'confirmed'"))
        open_money = db.execute(
            "SELECT token, state FROM payment_attempts WHERE state IN ('paid', 'refunding')"
        ).fetchall()
    with sqlite3.connect(server.ledger) as ledger:
        captured = dict(
            ledger.execute(
                "SELECT payment_id, refunded_at IS NOT NULL FROM charges"
                " WHERE payment_id IS NOT NULL"
            )
        )
    return sold_twice, booked, open_money, captured


async def test_kill_9_mid_booking_keeps_no_money_and_sells_no_seat_twice(server):
    tally, stop, rnd = Tally(), asyncio.Event(), random.Random(SEED)
    await server.start()
    users = [asyncio.create_task(_user(n, server.base, tally, stop)) for n in range(USERS)]
    try:
        for _ in range(KILLS):
            await asyncio.wait_for(_kill_mid_payment(server, tally, rnd), READY_GUARD_S)
        await asyncio.sleep(rnd.uniform(0.5, 1))
        stop.set()
        await asyncio.gather(*users)
    finally:
        stop.set()
        for task in users:
            task.cancel()
        await asyncio.gather(*users, return_exceptions=True)
    assert await server.stop() == 0, server.errors()  # SIGTERM: a clean shutdown
    started = await server.start()  # the restart reconciles before it serves
    async with aiohttp.ClientSession() as session:
        for token, payment_id in tally.told_confirmed.items():
            got = await _call(session, tally, server.base, "GET", f"/v1/holds/{token}")
            assert got is not None and got[0] == 200, got
            assert (got[1]["status"], got[1]["payment_id"]) == ("confirmed", payment_id)
    assert await server.stop() == 0, server.errors()

    sold_twice, booked, open_money, captured = _audit(server)
    refunds = sum(captured.values())
    summary = f"{tally.outcomes}; {tally.cut_pays} pays cut, {refunds} refunds; {started}"
    assert not tally.bad, tally.bad
    assert tally.cut_pays >= 1, summary  # the kills did land on payments in flight
    assert not sold_twice, sold_twice
    assert tally.told_confirmed.items() <= booked.items(), summary
    assert not open_money, open_money  # the reconciler finished every paid attempt
    kept = sorted(
        p for p, refunded in captured.items() if not refunded and p not in booked.values()
    )
    assert not kept, f"money kept without a seat: {kept}; {summary}"
    refunded_bookings = sorted(p for p in booked.values() if captured.get(p, True))
    assert not refunded_bookings, f"booked with refunded or unknown money: {refunded_bookings}"
    assert tally.outcomes["confirmed"] and refunds, summary  # both endings of a payment ran
    assert "Traceback" not in server.errors(), server.errors()
