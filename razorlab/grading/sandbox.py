"""A bubblewrap sandbox per submission: what the learner's notebook can see, touch and leave.

Grading runs code we did not write. Each submission executes under ``bwrap`` (Debian package
``bubblewrap``, the sandbox Flatpak uses) with:

- **a file system of read-only pieces**: the system (``/usr``, ``/etc``), the Python install
  and virtualenv, the ``razorlab`` package and its ``data/`` folder, nothing else of the
  repository: no ``solutions/``, no other submissions, no grader output paths;
- **one writable folder**, ``/submission``, a fresh copy holding the notebook to run, and a
  fresh temporary ``/tmp`` and home;
- **new namespaces** for PIDs, network (only a private loopback: the kernel's sockets work,
  nothing else does), IPC, UTS and users (uid 65534 inside, no capabilities);
- ``--die-with-parent`` and a PID namespace: when the run ends, every process it started dies
  with it, so nothing can outlive grading and rewrite a report;
- **limits** set before ``exec`` (``setrlimit``): address space, file size, no core files; the
  grader adds the wall-clock limit.

Trade-offs: the number of processes cannot be capped by rlimit for root's real uid, so a fork
bomb is stopped by the wall-clock limit and the PID namespace teardown, not earlier. Without
``bwrap`` (:func:`available` is false) the grader refuses untrusted work unless told
``--unsafe-no-sandbox``; then :func:`command` returns the bare command.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import razorlab
from razorlab.errors import RazorlabError

__all__ = [
    "SandboxUnavailable",
    "Limits",
    "WORKDIR",
    "available",
    "readonly_paths",
    "command",
    "limiter",
]

WORKDIR = "/submission"  # the submission's writable folder, as the sandbox sees it
NOBODY = "65534"
HOME = "/tmp/home"


class SandboxUnavailable(RazorlabError):
    code = "SANDBOX_UNAVAILABLE"


class Limits:
    """Per-submission resource limits (bytes)."""

    def __init__(self, memory_bytes: int = 6 << 30, file_bytes: int = 256 << 20):
        self.memory_bytes = memory_bytes
        self.file_bytes = file_bytes


def available() -> bool:
    return shutil.which("bwrap") is not None


def readonly_paths() -> list[Path]:
    """What the sandbox may read: Python, the virtualenv, the package and its data."""
    package = Path(razorlab.__file__).resolve().parent
    paths = [Path(sys.base_prefix), Path(sys.prefix), package, package.parent / "data"]
    return list(dict.fromkeys(p.resolve() for p in paths if p.exists()))


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("usr", "etc", "bin", "sbin", "lib", "lib64"):
        path = Path("/") / top
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def command(argv: list[str], workdir: Path, env: dict[str, str], *, sandbox: bool) -> list[str]:
    """``argv`` wrapped in bwrap, run in ``workdir`` (bound as :data:`WORKDIR`) with ``env``."""
    if not sandbox:
        return argv
    if not available():
        raise SandboxUnavailable(
            "bwrap (Debian package bubblewrap) is not installed: `apt-get install bubblewrap`, "
            "or grade trusted notebooks with --unsafe-no-sandbox"
        )
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", NOBODY, "--gid", NOBODY, "--hostname", "grader"]
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", HOME]
    for path in readonly_paths():  # after the /tmp tmpfs, which would hide a clone under /tmp
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), WORKDIR, "--chdir", WORKDIR, "--clearenv"]
    for key, value in {**env, "HOME": HOME, "PATH": "/usr/bin:/bin"}.items():
        args += ["--setenv", key, value]
    return [*args, *argv]


def limiter(limits: Limits) -> Callable[[], None]:
    """A ``preexec_fn`` applying ``limits`` to the sandbox and everything it starts."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply
