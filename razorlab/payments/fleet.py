"""``razorlab serve --workers N``: N gateway processes on one port, one database, one Redis.

Scenario: one gateway process uses one core. To use more, run several processes behind
one address, each with its own event loop and its own :class:`Gateway`, sharing what
must be shared: the database (payments, idempotency keys, the webhook outbox), the rate
limit and the read cache (Redis), and the bank (one acquirer, whoever talks to it).

Design note
-----------
- **One listening socket, pre-forked.** The parent binds the port, then forks the workers,
  which all accept on that socket (gunicorn's pre-fork model); the kernel hands each new
  connection to one waiting worker, and a keep-alive connection stays with it. (nginx's
  ``reuseport`` instead gives each worker its own SO_REUSEPORT queue; one shared socket
  also works with ``--port 0``.) The parent only supervises: SIGINT or SIGTERM to it is
  passed on as SIGTERM to every worker, each of which stops as ``serve`` always did
  (:func:`~razorlab.cli.until_stopped`: stop accepting, finish, close the database); if
  one worker dies the parent stops the others and exits 1 — restarting is the job of
  the service manager above it. Each answer names its worker (``X-Razorlab-Worker``).
- **The rate limit is the fleet's, not the worker's.** N in-process token buckets admit
  N times a merchant's limit. With ``--redis`` (or ``RAZORLAB_REDIS_URL``) every worker
  uses :class:`~razorlab.infra.backends.RedisRateLimiter`, one bucket per merchant for
  the fleet. Without Redis, each worker gets ``rate / N`` and ``burst / N``: the fleet
  never admits more than the limit, but a merchant whose connections all land on one
  worker gets only 1/N of it. Under-admitting is the safe error; Redis removes it.
- **No stale status across workers.** Worker A's capture invalidates A's L1 and the
  shared L2, but not worker B's L1, which would serve ``authorized`` for up to its TTL.
  So with N > 1, L1 keeps only merchants (never changed after creation) and payments
  come from the shared L2 — :class:`~razorlab.infra.backends.RedisL2`, whose fills are
  fenced across processes — or, without Redis, straight from the database.
- **One acquirer.** The simulated bank keeps a ledger; with N ledgers a capture on
  worker B of a charge made on worker A would find no authorization. So with N > 1 the
  bank lives in one process (a ``multiprocessing`` manager started by the parent) and
  each worker's :class:`RemoteBank` asks it, sleeping the drawn latency locally. Where
  we simplify: a real acquirer is a network service; this one answers over a local pipe,
  each call a short blocking round trip on the worker's loop (as the Redis limiter's is).
- **The schema is created once.** The parent opens the database before forking, so N
  workers never race to create (or migrate) the same tables.
- **Background jobs run in worker 0 only.** The reconciler and the auto-refund sweeper
  scan the whole table; N copies would do N times the scans and race for the same rows
  (the conditional updates make that safe, but wasteful).
- **Webhooks go out from a relay process** (``relay="process"``, the default, also with
  one worker): the API processes only *write* outbox rows, in the transaction of the
  state change; one more process, :func:`serve_relay`, reads the outbox and delivers —
  the *transactional outbox* with a message relay, how gateways deliver webhooks. Why:
  isolation. A delivery is an HTTP request on the event loop that sends it (~0.4 ms of
  CPU each, measured); in an API process a burst of retries or a slow merchant endpoint
  takes that loop's time from payments, in a relay it takes only the relay's. Costs: one
  more process (and its memory); an event waits up to the relay's polling interval
  (:data:`RELAY_POLL_S`) before its first attempt, where an in-process dispatcher polls
  the same way — so no latency is added, only a process. Measured
  (``benchmarks/payments_serving.py``, a 2-core machine): the CPU per sale of all
  processes together stays the same (5.9–6.3 ms), and req/s gains only as far as a core
  is free for the relay (820–844 against 731–792 in-process).
  Invariants kept (:mod:`~razorlab.payments.webhooks`): at-least-once delivery, one
  event id for every retry of an event, one lane per merchant. The relay shares the
  database with the workers like another worker: on PostgreSQL its claims take ``FOR
  UPDATE SKIP LOCKED`` row locks; on SQLite each claim and each batch's outcomes is one
  ``BEGIN IMMEDIATE`` transaction, which under WAL waits up to ``busy_timeout`` for a
  worker's group commit and lets readers proceed, as a second worker's writes do.
  ``relay="in-process"`` (``razorlab serve --relay in-process``) keeps the dispatcher in
  worker 0 instead (the single-process server as it was). Several relays would be safe
  too (each claim leases its rows) but one keeps up with these rates
  (``benchmarks/payments_serving.py``); a fleet on several machines runs one per
  machine.
- No sticky sessions. A card waiting for its OTP is held by the bank's ACS (in the one
  bank process), in a session named by the payment id, so an OTP submitted to any worker
  completes it. A UPI collect's timer (the test payers' answer,
  the expiry) runs in the worker that sent it; if that worker dies, the bank's
  status answer lets the reconciler settle the payment instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.managers import BaseManager
from typing import Any

from aiohttp import web

from razorlab.cli import until_stopped
from razorlab.clock import Clock, SystemClock
from razorlab.errors import ValidationError
from razorlab.infra.cache import L1_MAX_ITEMS, InMemoryL2, L2Store, LRUCache, MultiLevelCache
from razorlab.infra.ratelimit import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_S,
    RateLimiter,
    _check_limits,
)
from razorlab.money import Money
from razorlab.payments.api import create_app
from razorlab.payments.bank import (
    BankProfile,
    BankReply,
    SimulatedBank,
)
from razorlab.payments.gateway import Gateway
from razorlab.payments.methods import PaymentMethod
from razorlab.payments.payment import Payment, PaymentStatus
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.store import Merchant
from razorlab.payments.sweeper import AutoRefundSweeper
from razorlab.payments.webhooks import WebhookDispatcher

__all__ = [
    "SERVER_BANK",
    "RECONCILE_EVERY_S",
    "WORKER_HEADER",
    "FleetConfig",
    "BankDesk",
    "FORWARDED_CALLS",
    "RemoteBank",
    "JsonL2",
    "NoSharedL2",
    "FleetCache",
    "RELAY_PROCESS",
    "RELAY_IN_PROCESS",
    "RELAY_POLL_S",
    "bind",
    "serve_worker",
    "serve_relay",
    "relay_process",
    "run_fleet",
]

SERVER_BANK = BankProfile(latency_median_s=0.02, decline_rate=0.02)  # 20 ms median, 2% declines
RECONCILE_EVERY_S = 30.0
WORKER_HEADER = "X-Razorlab-Worker"
STOP_GRACE_S = 15.0  # seconds a worker has to finish after SIGTERM before it is killed
BACKLOG = 1024  # connections the shared socket queues before the workers accept them
RELAY_PROCESS = "process"  # webhooks delivered by a relay process of their own (the default)
RELAY_IN_PROCESS = "in-process"  # delivered by worker 0's event loop, beside the API
RELAY_POLL_S = 1.0  # seconds between the relay's looks for due outbox rows


@dataclass(frozen=True)
class FleetConfig:
    """What every worker of one fleet shares. ``redis_url=None``: no Redis (see above)."""

    db: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    redis_url: str | None = None
    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: float = DEFAULT_BURST
    namespace: str = "gateway"  # keeps this fleet's Redis keys apart from other users'
    schema: str | None = None  # PostgreSQL schema of the tables (None: the store's default)
    relay: str = RELAY_PROCESS  # where webhooks are delivered from (see above)

    def __post_init__(self) -> None:
        if self.relay not in (RELAY_PROCESS, RELAY_IN_PROCESS):
            raise ValidationError(
                f"relay must be {RELAY_PROCESS!r} or {RELAY_IN_PROCESS!r}, got {self.relay!r}",
                field="relay",
            )
        if isinstance(self.workers, bool) or not isinstance(self.workers, int):
            raise ValidationError("workers must be a whole number", field="workers")
        if not 1 <= self.workers <= 64:
            raise ValidationError(
                f"workers must be in [1, 64], got {self.workers}", field="workers"
            )
        _check_limits(self.rate_per_s, self.burst)  # refused here, not in every worker
        if self.workers > 1 and self.db == ":memory:":
            raise ValidationError(
                "a fleet shares one database: pass a file or a postgresql:// URL", field="db"
            )
        if self.relay == RELAY_PROCESS and self.db == ":memory:":
            raise ValidationError(
                "a relay process shares the database: pass a file or a postgresql:// URL, "
                f"or relay {RELAY_IN_PROCESS!r}",
                field="relay",
            )
        if self.redis_url is None and self.burst / self.workers < 1:
            raise ValidationError(
                f"burst {self.burst} split over {self.workers} workers without Redis is below "
                "one request per worker: pass --redis",
                field="workers",
            )

    def store_options(self) -> dict[str, str]:
        """``Gateway.open``'s options for this fleet's database (its PostgreSQL schema)."""
        return {} if self.schema is None else {"schema": self.schema}


# ----- the one bank ----------------------------------------------------------------------
def _now(coro: Awaitable[Any]) -> Any:
    """The result of a coroutine that never suspends (the bank with ``wait=False``)."""
    try:
        coro.send(None)  # type: ignore[attr-defined]
    except StopIteration as done:
        return done.value
    coro.close()  # type: ignore[attr-defined]
    raise RuntimeError("the bank suspended although it was told not to wait")


#: The bank's synchronous calls a worker makes through the desk (``charge`` is special: the
#: desk draws the reply at once and the worker sleeps the latency on its own clock).
FORWARDED_CALLS = frozenset({
    "status", "capture", "refund", "begin_authentication", "complete_authentication",
    "begin_collect",
})  # fmt: skip


class BankDesk:
    """The fleet's one :class:`SimulatedBank`, in the manager process; calls are serialised."""

    def __init__(self, profile: BankProfile):
        self._bank = SimulatedBank(SystemClock(), profile, wait=False)
        self._lock = threading.Lock()  # the manager serves each worker on its own thread

    def charge(self, payment_id: str, amount: Money, method: PaymentMethod) -> BankReply:
        with self._lock:
            return _now(self._bank.charge(payment_id, amount, method))

    def call(self, name: str, *args: Any) -> Any:
        """The bank's call ``name`` (one of :data:`FORWARDED_CALLS`) with ``args``."""
        if name not in FORWARDED_CALLS:
            raise AttributeError(f"the bank desk does not forward {name!r}")
        with self._lock:
            return getattr(self._bank, name)(*args)


