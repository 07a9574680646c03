"""``razorlab serve`` and ``razorlab merchants create``: run the gateway as a real server.

``razorlab merchants create --name Acme --db pay.db`` prints the merchant's id and API
keys as JSON (the secret is shown once; only its hash is stored).
``razorlab serve --db pay.db`` serves the HTTP API on 127.0.0.1:8000 with the
simulated bank, and runs reconciliation, the auto-refund sweeper and the webhook
dispatcher in the background. Idempotency fingerprints are keyed with a server-side
secret: ``$RAZORLAB_FINGERPRINT_KEY`` if set (at least 16 bytes), else the key file
``<db>.fingerprint-key``, created on first start (32 random bytes, mode 0600) and read
on every later one, so a retry after a restart still matches its stored key
(:func:`~razorlab.payments.idempotency.fingerprint_key_for`). Keep the file with the
database, and out of backups shared with anyone who should not read card numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable

from razorlab.cli import serve_command, until_stopped
from razorlab.clock import SystemClock
from razorlab.infra.ratelimit import RateLimiter
from razorlab.payments.api import create_app, start_server
from razorlab.payments.bank import BankProfile, SimulatedBank
from razorlab.payments.gateway import Gateway
from razorlab.payments.idempotency import fingerprint_key_for
from razorlab.payments.reconcile import Reconciler
from razorlab.payments.sweeper import AutoRefundSweeper
from razorlab.payments.webhooks import WebhookDispatcher

DEFAULT_DB = "razorlab_payments.db"
SERVER_BANK = BankProfile(latency_median_s=0.02, decline_rate=0.02)  # 20 ms median, 2% declines
RECONCILE_EVERY_S = 30.0


async def _create_merchant(args: argparse.Namespace) -> dict[str, str]:
    gateway = await Gateway.open(args.db, clock=SystemClock())
    try:
        merchant, secret = await gateway.create_merchant(args.name, webhook_url=args.webhook_url)
    finally:
        await gateway.close()
    return {
        "merchant_id": merchant.id,
        "key_id": merchant.key_id,
        "key_secret": secret,
        "webhook_secret": merchant.webhook_secret,
    }


def _merchants_create(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(_create_merchant(args)), indent=2))
    return 0


async def _periodic(every_s: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(every_s)
        await job()


async def _serve(args: argparse.Namespace) -> None:
    clock = SystemClock()
    bank = SimulatedBank(clock, SERVER_BANK)
    gateway = await Gateway.open(
        args.db, clock=clock, bank=bank, limiter=RateLimiter(clock),
        fingerprint_key=fingerprint_key_for(args.db),
    )  # fmt: skip
    runner, url = await start_server(create_app(gateway), args.host, args.port)
    print(f"razorlab payment gateway on {url}  (db: {args.db}; Ctrl-C stops)", flush=True)
    jobs = [
        asyncio.create_task(_periodic(RECONCILE_EVERY_S, Reconciler(gateway).run_once)),
        asyncio.create_task(AutoRefundSweeper(gateway).run()),
        asyncio.create_task(WebhookDispatcher(gateway.store, clock).run()),
    ]
    try:
        await until_stopped()
    finally:
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        await runner.cleanup()
        await gateway.close()


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the payment gateway HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", default=DEFAULT_DB, help="SQLite file (created if missing)")
    serve.set_defaults(run=serve_command(_serve))
    merchants = sub.add_parser("merchants", help="manage gateway merchants")
    msub = merchants.add_subparsers(dest="merchants_command", required=True, metavar="ACTION")
    create = msub.add_parser("create", help="create a merchant and print its API keys as JSON")
    create.add_argument("--name", required=True)
    create.add_argument("--db", default=DEFAULT_DB, help="SQLite file (created if missing)")
    create.add_argument("--webhook-url", default=None, help="where to POST signed webhooks")
    create.set_defaults(run=_merchants_create)
