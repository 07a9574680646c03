"""`make lab` really serves JupyterLab at the repository root, opening start-here first
(headless, on a free loopback port), and a saved notebook keeps no PNG copies of figures."""

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
            found = re.search(
                rf"127\.0\.0\.1:{port}/lab[^?\s]*\?token=([0-9a-f]+)", log.read_text()
            )
            token = found and found[1]
        assert token, f"JupyterLab did not start:\n{log.read_text()[-2000:]}"
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=30) as response:
            listing = {item["name"] for item in json.load(response)["content"]}
        assert {"curriculum", "exercises", "solutions", "README.md"} <= listing
        with urllib.request.urlopen(f"{base}/?token={token}", timeout=30) as response:
            assert response.url.startswith(f"{base}/lab/tree/curriculum/00_start_here.ipynb")
        _check_save_drops_figure_snapshots(base, token)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)


def _check_save_drops_figure_snapshots(base: str, token: str) -> None:
    figure = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.plotly.v1+json": {"data": []}, "image/png": "iVBORw0K"}}  # fmt: skip
    cell = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
            "outputs": [figure], "source": "fig"}  # fmt: skip
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    saved_path = ROOT / "tests" / f"lab_save_check_{os.getpid()}.ipynb"  # hidden files are refused
    url = f"{base}/api/contents/tests/{saved_path.name}?token={token}"
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    try:
        put = urllib.request.Request(url, data=body, method="PUT")
        put.add_header("Content-Type", "application/json")
        urllib.request.urlopen(put, timeout=30).close()
        data = json.loads(saved_path.read_text())["cells"][0]["outputs"][0]["data"]
        assert set(data) == {"application/vnd.plotly.v1+json"}, "the PNG copy was saved"
    finally:
        saved_path.unlink(missing_ok=True)
