"""The ``razorlab`` command: each domain contributes its sub-commands.

A module named in ``COMMANDS`` exposes ``register(subparsers)``, which adds its
sub-commands with ``set_defaults(run=fn)``; ``fn(args)`` returns the exit code. A
:class:`~razorlab.errors.RazorlabError` it raises (bad input) is printed as one line and
exits 2, as argparse does for a bad option.

Design note: the domain packages import their whole engine (numpy, pandas, aiohttp,
nbformat) when loaded, which takes seconds. So ``razorlab map --check`` loads only the
module that owns ``map``; every module is loaded only to print the full help, or to
report an unknown command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence

from razorlab.errors import RazorlabError

#: Top-level command -> the module that registers it.
COMMANDS = {
    "notebooks": "razorlab.course.commands",
    "map": "razorlab.course.commands",
    "exercises": "razorlab.grading.commands",
    "grade": "razorlab.grading.commands",
    "serve": "razorlab.payments.commands",
    "merchants": "razorlab.payments.commands",
    "serve-chat": "razorlab.social.messaging.commands",
    "serve-booking": "razorlab.social.booking.commands",
    "lab": "razorlab.labs.commands",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for ``command`` alone if it is known, else for every command."""
    parser = argparse.ArgumentParser(prog="razorlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


async def until_stopped() -> None:
    """Wait for Ctrl-C or ``kill`` (SIGINT/SIGTERM), so a server's cleanup runs either way."""
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()


def serve_command(serve: Callable[[argparse.Namespace], Awaitable[None]]) -> Callable[..., int]:
    """A sub-command's ``run``: ``serve(args)`` on a fresh event loop until it is stopped."""

    def run(args: argparse.Namespace) -> int:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))  # type: ignore[arg-type]
        return 0

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input it reports as a typed error becomes a message and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except RazorlabError as err:  # the user's mistake: say what, not where in our code
        where = f" ({err.field})" if err.field else ""
        print(f"razorlab {args.command}: {err.code}{where}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