class _BankManager(BaseManager):
    pass


_BankManager.register("BankDesk", BankDesk)


class RemoteBank:
    """A worker's handle on the :class:`BankDesk`: the bank's interface, latency slept here."""

    def __init__(self, desk: Any, clock: Clock, profile: BankProfile):
        self.desk = desk
        self.clock = clock
        self.profile = profile
        self.wait = True

    async def charge(self, payment_id: str, amount: Money, method: PaymentMethod) -> BankReply:
        reply = self.desk.charge(payment_id, amount, method)
        await self.clock.sleep(reply.latency_s)
        return reply

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """``status``, ``capture``, ``refund`` …: the same call on the desk's bank."""
        if name not in FORWARDED_CALLS:
            raise AttributeError(name)
        return functools.partial(self.desk.call, name)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the
    #                                               parent shuts the manager down itself


# ----- the cache of a fleet --------------------------------------------------------------
def _encode(value: Payment | Merchant) -> dict[str, Any]:
    """A cached entity as JSON (what :class:`RedisL2` stores), tagged with its kind."""
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Merchant):
        return {"merchant": fields}
    fields.update(amount=[value.amount.paise, value.amount.currency], status=value.status.value)
    return {"payment": fields}


def _decode(raw: dict[str, Any]) -> Payment | Merchant:
    if "merchant" in raw:
        return Merchant(**raw["merchant"])
    fields = raw["payment"]
    return Payment(**{
        **fields, "amount": Money(*fields["amount"]), "status": PaymentStatus(fields["status"]),
        "method_details": tuple(tuple(pair) for pair in fields["method_details"]),
        "notes": tuple(tuple(pair) for pair in fields.get("notes", ())),
    })  # fmt: skip


class JsonL2:
    """An :class:`L2Store` around a JSON-only one (Redis): payments and merchants encoded."""

    def __init__(self, inner: L2Store):
        self.inner = inner

    async def get(self, key: Hashable) -> Any | None:
        raw = await self.inner.get(key)
        return None if raw is None else _decode(raw)

    async def set(self, key: Hashable, value: Any, ttl_s: float) -> None:
        await self.inner.set(key, _encode(value), ttl_s)  # same task: RedisL2 fences the fill

    async def delete(self, key: Hashable) -> None:
        await self.inner.delete(key)


class NoSharedL2:
    """No shared level (a fleet without Redis): nothing kept, every miss reads the database."""

    async def get(self, key: Hashable) -> Any | None:
        return None

    async def set(self, key: Hashable, value: Any, ttl_s: float) -> None:
        return None

    async def delete(self, key: Hashable) -> None:
        return None


class _MerchantsOnly(LRUCache):
    """An L1 that keeps merchants only: another worker may change a payment at any time."""

    def set(self, key: Hashable, value: Any) -> None:
        if isinstance(value, Merchant):
            super().set(key, value)


class FleetCache(MultiLevelCache):
    """The gateway's cache in one worker of several: L1 merchants only, payments from L2."""

    def __init__(self, loader: Callable[[Hashable], Awaitable[Any]], clock: Clock, *,
                 l2: L2Store):  # fmt: skip
        super().__init__(loader, clock, l2=l2)
        self.l1 = _MerchantsOnly(clock, max_items=L1_MAX_ITEMS)


