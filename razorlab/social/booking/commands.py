"""``razorlab serve-booking``: the ticketing HTTP API as a real process that may be killed.

``razorlab serve-booking --db tickets.db --demo-show demo`` serves ``api`` on
``http://127.0.0.1:<free port>`` (the line it prints names it) until Ctrl-C or ``kill``.
Holds, bookings and payment attempts live in the SQLite file; the simulated gateway's
ledger lives in a second file (``--payments-db``, by default next to ``--db``), because the
gateway is another system: what it captured stays captured when this process dies.

Design note — what a restart does: before serving, the server expires due holds and runs
the reconciler once, so a payment captured just before a ``kill -9`` is confirmed (the hold
is still the user's) or refunded (it ran out meanwhile) before any new request sees the
seats; then it repeats both every ``--reconcile-every`` seconds, which also finishes
attempts whose live request was cut short. A failed pass is logged and retried at the next
tick rather than stopping reconciliation for good.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from aiohttp import web

from razorlab.cli import serve_command, until_stopped
from razorlab.clock import SystemClock
from razorlab.rand import DEFAULT_SEED
from razorlab.social.booking.api import create_app
from razorlab.social.booking.ledger_payments import LedgerPayments
from razorlab.social.booking.models import HOLD_TTL_S
from razorlab.social.booking.payments import PAYMENT_FAILURE_RATE
from razorlab.social.booking.reconciler import ReconcileReport
from razorlab.social.booking.service import BookingService
from razorlab.social.booking.simulation import popular_show
from razorlab.social.booking.sqlite_store import SqliteSeatStore

__all__ = [
    "register",
    "ledger_path",
    "DEFAULT_DB",
    "RECONCILE_EVERY_S",
    "PAYMENT_LATENCY_S",
    "DEMO_ROWS",
]

DEFAULT_DB = "razorlab_tickets.db"
RECONCILE_EVERY_S = 30.0  # seconds between sweep + reconcile passes
PAYMENT_LATENCY_S = 1.0  # seconds, mean answer time of the server's simulated gateway
DEMO_ROWS = 20  # the demo show is 20 rows of 20 seats, A1..T20: a large multiplex screen
log = logging.getLogger(__name__)


def ledger_path(db: str) -> str:
    """The gateway ledger's default file: ``tickets.db`` -> ``tickets.payments.db``."""
    path = Path(db)
    return str(path.with_name(f"{path.stem}.payments{path.suffix or '.db'}"))


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


async def _sweep_and_reconcile(service: BookingService) -> ReconcileReport:
    await service.store.sweep(service.clock.now())
    return await service.reconcile()


async def _keep_reconciling(service: BookingService, every_s: float) -> None:
    while True:
        await service.clock.sleep(every_s)
        try:
            await _sweep_and_reconcile(service)
        except Exception:  # a busy file or a gateway hiccup: the next pass retries
            log.exception("reconcile pass failed; retrying in %.0f s", every_s)


async def _serve(args: argparse.Namespace) -> None:
    clock = SystemClock()
    payments_db = args.payments_db or ledger_path(args.db)
    store = await SqliteSeatStore.open(args.db)
    try:
        payments = await LedgerPayments.open(
            payments_db, args.seed, clock, args.decline_rate, args.payment_latency
        )
    except BaseException:
        await store.close()
        raise
    try:
        if args.demo_show and args.demo_show not in await store.show_ids():
            await store.add_show(popular_show(args.demo_show, DEMO_ROWS, DEMO_ROWS))
        service = BookingService(store, payments, clock, hold_ttl_s=args.hold_ttl)
        report = await _sweep_and_reconcile(service)  # before any request sees the seats
        # not razorlab.payments.api.start_server: importing the gateway adds a second per start
        runner = web.AppRunner(create_app(service, await store.show_ids()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        url = f"http://{args.host}:{runner.addresses[0][1]}"  # the real port when --port 0
        print(
            f"razorlab booking API on {url}  (db: {args.db}, payments: {payments_db}; "
            f"reconciled at start: {report.confirmed} confirmed, {report.refunded} refunded; "
            "Ctrl-C stops)",
            flush=True,
        )
        job = asyncio.create_task(_keep_reconciling(service, args.reconcile_every))
        try:
            await until_stopped()
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            await runner.cleanup()
    finally:
        await store.close()
        await payments.close()


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve-booking", help="run the ticketing (BookMyShow) HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    serve.add_argument("--db", default=DEFAULT_DB, help="SQLite file (created if missing)")
    serve.add_argument(
        "--payments-db", default=None, help="the simulated gateway's ledger (default: next to --db)"
    )
    serve.add_argument(
        "--demo-show",
        default=None,
        metavar="SHOW_ID",
        help="add a 400-seat demo show with this id unless it exists",
    )
    serve.add_argument(
        "--hold-ttl", type=_positive, default=HOLD_TTL_S, help="seconds a hold lives"
    )
    serve.add_argument(
        "--payment-latency",
        type=float,
        default=PAYMENT_LATENCY_S,
        help="mean seconds the simulated gateway takes to answer",
    )
    serve.add_argument("--decline-rate", type=float, default=PAYMENT_FAILURE_RATE)
    serve.add_argument(
        "--reconcile-every",
        type=_positive,
        default=RECONCILE_EVERY_S,
        help="seconds between sweep + reconcile passes",
    )
    serve.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the gateway's seed")
    serve.set_defaults(run=serve_command(_serve))
