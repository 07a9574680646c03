"""`make lab` really serves JupyterLab on the curriculum (headless, on a free loopback port)."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_S = 120  # generous: the machine is shared; this is a liveness bound, not a timing test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_curriculum(tmp_path):
    port = _free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with log.open("w") as out:
        lab = subprocess.Popen(
            ["make", "-s", "lab", "NO_BROWSER=1", f"PORT={port}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_S
        token = None
        while token is None and time.monotonic() < deadline and lab.poll() is None:
            time.sleep(1)
            found = re.search(rf"127\.0\.0\.1:{port}/lab\?token=([0-9a-f]+)", log.read_text())
            token = found and found[1]
        assert token, f"JupyterLab did not start:\n{log.read_text()[-2000:]}"
        url = f"http://127.0.0.1:{port}/api/contents?token={token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            listing = {item["name"] for item in json.load(response)["content"]}
        assert {"00_start_here.ipynb", "round2_system_design"} <= listing
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
