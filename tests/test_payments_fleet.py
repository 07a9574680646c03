"""``razorlab serve --workers 2``: two processes on one port behave as one gateway,
on a shared SQLite file and on PostgreSQL + Redis.

Each test starts the real command as a child process on a free port (``--port 0``; the
banner names the port), drives it over HTTP — with the official SDK where the SDK has the
call — and stops it with SIGTERM, as a service manager would. Which worker answered is in
the ``X-Razorlab-Worker`` header; fresh connections (``Connection: close``) reach both.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from razorlab.clock import SystemClock
from razorlab.payments.fleet import WORKER_HEADER, FleetConfig
from razorlab.payments.gateway import Gateway
from razorlab.payments.sdk import sdk_client

pytest.importorskip("razorpay")

ROOT = Path(__file__).resolve().parent.parent
UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}
TRIES = 200  # fresh connections tried before giving up on reaching both workers


async def _merchant(db: str, **options: str) -> tuple[str, str]:
    gateway = await Gateway.open(db, clock=SystemClock(), **options)
    try:
        merchant, secret = await gateway.create_merchant("Acme")
    finally:
        await gateway.close()
    return merchant.key_id, secret


def _serve(db: str, *options: str) -> subprocess.Popen:
    """``razorlab serve`` on a free port, without the environment's Redis."""
    env = {k: v for k, v in os.environ.items() if k != "RAZORLAB_REDIS_URL"}
    env["RAZORLAB_FINGERPRINT_KEY"] = "fleet-test-fingerprint-key"
    argv = [sys.executable, "-m", "razorlab", "serve", "--db", db, "--port", "0", *options]
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True)


@contextmanager
def fleet(
    tmp_path: Path, *options: str, workers: int = 2, db: str | None = None
) -> Iterator[tuple[str, str, str]]:
    """``(url, key_id, secret)`` of ``razorlab serve --workers 2 …``, stopped afterwards.

    ``db``: a PostgreSQL URL (in a schema of this test's own, dropped afterwards); default a
    SQLite file in ``tmp_path``.
    """
    schema = f"fleet_test_{os.getpid()}_{tmp_path.name}"[:60] if db else None
    db = db or str(tmp_path / "pay.db")
    key_id, secret = asyncio.run(_merchant(db, **({"schema": schema} if schema else {})))
    options = (*options, "--schema", schema) if schema else options
    server = _serve(db, "--workers", str(workers), *options)
    try:
        banner = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert url is not None, banner
        yield url.group(0), key_id, secret
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        server.stdout.close()
        server.stderr.close()
        if schema:
            asyncio.run(_drop(db, schema))


