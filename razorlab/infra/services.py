"""Start and stop the real services the backends talk to: a loopback Redis under ``.services/``.

Scenario: the engines run in one process on SQLite and in-memory stand-ins; the Redis backends
(:mod:`razorlab.infra.backends`) need a real server. ``make services`` runs this file as a script
(standard library only, so it works before the virtualenv exists) and ``make services-stop``
stops what it started.

Design note
-----------
- **Loopback, a free port, a project folder.** ``redis-server`` binds 127.0.0.1 on a port the
  kernel hands out, keeps its files in ``.services/redis/`` (gitignored) and daemonizes with a
  pidfile there. The URL goes to ``.services/redis.url``; tests read ``RAZORLAB_REDIS_URL`` first,
  then that file.
- **Stop by recorded PID, never by name.** ``stop`` signals the PID from the pidfile, and only if
  that process is a ``redis-server``, so a stale file cannot kill an unrelated process.
- **Installing.** If ``redis-server`` is missing and we are root on Debian, ``apt-get install -y
  redis-server`` (``apt-get update`` once first if the package is unknown); otherwise the script
  says how to install it and fails.
- :func:`start_redis` / :func:`stop_redis` are also what tests use to run a private server they
  can kill (to check that an unreachable Redis gives a typed error).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "SERVICES_DIR",
    "REDIS_URL_ENV",
    "free_port",
    "install_redis",
    "start_redis",
    "stop_redis",
    "recorded_redis_url",
    "main",
]

SERVICES_DIR = Path(".services")  # relative to the repository root (where make runs)
REDIS_URL_ENV = "RAZORLAB_REDIS_URL"
START_TIMEOUT_S = 10.0  # seconds to wait for a daemonized redis-server to answer
STOP_TIMEOUT_S = 10.0  # seconds to wait for it to exit after SIGTERM
_POLL_S = 0.05


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install_redis() -> str:
    """Path of ``redis-server``, installing the Debian package when root; raises otherwise."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        known = subprocess.run(
            ["apt-cache", "policy", "redis-server"], capture_output=True, text=True, env=env
        )
        if "Candidate: (none)" in known.stdout or "Candidate:" not in known.stdout:
            subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "redis-server"],
            check=True,
            env=env,
        )
        found = shutil.which("redis-server")
        if found:
            return found
    raise SystemExit(
        "redis-server not found. Install Redis 7 (Debian/Ubuntu: `sudo apt-get install "
        "redis-server`; macOS: `brew install redis`), or point RAZORLAB_REDIS_URL at a server."
    )


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(directory: Path, *, port: int | None = None, server: str | None = None) -> str:
    """Start a daemonized ``redis-server`` keeping its files in ``directory``; its URL.

    The PID is in ``directory/redis.pid``. No persistence (``--save ''``, no AOF): the backends
    use Redis as a cache and a limiter, and a test server should leave nothing behind.
    """
    server = server or install_redis()
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    pidfile = directory / "redis.pid"
    subprocess.run(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(directory / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _ping(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on port {port}; see {directory}")
        time.sleep(_POLL_S)
    return f"redis://127.0.0.1:{port}/0"


def _is_redis(pid: int) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # no /proc (macOS): trust the pidfile we wrote
        return True
    return comm.startswith("redis-server") or comm.startswith("redis-check")


def _alive(pid: int) -> bool:
    """Running, not a zombie (a daemon's parent may be a PID 1 that never reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop_redis(directory: Path) -> bool:
    """Stop the server whose PID is recorded in ``directory/redis.pid``; False if none ran."""
    pidfile = Path(directory) / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return False
    if not _is_redis(pid):
        pidfile.unlink(missing_ok=True)
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    pidfile.unlink(missing_ok=True)
    return True


def recorded_redis_url(root: Path = Path(".")) -> str | None:
    """``RAZORLAB_REDIS_URL``, else the URL ``make services`` wrote, else ``None``."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if url:
        return url
    try:
        return (Path(root) / SERVICES_DIR / "redis.url").read_text().strip() or None
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    """``python razorlab/infra/services.py start|stop|url`` (what ``make services`` runs)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "start"
    redis_dir = SERVICES_DIR / "redis"
    url_file = SERVICES_DIR / "redis.url"
    if command == "start":
        url = url_file.read_text().strip() if url_file.exists() else ""
        if url and _ping(int(url.rsplit(":", 1)[1].split("/")[0])):
            print(f"redis already running: {url}")
            return 0
        stop_redis(redis_dir)
        url = start_redis(redis_dir)
        url_file.write_text(url + "\n")
        print(f"redis running: {url} (stop with `make services-stop`)")
        return 0
    if command == "stop":
        stopped = stop_redis(redis_dir)
        url_file.unlink(missing_ok=True)
        print("redis stopped" if stopped else "redis was not running")
        return 0
    if command == "url":
        print(recorded_redis_url() or "")
        return 0
    print(f"usage: services.py start|stop|url (got {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
