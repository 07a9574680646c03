"""``razorlab lab check LAB FILE``: judge a learner's implementation from the command line.

``razorlab lab check payments my_payments.py --runs 500 --seed 7`` (or ``seats
my_seats.py``, ``ledger my_ledger.py`` or ``messaging my_messages.py``) loads the file, finds the
learner's class — the one named by ``--class``, else the single class defined in that file that
has every method of the lab's interface — runs the check and prints the verdict. Exit status:
0 every invariant held; 1 an invariant broke (the shrunk counterexample is printed); 2 bad
input (no such file, no or several candidate classes, a class that does not fit the interface,
raises, hangs or blocks).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path

__all__ = ["register", "find_class", "load_module"]


def load_module(path: Path) -> object:
    """Import ``path`` as a fresh module (its own name, so it cannot shadow a package)."""
    spec = importlib.util.spec_from_file_location(f"razorlab_lab_submission_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look the module up by name
    spec.loader.exec_module(module)
    return module


def find_class(module: object, methods: tuple[str, ...], name: str | None = None) -> type:
    """The learner's class in ``module``: ``name`` if given, else the single one that fits."""
    if name is not None:
        found = getattr(module, name, None)
        if not inspect.isclass(found):
            raise LookupError(f"no class named {name!r} in the file")
        return found
    mod_name = getattr(module, "__name__", "")
    candidates = [
        obj for _, obj in inspect.getmembers(module, inspect.isclass)
        if obj.__module__ == mod_name and all(hasattr(obj, m) for m in methods)
    ]  # fmt: skip
    if len(candidates) != 1:
        names = ", ".join(c.__name__ for c in candidates) or "none"
        raise LookupError(
            f"expected exactly one class with methods {', '.join(methods)}; found {names}. "
            "Name it with --class."
        )
    return candidates[0]


def _check(args: argparse.Namespace) -> int:
    from razorlab.labs.check import LABS, check

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    try:
        module = load_module(path)
    except Exception:
        print(f"error: importing {path} failed:\n{traceback.format_exc(limit=-3)}", file=sys.stderr)
        return 2
    spec, _ = LABS[args.lab]
    try:
        impl = find_class(module, spec.methods, args.class_name)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verdict = check(impl, args.lab, runs=args.runs, seed=args.seed, wall_cap_s=args.wall_cap)
    print(verdict)
    return verdict.exit_code


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be a non-negative integer")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="check a learner's implementation of a lab")
    lsub = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    chk = lsub.add_parser("check", help="run the lab's checker against a Python file")
    chk.add_argument("lab", choices=["payments", "seats", "ledger", "messaging"], help="which lab")
    chk.add_argument("file", help="Python file defining the implementation class")
    chk.add_argument("--runs", type=_positive, default=200, help="simulated runs (default 200)")
    chk.add_argument("--seed", type=_seed, default=0, help="seed of the runs (default 0)")
    chk.add_argument("--class", dest="class_name", default=None, help="the class to check")
    chk.add_argument("--wall-cap", type=float, default=10.0,
                     help="real seconds one run may take before it counts as blocked")  # fmt: skip
    chk.set_defaults(run=_check)