async def _drop(url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def fresh(method: str, url: str, auth: tuple[str, str], body: dict | None = None):
    """One request on a new connection (so the kernel may hand it to either worker)."""
    with requests.Session() as session:
        session.trust_env = False
        return session.request(
            method, url, json=body, auth=auth, headers={"Connection": "close"}, timeout=30
        )


def test_two_workers_serve_the_official_sdk_and_stop_cleanly(tmp_path):
    with fleet(tmp_path) as (url, key_id, secret):
        client = sdk_client(url, key_id, secret)
        try:
            order = client.order.create({"amount": 49_900, "currency": "INR", "receipt": "r1"})
            payment = client.post("/v1/payments", {**UPI, "order_id": order["id"]})
            assert payment["status"] == "authorized"
            client.payment.capture(payment["id"], 49_900, {"currency": "INR"})
            assert client.payment.fetch(payment["id"])["status"] == "captured"
            assert client.order.fetch(order["id"])["status"] == "paid"
        finally:
            client.session.close()


def _capture_then_read_everywhere(url: str, auth: tuple[str, str]) -> None:
    """Capture through one worker, then read until the other worker has answered twice."""
    created = fresh("POST", f"{url}/v1/payments", auth, UPI).json()
    fetch = f"{url}/v1/payments/{created['id']}"
    seen = {fresh("GET", fetch, auth).headers[WORKER_HEADER] for _ in range(4)}  # fill caches
    capture = fresh("POST", f"{fetch}/capture", auth, {"amount": 49_900, "currency": "INR"})
    assert capture.status_code == 200, capture.text
    by = capture.headers[WORKER_HEADER]
    answers = []
    for _ in range(TRIES):
        read = fresh("GET", fetch, auth)
        answers.append((read.headers[WORKER_HEADER], read.json()["status"]))
        if sum(worker != by for worker, _ in answers) >= 2:
            break
    assert seen and {worker for worker, _ in answers} - {by}, "one worker answered all"
    assert {status for _, status in answers} == {"captured"}


def test_a_capture_on_one_worker_is_seen_by_the_other(tmp_path):
    with fleet(tmp_path) as (url, key_id, secret):
        _capture_then_read_everywhere(url, (key_id, secret))


def test_on_postgresql_and_redis_a_capture_is_seen_by_the_other_worker(
    tmp_path, database_url, redis_url
):
    with fleet(tmp_path, "--redis", redis_url, db=database_url) as (url, key_id, secret):
        _capture_then_read_everywhere(url, (key_id, secret))


def test_an_otp_reaches_whichever_worker_and_completes_the_card_payment(tmp_path):
    """The card waits at the bank's ACS, not in a worker: the OTP may land on either."""
    card = {"number": "4111111111111111", "expiry_month": "12", "expiry_year": "30",
            "cvv": "123"}  # fmt: skip
    with fleet(tmp_path) as (url, key_id, secret):
        auth = (key_id, secret)
        client = sdk_client(url, key_id, secret)
        pairs = set()
        try:
            for _ in range(TRIES):
                order = fresh("POST", f"{url}/v1/orders", auth,
                              {"amount": 49_900, "currency": "INR"}).json()  # fmt: skip
                body = {"amount": 49_900, "currency": "INR", "order_id": order["id"],
                        "email": "a@shop.test", "contact": "9000090000", "method": "card",
                        "card": card}  # fmt: skip
                started = fresh("POST", f"{url}/v1/payments/create/json", auth, body)
                assert started.status_code == 200, started.text
                pid = started.json()["razorpay_payment_id"]
                done = fresh("POST", f"{url}/v1/payments/{pid}/otp/submit", auth,
                             {"otp": "123456"})  # fmt: skip
                assert done.status_code == 200, done.text
                assert client.utility.verify_payment_signature(done.json()) is True
                pairs.add((started.headers[WORKER_HEADER], done.headers[WORKER_HEADER]))
                if any(a != b for a, b in pairs):
                    break
            assert any(a != b for a, b in pairs), f"one worker answered all: {pairs}"
        finally:
            client.session.close()


def _admitted(url: str, auth: tuple[str, str], at_least: int) -> tuple[int, set[str]]:
    """Payments admitted out of ``at_least`` or more tries that reached both workers."""
    admitted, workers = 0, set()
    for n in range(TRIES):
        answer = fresh("POST", f"{url}/v1/payments", auth, UPI)
        assert answer.status_code in (201, 429), answer.text
        admitted += answer.status_code == 201
        workers.add(answer.headers[WORKER_HEADER])
        if n + 1 >= at_least and len(workers) == 2:
            break
    assert workers == {"0", "1"}, "one worker answered all"
    return admitted, workers


def test_with_redis_the_fleet_admits_the_limit_once_not_per_worker(tmp_path, redis_url):
    limit = ["--rate-limit", "0.001", "--burst", "4"]  # refills one payment in 1000 s
    with fleet(tmp_path, "--redis", redis_url, *limit) as (url, key_id, secret):
        admitted, _ = _admitted(url, (key_id, secret), at_least=12)
    assert admitted == 4  # two in-process buckets would have admitted up to 8


def test_without_redis_each_worker_enforces_its_share_so_the_fleet_never_over_admits(tmp_path):
    limit = ["--rate-limit", "0.001", "--burst", "4"]
    with fleet(tmp_path, *limit) as (url, key_id, secret):
        admitted, _ = _admitted(url, (key_id, secret), at_least=12)
    assert admitted <= 4


def test_one_worker_is_the_single_process_server_it_always_was(tmp_path):
    with fleet(tmp_path, workers=1) as (url, key_id, secret):
        answers = [fresh("POST", f"{url}/v1/payments", (key_id, secret), UPI) for _ in range(3)]
    assert [a.status_code for a in answers] == [201] * 3
    assert {a.headers[WORKER_HEADER] for a in answers} == {"0"}


def test_a_fleet_refuses_a_burst_it_cannot_split():
    with pytest.raises(Exception, match="pass --redis"):
        FleetConfig("pay.db", workers=4, burst=2)


def _children(pid: int, at_least: int) -> list[int]:
    """The child processes of ``pid`` once there are ``at_least`` (Linux ``/proc``)."""
    for _ in range(TRIES):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(children) >= at_least:
            return [int(child) for child in children]
        time.sleep(0.05)
    raise AssertionError(f"the fleet never had {at_least} processes")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_when_a_process_of_the_fleet_dies_the_rest_stop_and_the_exit_code_says_so(tmp_path):
    db = str(tmp_path / "pay.db")
    asyncio.run(_merchant(db))
    server = _serve(db, "--workers", "2")
    try:
        children = _children(server.pid, at_least=3)  # the bank and two workers
        os.kill(children[-1], signal.SIGKILL)
        assert server.wait(timeout=60) == 1
        assert "stopping the fleet" in server.stderr.read()
        assert not any(Path(f"/proc/{child}").exists() for child in children)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
        server.stderr.close()