# ----- one worker ------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (``port=0``: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


def _shared_state(config: FleetConfig, clock: Clock) -> tuple[RateLimiter, L2Store, list[Any]]:
    """The limiter and the L2 for one worker, and the clients to close at the end."""
    if config.redis_url is None:
        split = config.workers
        limiter = RateLimiter(clock, rate_per_s=config.rate_per_s / split,
                              burst=config.burst / split)  # fmt: skip
        return limiter, (InMemoryL2(clock) if split == 1 else NoSharedL2()), []
    from razorlab.infra.backends import RedisL2, RedisRateLimiter

    limiter = RedisRateLimiter(clock, config.redis_url, rate_per_s=config.rate_per_s,
                               burst=config.burst, namespace=config.namespace)  # fmt: skip
    l2 = RedisL2(config.redis_url, namespace=config.namespace)
    return limiter, JsonL2(l2), [limiter, l2]


async def _periodic(every_s: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(every_s)
        await job()


async def serve_worker(
    config: FleetConfig, index: int, sock: socket.socket, fingerprint_key: bytes,
    bank: SimulatedBank | RemoteBank | None = None,
) -> None:  # fmt: skip
    """Serve the API on ``sock`` until SIGINT/SIGTERM; worker 0 also runs the jobs.

    Worker 0 delivers webhooks too only with ``config.relay == RELAY_IN_PROCESS``.
    """
    clock = SystemClock()
    limiter, l2, clients = _shared_state(config, clock)
    cache = MultiLevelCache if config.workers == 1 else FleetCache
    gateway = await Gateway.open(
        config.db, clock=clock, bank=bank or SimulatedBank(clock, SERVER_BANK), limiter=limiter,
        fingerprint_key=fingerprint_key, cache=lambda load, c: cache(load, c, l2=l2),
        **config.store_options(),
    )  # fmt: skip
    app = create_app(gateway)

    async def name_worker(_: web.Request, response: web.StreamResponse) -> None:
        response.headers[WORKER_HEADER] = str(index)

    app.on_response_prepare.append(name_worker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    jobs = []
    if index == 0:
        jobs = [
            asyncio.create_task(_periodic(RECONCILE_EVERY_S, Reconciler(gateway).run_once)),
            asyncio.create_task(AutoRefundSweeper(gateway).run()),
        ]
        if config.relay == RELAY_IN_PROCESS:
            jobs.append(asyncio.create_task(WebhookDispatcher(gateway.store, clock).run()))
    try:
        await until_stopped()
    finally:
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        await runner.cleanup()
        await gateway.close()
        for client in clients:
            result = client.close()
            if asyncio.iscoroutine(result):
                await result


def _worker_process(
    config: FleetConfig, index: int, sock: socket.socket, key: bytes, desk: Any
) -> None:
    """A forked worker's whole life: its own event loop, gateway and bank handle.

    ``desk=None`` (one worker): the worker keeps its own :class:`SimulatedBank`.
    """
    bank = None if desk is None else RemoteBank(desk, SystemClock(), SERVER_BANK)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_worker(config, index, sock, key, bank))


# ----- the webhook relay -----------------------------------------------------------------
async def serve_relay(config: FleetConfig) -> None:
    """Deliver the outbox of ``config.db`` until SIGINT/SIGTERM (the relay's event loop).

    Opens the database as a worker does, runs one :class:`WebhookDispatcher` polling every
    :data:`RELAY_POLL_S`, and on a stop cancels its lanes (their rows stay pending and are
    delivered again, with the same event ids) and closes the database.
    """
    clock = SystemClock()
    gateway = await Gateway.open(config.db, clock=clock, **config.store_options())
    relay = asyncio.create_task(
        WebhookDispatcher(gateway.store, clock).run(interval_s=RELAY_POLL_S)
    )
    try:
        await until_stopped()
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await gateway.close()


def relay_process(config: FleetConfig) -> None:
    """The relay process's whole life (the target :func:`run_fleet` forks)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_relay(config))


async def _prepare(config: FleetConfig) -> None:
    """Create (or migrate) the tables once, before any worker opens them."""
    gateway = await Gateway.open(config.db, clock=SystemClock(), **config.store_options())
    await gateway.close()


def run_fleet(config: FleetConfig, sock: socket.socket, fingerprint_key: bytes) -> int:
    """Fork ``config.workers`` workers on ``sock`` (and the relay, the bank's process when
    N > 1); supervise until SIGINT/SIGTERM.

    Returns 0 after a requested stop, 1 if a worker, the relay or the bank died on its own
    (the rest are stopped).
    """
    asyncio.run(_prepare(config))
    ctx = multiprocessing.get_context("fork")  # workers start at once: nothing re-imported
    manager = _BankManager(ctx=ctx) if config.workers > 1 else None  # one worker: its own bank
    before = set(multiprocessing.active_children())
    if manager is not None:
        manager.start(_ignore_interrupts)
    watched = list(set(multiprocessing.active_children()) - before)  # the bank's process
    workers: list[Any] = []
    stop = threading.Event()
    previous = {}
    try:
        desk = manager and manager.BankDesk(SERVER_BANK)  # type: ignore[attr-defined]
        if config.relay == RELAY_PROCESS:
            relay = ctx.Process(target=relay_process, name="razorlab-relay", args=(config,))
            relay.start()
            workers.append(relay)  # stopped like a worker: SIGTERM, then its cleanup
        for index in range(config.workers):
            worker = ctx.Process(target=_worker_process, name=f"razorlab-worker-{index}",
                                 args=(config, index, sock, fingerprint_key, desk))  # fmt: skip
            worker.start()
            workers.append(worker)
        watched += workers
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        while not stop.is_set() and all(p.is_alive() for p in watched):
            wait([p.sentinel for p in watched], timeout=0.2)
        for process in watched:
            if not stop.is_set() and not process.is_alive():
                print(f"razorlab serve: {process.name} exited with {process.exitcode}; "
                      "stopping the fleet", file=sys.stderr)  # fmt: skip
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the worker's until_stopped returns, it cleans up
        for worker in workers:
            worker.join(STOP_GRACE_S)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if manager is not None:
            manager.shutdown()
    return 0 if stop.is_set() else 1
