"""``razorlab notebooks`` and ``razorlab map``: keep stored outputs and the map honest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from razorlab.course.catalog import update_map
from razorlab.course.execute import execute_all, find_notebooks


def _run_notebooks(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or find_notebooks(Path(args.root))
    failed = 0
    for path, result in execute_all(paths, workers=args.jobs):
        ok = result.returncode == 0
        failed += not ok
        print(f"{'ok ' if ok else 'FAIL'} {path}")
        if not ok:
            print(result.stderr[-3000:], file=sys.stderr)
    return 1 if failed else 0


def _map(args: argparse.Namespace) -> int:
    stale = update_map(Path(args.root), check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path}")
    if args.check and stale:
        print("the curriculum map is out of date: run `razorlab map`", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    nb = sub.add_parser("notebooks", help="re-execute notebooks in place (all, or the given paths)")
    nb.add_argument(
        "paths", nargs="*", help="notebooks to run (default: curriculum/ and solutions/)"
    )
    nb.add_argument("--root", default=".", help="repository root")
    nb.add_argument("-j", "--jobs", type=int, default=2, help="kernels at a time")
    nb.set_defaults(run=_run_notebooks)
    mp = sub.add_parser("map", help="regenerate the curriculum map in README and 00_start_here")
    mp.add_argument("--root", default=".", help="repository root")
    mp.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    mp.set_defaults(run=_map)
