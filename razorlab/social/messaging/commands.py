"""``razorlab serve-chat``: run the WhatsApp-scenario chat server as a real process.

``razorlab serve-chat --db chat.db --user asha:asha-secret --user ben:ben-secret`` registers
the listed users (if new) and serves the WebSocket protocol of ``server`` on
``ws://127.0.0.1:8765/ws`` until Ctrl-C. Messages live in the SQLite file, so stopping and
starting the server loses nothing.
"""

from __future__ import annotations

import argparse

from razorlab.cli import serve_command, until_stopped
from razorlab.clock import SystemClock
from razorlab.errors import ValidationError
from razorlab.social.messaging.service import start_chat_server

DEFAULT_DB = "razorlab_chat.db"
DEFAULT_PORT = 8765


def parse_user(spec: str) -> tuple[str, str]:
    """``"asha:secret-token"`` -> ``("asha", "secret-token")``."""
    user, sep, token = spec.partition(":")
    if not sep or not user or not token:
        raise ValidationError(f"--user takes NAME:TOKEN, got {spec!r}", field="user")
    return user, token


async def _serve(args: argparse.Namespace) -> None:
    users = dict(parse_user(spec) for spec in args.user)
    running = await start_chat_server(
        args.db, host=args.host, port=args.port, clock=SystemClock(), users=users
    )
    print(f"razorlab chat on {running.url}  (db: {args.db}; Ctrl-C stops)", flush=True)
    try:
        await until_stopped()
    finally:
        await running.stop()


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve-chat", help="run the chat (WhatsApp scenario) WebSocket server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--db", default=DEFAULT_DB, help="SQLite file (created if missing)")
    serve.add_argument(
        "--user", action="append", default=[], metavar="NAME:TOKEN", help="register a user"
    )
    serve.set_defaults(run=serve_command(_serve))
