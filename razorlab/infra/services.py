"""Start and stop the real services the backends talk to: Redis and PostgreSQL under ``.services/``.

Scenario: the engines run in one process on SQLite and in-memory stand-ins; the Redis backends
and the PostgreSQL ledger (:mod:`razorlab.infra.backends`) need real servers. ``make services``
runs this file as a script (standard library only, so it works before the virtualenv exists)
and ``make services-stop`` stops what it started.

Design note
-----------
- **Loopback, a free port, a project folder.** Each server binds 127.0.0.1 on a port the
  kernel hands out and keeps its files in ``.services/<name>/`` (gitignored). The URLs go to
  ``.services/redis.url`` and ``.services/postgres.url``; tests read ``RAZORLAB_REDIS_URL`` /
  ``RAZORLAB_DATABASE_URL`` first, then those files.
- **Redis** daemonizes with a pidfile; no persistence (a cache and a limiter need none).
- **PostgreSQL 15** is a fresh cluster (``initdb``, trust authentication for local socket and
  127.0.0.1 connections only, fsync left on) started with ``pg_ctl``; its Unix socket stays in
  the project folder, not ``/var/run``. PostgreSQL refuses to run as root, so when we are root
  the folder is handed to the ``postgres`` user and every PostgreSQL command runs through
  ``runuser``. A database ``razorlab`` is created once, on the fresh cluster. If the
  ``postgres`` user cannot reach the project folder (a clone inside a private 0700 folder),
  ``.services/postgres`` becomes a symlink to a folder under the system temp dir.
- **Stop by recorded PID, never by name.** ``stop`` signals the PID from the server's own
  pidfile (``postmaster.pid``'s first line for PostgreSQL), and only if that process has the
  server's name, so a stale file cannot kill an unrelated process. PostgreSQL gets SIGINT
  ("fast" shutdown: clients are disconnected, everything committed is on disk) or, to simulate
  a crash, SIGQUIT ("immediate": the next start replays the write-ahead log).
- **Installing.** If a server is missing and we are root on Debian, ``apt-get install -y``
  (``apt-get update`` once first if the package is unknown); otherwise the script says how to
  install it and fails.
- :func:`start_redis` / :func:`start_postgres` and their ``stop_`` twins are also what tests use
  to run a private server they can kill (an unreachable service gives a typed error; a restarted
  PostgreSQL keeps every acknowledged transfer).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "SERVICES_DIR",
    "REDIS_URL_ENV",
    "DATABASE_URL_ENV",
    "free_port",
    "install_redis",
    "start_redis",
    "stop_redis",
    "recorded_redis_url",
    "install_postgres",
    "start_postgres",
    "stop_postgres",
    "recorded_database_url",
    "main",
]

SERVICES_DIR = Path(".services")  # relative to the repository root (where make runs)
REDIS_URL_ENV = "RAZORLAB_REDIS_URL"
DATABASE_URL_ENV = "RAZORLAB_DATABASE_URL"
DATABASE = "razorlab"
START_TIMEOUT_S = 30.0  # seconds to wait for a started server to answer
STOP_TIMEOUT_S = 30.0  # seconds to wait for it to exit after the stop signal
_POLL_S = 0.05
_PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)  # Debian's layout; pg_config --bindir otherwise


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _apt_install(package: str) -> bool:
    """``apt-get install`` ``package`` if we are root on Debian; False if we cannot."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    known = subprocess.run(
        ["apt-cache", "policy", package], capture_output=True, text=True, env=env
    )
    if "Candidate: (none)" in known.stdout or "Candidate:" not in known.stdout:
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", package], check=True, env=env
    )
    return True


