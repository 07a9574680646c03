"""``razorlab serve`` and ``razorlab merchants create``: run the gateway as a real server.

``razorlab merchants create --name Acme --db pay.db`` prints the merchant's id and API
keys as JSON (the secret is shown once; only its hash is stored).
``razorlab serve --db pay.db`` serves the HTTP API on 127.0.0.1:8000 with the simulated
bank, and runs reconciliation and the auto-refund sweeper in the background; webhooks
are delivered by a relay process of their own, reading the outbox the API writes
(``--relay in-process``: by the API's process, as before; the default for ``--db
:memory:``, which no other process can open). :mod:`razorlab.payments.fleet` says why a
separate process and what it costs. Idempotency fingerprints are keyed with a
server-side secret: ``$RAZORLAB_FINGERPRINT_KEY`` if set (at least 16 bytes), else the
key file ``<db>.fingerprint-key``, created on first start (32 random bytes, mode 0600)
and read on every later one, so a retry after a restart still matches its stored key
(:func:`~razorlab.payments.idempotency.fingerprint_key_for`). Keep the file with the
database, and out of backups shared with anyone who should not read card numbers.

``razorlab serve --workers 4 --redis redis://…`` runs four gateway processes on the one port,
sharing the database, a fleet-wide rate limit and cache in Redis, and one simulated bank
(:mod:`razorlab.payments.fleet` says what is shared and why). Without Redis a fleet still
runs: each worker enforces ``1/N`` of the rate limit and caches no payment status.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from razorlab.cli import serve_command
from razorlab.clock import SystemClock
from razorlab.infra.backends.redis_conn import redis_url_from_env
from razorlab.infra.ratelimit import DEFAULT_BURST, DEFAULT_RATE_PER_S
from razorlab.payments.fleet import (
    RECONCILE_EVERY_S,
    RELAY_IN_PROCESS,
    RELAY_PROCESS,
    SERVER_BANK,
    FleetConfig,
    bind,
    run_fleet,
    serve_worker,
)
from razorlab.payments.gateway import Gateway
from razorlab.payments.idempotency import fingerprint_key_for

__all__ = ["DEFAULT_DB", "SERVER_BANK", "RECONCILE_EVERY_S", "register"]

DEFAULT_DB = "razorlab_payments.db"


async def _create_merchant(args: argparse.Namespace) -> dict[str, str]:
    gateway = await Gateway.open(args.db, clock=SystemClock(), schema=args.schema)
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


def _config(args: argparse.Namespace) -> FleetConfig:
    return FleetConfig(args.db, args.host, args.port, args.workers,
                       args.redis or redis_url_from_env(), args.rate_limit, args.burst,
                       schema=args.schema, relay=_relay(args))  # fmt: skip


def _relay(args: argparse.Namespace) -> str:
    """``--relay``, defaulting to a process unless no other process can open the database."""
    if args.relay is not None:
        return args.relay
    return RELAY_IN_PROCESS if args.db == ":memory:" else RELAY_PROCESS


def _banner(config: FleetConfig, port: int) -> str:
    fleet = f"{config.workers} workers, " if config.workers > 1 else ""
    shared = f"redis: {config.redis_url}; " if config.redis_url else ""
    relay = "webhook relay process; " if config.relay == RELAY_PROCESS else ""
    url = f"http://{config.host}:{port}"
    return (f"razorlab payment gateway on {url}  ({fleet}{shared}{relay}db: {config.db}; "
            "Ctrl-C stops)")  # fmt: skip


async def _serve_one(args: argparse.Namespace) -> None:
    config = _config(args)
    sock = bind(config.host, config.port)
    print(_banner(config, sock.getsockname()[1]), flush=True)
    await serve_worker(config, 0, sock, fingerprint_key_for(config.db))


def _serve(args: argparse.Namespace) -> int:
    """One worker delivering its own webhooks: the server in this process; else a
    supervised set of processes (the workers, the relay, the bank of a fleet)."""
    config = _config(args)
    if config.workers == 1 and config.relay == RELAY_IN_PROCESS:
        return serve_command(_serve_one)(args)
    key = fingerprint_key_for(config.db)  # created once, before the workers read it
    sock = bind(config.host, config.port)
    print(_banner(config, sock.getsockname()[1]), flush=True)
    with sock:
        return run_fleet(config, sock, key)


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the payment gateway HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0: a free port")
    serve.add_argument("--db", default=DEFAULT_DB,
                       help="SQLite file (created if missing) or postgresql:// URL")  # fmt: skip
    serve.add_argument("--schema", default=None, help="PostgreSQL schema (a postgresql:// --db)")
    serve.add_argument("--workers", type=int, default=1, help="gateway processes on the port")
    serve.add_argument("--redis", default=None,
                       help="Redis URL for the fleet's rate limit and cache "
                            "(default: $RAZORLAB_REDIS_URL, else none)")  # fmt: skip
    serve.add_argument("--rate-limit", type=float, default=DEFAULT_RATE_PER_S,
                       help="payments per second per merchant, for the whole fleet")  # fmt: skip
    serve.add_argument("--burst", type=float, default=DEFAULT_BURST,
                       help="payments a merchant may make at once, for the whole fleet")  # fmt: skip
    serve.add_argument("--relay", choices=(RELAY_PROCESS, RELAY_IN_PROCESS), default=None,
                       help="deliver webhooks from a relay process (default) or from the "
                            "API's process (default with --db :memory:)")  # fmt: skip
    serve.set_defaults(run=_serve)
    merchants = sub.add_parser("merchants", help="manage gateway merchants")
    msub = merchants.add_subparsers(dest="merchants_command", required=True, metavar="ACTION")
    create = msub.add_parser("create", help="create a merchant and print its API keys as JSON")
    create.add_argument("--name", required=True)
    create.add_argument("--db", default=DEFAULT_DB,
                        help="SQLite file (created if missing) or postgresql:// URL")  # fmt: skip
    create.add_argument("--schema", default=None, help="PostgreSQL schema (a postgresql:// --db)")
    create.add_argument("--webhook-url", default=None, help="where to POST signed webhooks")
    create.set_defaults(run=_merchants_create)
