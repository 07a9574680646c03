"""The ``razorlab`` command: each domain contributes its sub-commands.

A module listed in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds
its sub-commands with ``set_defaults(run=fn)``; ``fn(args)`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "razorlab.course.commands",
    "razorlab.grading.commands",
    "razorlab.payments.commands",
    "razorlab.social.messaging_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="razorlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