def _wait_for(ready: Callable[[], bool], what: str) -> None:
    """Poll ``ready`` until it is true; ``RuntimeError`` naming ``what`` after the timeout."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {START_TIMEOUT_S:.0f} s")
        time.sleep(_POLL_S)


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _recorded_url(env: str, name: str, root: Path) -> str | None:
    """``$env``, else ``.services/<name>.url`` under ``root``, else ``None``."""
    url = os.environ.get(env, "").strip()
    if url:
        return url
    try:
        return (Path(root) / SERVICES_DIR / f"{name}.url").read_text().strip() or None
    except OSError:
        return None


def _runs(pid: int, names: tuple[str, ...]) -> bool:
    """Is ``pid`` a process whose command name starts with one of ``names``?"""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # no /proc (macOS): trust the pidfile we wrote
        return True
    return comm.startswith(names)


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


def _stop_recorded(pidfile: Path, names: tuple[str, ...], sig: int) -> bool:
    """Send ``sig`` to the PID on ``pidfile``'s first line if it runs ``names``; wait for it.

    False if no such server ran. The pidfile is removed once the process is gone.
    """
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return False
    running = _runs(pid, names) and _alive(pid)
    if running:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            running = False
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running and _alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if not _alive(pid) or not _runs(pid, names):
        pidfile.unlink(missing_ok=True)
    return running


# ----- Redis ----------------------------------------------------------------------------------
def install_redis() -> str:
    """Path of ``redis-server``, installing the Debian package when root; raises otherwise."""
    found = shutil.which("redis-server")
    if not found and _apt_install("redis-server"):
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
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    _wait_for(lambda: _ping(port), f"redis-server on port {port} (see {directory})")
    return f"redis://127.0.0.1:{port}/0"


def stop_redis(directory: Path) -> bool:
    """Stop the server whose PID is recorded in ``directory/redis.pid``; False if none ran."""
    return _stop_recorded(Path(directory) / "redis.pid", ("redis-server", "redis-check"),
                          signal.SIGTERM)  # fmt: skip


def recorded_redis_url(root: Path = Path(".")) -> str | None:
    """``RAZORLAB_REDIS_URL``, else the URL ``make services`` wrote, else ``None``."""
    return _recorded_url(REDIS_URL_ENV, "redis", root)


# ----- PostgreSQL -----------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    candidates = [Path(d) for d in _PG_BIN_DIRS]
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()),
                None)  # fmt: skip


def install_postgres() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``, installing ``postgresql`` when root."""
    found = _pg_bindir()
    if found is None and _apt_install("postgresql"):
        found = _pg_bindir()
    if found is not None:
        return found
    raise SystemExit(
        "PostgreSQL not found. Install PostgreSQL 15 (Debian/Ubuntu: `sudo apt-get install "
        "postgresql`; macOS: `brew install postgresql@15`), or point RAZORLAB_DATABASE_URL at "
        "a server."
    )


def _as_postgres(command: list) -> list[str]:
    """``command`` run as the ``postgres`` OS user when we are root (PostgreSQL refuses root)."""
    command = [str(c) for c in command]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _init_cluster(bindir: Path, data: Path) -> None:
    """``initdb`` a fresh cluster in ``data``, trusting the local socket and 127.0.0.1 only."""
    subprocess.run(
        _as_postgres([bindir / "initdb", "-D", data, "-U", "postgres", "-E", "UTF8",
                      "--auth=trust", "--no-instructions"]),
        check=True, capture_output=True, cwd=data.parent,
    )  # fmt: skip
    hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    (data / "pg_hba.conf").write_text(hba)


def _cluster_home(directory: Path) -> Path:
    """Where the cluster of ``directory`` lives: ``directory`` itself, or, when the ``postgres``
    user cannot reach it (a clone under a private folder such as a 0700 temp dir), a folder
    under the system temp dir that ``directory`` becomes a symlink to (same path, same folder
    on every run)."""
    directory = Path(directory)
    if directory.is_symlink() or os.geteuid() != 0:
        return directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    parent = directory.parent.resolve()
    check = subprocess.run(_as_postgres(["test", "-x", parent]), cwd=tempfile.gettempdir())
    if check.returncode == 0:
        return directory.resolve()
    digest = hashlib.sha256(str(parent / directory.name).encode()).hexdigest()[:12]
    home = Path(tempfile.gettempdir()) / f"razorlab-postgres-{digest}"
    home.mkdir(exist_ok=True)
    if directory.is_dir():  # made before: the postgres user could never have used it
        shutil.rmtree(directory)
    directory.symlink_to(home, target_is_directory=True)
    return home


