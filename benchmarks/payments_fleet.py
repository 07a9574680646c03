"""The gateway fleet: ``razorlab serve --workers N`` at 1, 2 and 4 workers, same load.

Configuration: the command itself, as an operator runs it, in a child process — on
PostgreSQL (a fresh schema per run) and Redis (fleet-wide rate limit at a limit that never
binds, fenced L2 cache) when ``make services`` has started them, else on a shared SQLite
file without Redis (the table says which). The load generator is this process: 32
connections, each running sales back to back (a closed loop), one sale being what a
shop's server does through the API: ``POST /v1/orders``, ``POST /v1/payments`` (UPI
``success@razorpay`` for the order; the bank's latency is ``SERVER_BANK``'s, 20 ms median)
and ``POST /v1/payments/{id}/capture``. Rounds of each size alternate; each keeps its best.

Ratios are to the 1-worker fleet measured in the same run. Where the time goes, per sale
and per round: CPU seconds of the server (every worker, the supervisor and the bank, from
``/proc``) and of the load generator, the database's commits (``pg_stat_database``, the
whole server: other clients count too) and Redis round trips (scripts run, ``INFO commandstats``: every Redis call the
gateway makes is one script; other clients count too).
``python -m benchmarks.payments_fleet --save`` also writes ``data/fleet/measurements.json``,
which the chapter ``03_gateway_fleet`` shows; ``--quick`` runs fewer, smaller rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import numpy as np

from razorlab.clock import SystemClock
from razorlab.infra.services import recorded_database_url, recorded_redis_url
from razorlab.payments import Gateway

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = ROOT / "data" / "fleet" / "measurements.json"
WORKERS = (1, 2, 4)
CONCURRENCY = 32
N_FLOWS = 300  # sales per round (three requests each)
WARM_FLOWS = 64
ROUNDS = 2
ORDER = {"amount": 49_900, "currency": "INR", "receipt": "bench"}
UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}
CAPTURE = {"amount": 49_900, "currency": "INR"}
TICK = os.sysconf("SC_CLK_TCK")
PROBES = 800  # round trips / commits per probe
SERVICES = ("postgres", "redis-server")  # command names of the servers' processes


async def services() -> tuple[str | None, str | None]:
    """``(database_url, redis_url)`` of ``make services``, each ``None`` if it does not answer."""
    try:
        import asyncpg
        import redis
    except ModuleNotFoundError:  # no clients (pip install 'razorlab[services]'): no services
        return None, None
    db, cache = recorded_database_url(ROOT), recorded_redis_url(ROOT)
    try:
        if cache:
            redis.Redis.from_url(cache, socket_connect_timeout=1).ping()
    except redis.RedisError:
        cache = None
    try:
        if db:
            await _sql(db, "SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError):
        db = None
    return db, cache


async def _sql(url: str, query: str) -> object:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=2)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def cpu_s(pid: int, *, descendants: bool = True) -> float:
    """CPU seconds of ``pid`` and (``descendants``) every process below it (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # it just exited
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return own + sum(cpu_s(int(child)) for child in children if descendants)


def _named_cpu_s(names: tuple[str, ...]) -> float:
    """CPU seconds of every process whose command name is one of ``names`` (the servers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] in names:
            fields = tail.split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def _machine_busy_s() -> float:
    """CPU seconds every core of the machine spent busy since boot (``/proc/stat``)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK  # all but idle and iowait


def _redis_round_trips(url: str | None) -> int:
    """Scripts Redis has run: every call the gateway makes is one (limiter, L2 get/set/delete)."""
    if url is None:
        return 0
    import redis

    with redis.Redis.from_url(url, decode_responses=True) as client:
        stats = client.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


async def _commits(url: str) -> int:
    if not url.startswith("postgres"):
        return 0
    query = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    return int(await _sql(url, query))


def basic_auth(key_id: str, secret: str) -> dict[str, str]:
    """The ``Authorization`` header of HTTP Basic auth (Checkout.js sends the key id alone)."""
    token = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def fleet(workers: int, db: str, redis_url: str | None, *, webhook_url: str | None = None,
                options: tuple[str, ...] = ()) -> AsyncIterator[tuple]:  # fmt: skip
    """``(url, shop_headers, checkout_headers, server)``: ``razorlab serve --workers N``.

    One merchant (webhooks to ``webhook_url``, if given); ``options`` are more flags of the
    command; the shop's headers carry key id and secret, checkout's the key id alone.
    """
    schema = f"bench_fleet_{os.getpid()}_{workers}" if db.startswith("postgres") else None
    gateway = await Gateway.open(db, clock=SystemClock(), **({"schema": schema} if schema else {}))
    merchant, secret = await gateway.create_merchant("Bench", webhook_url=webhook_url)
    await gateway.close()
    argv = [sys.executable, "-m", "razorlab", "serve", "--db", db, "--port", "0",
            "--workers", str(workers), "--rate-limit", "1e9", "--burst", "1e9", *options]  # fmt: skip
    argv += ["--redis", redis_url] if redis_url else []
    argv += ["--schema", schema] if schema else []
    env = {**os.environ, "RAZORLAB_FINGERPRINT_KEY": "bench-fleet-fingerprint-key"}
    env.pop("RAZORLAB_REDIS_URL", None)
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://[\d.]+:\d+", server.stdout.readline()).group(0)
        shop, checkout = basic_auth(merchant.key_id, secret), basic_auth(merchant.key_id, "")
        yield url, shop, checkout, server
    finally:
        server.terminate()
        server.wait(60)
        server.stdout.close()
        if schema:
            await _sql(db, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _sales(url: str, shop: dict[str, str], n: int) -> dict:
    """``n`` sales from CONCURRENCY connections; req/s and latency percentiles."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    todo = iter(range(n))
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers=shop) as session:

        async def post(path: str, body: dict) -> dict:
            began = time.perf_counter()
            async with session.post(url + path, json=body) as resp:
                answer = await resp.json()
                statuses[resp.status] += 1
            latencies.append((time.perf_counter() - began) * 1000)
            return answer

        async def connection() -> None:
            for _ in todo:
                order = await post("/v1/orders", ORDER)
                payment = await post("/v1/payments", {**UPI, "order_id": order["id"]})
                await post(f"/v1/payments/{payment['id']}/capture", CAPTURE)

        began = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    assert set(statuses) <= {200, 201}, statuses
    return {"req/s": len(latencies) / elapsed, "sales/s": n / elapsed, "elapsed s": elapsed,
            "p50 ms": float(np.percentile(latencies, 50)),
            "p99 ms": float(np.percentile(latencies, 99))}  # fmt: skip


async def wait_until_ready(url: str, shop: dict[str, str]) -> None:
    async with aiohttp.ClientSession(headers=shop) as session:
        for _ in range(600):
            try:
                async with session.get(url + "/v1/payments?count=1") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the fleet at {url} never answered")


async def measure_round(url: str, shop: dict, server: subprocess.Popen, db: str,
                        redis_url: str | None, flows: int) -> dict:  # fmt: skip
    """One round of ``flows`` sales, with where its time went (per sale)."""

    async def sample() -> tuple[float, ...]:
        return (cpu_s(server.pid), time.process_time(), _named_cpu_s(SERVICES),
                _machine_busy_s(), await _commits(db), _redis_round_trips(redis_url))  # fmt: skip

    before = await sample()
    stats = await _sales(url, shop, flows)
    after = await sample()
    server, load, services, machine, commits, commands = (
        b - a for a, b in zip(before, after, strict=True)
    )
    per_sale = {"server CPU ms/sale": server, "load CPU ms/sale": load,
                "postgres+redis CPU ms/sale": services}  # fmt: skip
    return {**stats, **{k: 1000 * v / flows for k, v in per_sale.items()},
            "machine cores busy": machine / stats["elapsed s"], "commits/sale": commits / flows,
            "commits/s": commits / stats["elapsed s"],
            "redis round trips/sale": commands / flows}  # fmt: skip


async def _best(workers: tuple[int, ...], db: str, redis_url: str | None, flows: int,
                rounds: int) -> list[dict]:  # fmt: skip
    best: dict[int, dict] = {}
    for _ in range(rounds):
        for n in workers:
            async with fleet(n, db, redis_url) as (url, shop, _, server):
                await wait_until_ready(url, shop)
                await _sales(url, shop, WARM_FLOWS)
                stats = await measure_round(url, shop, server, db, redis_url, flows)
            if n not in best or stats["req/s"] > best[n]["req/s"]:
                best[n] = {"workers": n, **stats}
    return [_rounded(best[n]) for n in workers]


async def run(workers: tuple[int, ...] = WORKERS, flows: int = N_FLOWS, rounds: int = ROUNDS,
              setups_run: int = 3) -> dict:  # fmt: skip
    """Every fleet size on the first ``setups_run`` setups this machine has; each one's best."""
    db_url, redis_url = await services()
    setups = {}
    with tempfile.TemporaryDirectory() as tmp:
        if db_url:
            setups["postgresql + redis"] = (db_url, redis_url)
            async_commit = db_url + ("&" if "?" in db_url else "?") + "synchronous_commit=off"
            setups["postgresql, commits not awaited + redis"] = (async_commit, redis_url)
        setups["sqlite file, no redis"] = (str(Path(tmp) / "fleet.db"), None)
        results = {name: await _best(workers, db, cache, flows, rounds)
                   for name, (db, cache) in list(setups.items())[:setups_run]}  # fmt: skip
        unit_costs = await probes(db_url, redis_url)
    return {
        "services": {"postgresql": db_url is not None, "redis": redis_url is not None},
        "cores": os.cpu_count(), "python": platform.python_version(),
        "connections": CONCURRENCY, "sales per round": flows, "rounds": rounds,
        "flow": "POST /v1/orders, POST /v1/payments (UPI), POST /v1/payments/{id}/capture",
        "setups": results, "unit costs": unit_costs,
    }  # fmt: skip


async def probes(db_url: str | None, redis_url: str | None) -> dict:
    """The unit costs a sizing starts from: one durable commit, one Redis round trip."""
    found: dict[str, float] = {}
    if redis_url:
        import redis

        with redis.Redis.from_url(redis_url) as client:
            began = time.perf_counter()
            for _ in range(PROBES):
                client.ping()
            found["redis round trip µs"] = 1e6 * (time.perf_counter() - began) / PROBES
    if db_url:
        import asyncpg

        pool = await asyncpg.create_pool(db_url, min_size=8, max_size=8)
        try:
            table = f"bench_commit_{os.getpid()}"
            await pool.execute(f"CREATE TABLE {table} (x int)")

            async def commits(n: int) -> None:
                async with pool.acquire() as conn:
                    for _ in range(n):
                        await conn.execute(f"INSERT INTO {table} VALUES (1)")

            for name, connections in (("1 connection", 1), ("8 connections", 8)):
                began = time.perf_counter()
                await asyncio.gather(*(commits(PROBES // 8) for _ in range(connections)))
                rate = connections * (PROBES // 8) / (time.perf_counter() - began)
                found[f"durable commits/s, {name}"] = rate
            await pool.execute(f"DROP TABLE {table}")
        finally:
            await pool.close()
    return _rounded(found)


def _rounded(row: dict) -> dict:
    """Figures to what a reader needs (and what the chapter shows)."""
    return {k: (v if isinstance(v, int) else round(v, 2 if v < 10 else 1)) for k, v in row.items()}


def report(result: dict) -> None:
    missing = [name for name, up in result["services"].items() if not up]
    print(f"{result['cores']} cores; {result['connections']} connections; sale = order + "
          f"payment + capture; services missing: {', '.join(missing) or 'none'}")  # fmt: skip
    print("| setup | workers | req/s | sales/s | p50 ms | p99 ms | ×1 worker | server CPU ms/sale "
          "| services CPU ms/sale | load CPU ms/sale | machine cores busy | commits/sale "
          "| commits/s | redis round trips/sale |")  # fmt: skip
    print("|---|" + "---:|" * 13)
    for setup, rows in result["setups"].items():
        base = rows[0]["req/s"]
        for r in rows:
            print(f"| {setup} | {r['workers']} | {r['req/s']:,.0f} | {r['sales/s']:,.0f} "
                  f"| {r['p50 ms']:.1f} | {r['p99 ms']:.1f} | {r['req/s'] / base:.2f} "
                  f"| {r['server CPU ms/sale']:.1f} | {r['postgres+redis CPU ms/sale']:.1f} "
                  f"| {r['load CPU ms/sale']:.1f} | {r['machine cores busy']:.1f} "
                  f"| {r['commits/sale']:.1f} | {r['commits/s']:,.0f} "
                  f"| {r['redis round trips/sale']:.1f} |")  # fmt: skip


def _report_units(result: dict) -> None:
    for name, value in result["unit costs"].items():
        print(f"- {name}: {value:,}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help=f"write {MEASUREMENTS.name}")
    parser.add_argument("--quick", action="store_true",
                        help="the first setup only, 1 and 2 workers, one small round")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args([] if argv is None else argv)
    plan = {"workers": (1, 2), "flows": 120, "rounds": 1, "setups_run": 1} if args.quick else {}
    result = asyncio.run(run(**plan))
    if args.json:
        print(json.dumps(result))
        return
    report(result)
    _report_units(result)
    if args.save:
        MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
        MEASUREMENTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