def start_postgres(directory: Path, *, port: int | None = None) -> str:
    """Start PostgreSQL with its cluster in ``directory/data`` (created if new); its URL.

    Listens on 127.0.0.1 only; the Unix socket is in ``directory/run``. Restarting on an
    existing ``directory`` (pass the old ``port`` to keep the URL) reuses the cluster.
    """
    bindir = install_postgres()
    directory = _cluster_home(directory)
    data, run = directory / "data", directory / "run"
    run.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        shutil.chown(run, "postgres", "postgres")
    if subprocess.run(_as_postgres(["test", "-w", run]), cwd=directory).returncode != 0:
        raise SystemExit(f"the postgres user cannot write {run}: make its parent folders "
                         "traversable (chmod o+x) or set RAZORLAB_DATABASE_URL")  # fmt: skip
    fresh = not (data / "PG_VERSION").exists()
    if fresh:
        _init_cluster(bindir, data)
    port = port or free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {run}"
    subprocess.run(
        _as_postgres([bindir / "pg_ctl", "-D", data, "-l", directory / "postgres.log", "-w",
                      "-t", int(START_TIMEOUT_S), "-o", options, "start"]),
        check=True, stdout=subprocess.DEVNULL, cwd=directory,
    )  # fmt: skip
    _wait_for(lambda: _listening(port), f"PostgreSQL on port {port} (see {directory})")
    if fresh:
        subprocess.run(
            _as_postgres([bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
                          DATABASE]),
            check=True, cwd=directory,
        )  # fmt: skip
    return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"


def stop_postgres(directory: Path, *, immediate: bool = False) -> bool:
    """Stop the PostgreSQL of ``directory`` (fast shutdown; ``immediate`` = crash); False if none.

    The PID is ``data/postmaster.pid``'s first line.
    """
    sig = signal.SIGQUIT if immediate else signal.SIGINT
    return _stop_recorded(Path(directory) / "data" / "postmaster.pid", ("postgres", "postmaster"),
                          sig)  # fmt: skip


def recorded_database_url(root: Path = Path(".")) -> str | None:
    """``RAZORLAB_DATABASE_URL``, else the URL ``make services`` wrote, else ``None``."""
    return _recorded_url(DATABASE_URL_ENV, "postgres", root)


# ----- the script ------------------------------------------------------------------------------
_SERVICES: dict[str, tuple[Callable[[Path], str], Callable[[Path], bool], Callable[[int], bool]]]
_SERVICES = {
    "redis": (start_redis, stop_redis, _ping),
    "postgres": (start_postgres, stop_postgres, _listening),
}


def _start(name: str) -> None:
    start, stop, answers = _SERVICES[name]
    url_file = SERVICES_DIR / f"{name}.url"
    url = url_file.read_text().strip() if url_file.exists() else ""
    if url and answers(_port_of(url)):
        print(f"{name} already running: {url}")
        return
    stop(SERVICES_DIR / name)
    url = start(SERVICES_DIR / name)
    url_file.write_text(url + "\n")
    print(f"{name} running: {url} (stop with `make services-stop`)")


def _stop(name: str) -> None:
    stopped = _SERVICES[name][1](SERVICES_DIR / name)
    (SERVICES_DIR / f"{name}.url").unlink(missing_ok=True)
    print(f"{name} stopped" if stopped else f"{name} was not running")


def main(argv: list[str] | None = None) -> int:
    """``python razorlab/infra/services.py start|stop|url`` (what ``make services`` runs)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "start"
    if command in ("start", "stop"):
        for name in _SERVICES:
            (_start if command == "start" else _stop)(name)
        return 0
    if command == "url":
        print(recorded_redis_url() or "")
        print(recorded_database_url() or "")
        return 0
    print(f"usage: services.py start|stop|url (got {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
