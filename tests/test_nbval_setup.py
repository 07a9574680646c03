"""Prove the notebook gate bites: a tampered stored output must fail nbval."""

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "nbval_sanitize.cfg"
START = ROOT / "curriculum" / "00_start_here.ipynb"


def _nbval(notebook: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
        "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}", str(notebook),
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, cwd=notebook.parent, check=False)


def _tamper(path: Path) -> None:
    """Change one digit of the first stored stream output that contains a digit."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", ""))
            if out["output_type"] == "stream" and re.search(r"\d", text):
                out["text"] = re.sub(r"\d", lambda m: str((int(m[0]) + 1) % 10), text, count=1)
                path.write_text(json.dumps(nb), encoding="utf-8")
                return
    raise AssertionError("no stream output with a digit to tamper with")


def test_untouched_notebook_passes_and_tampered_copy_fails(tmp_path):
    pristine = tmp_path / "pristine" / START.name
    tampered = tmp_path / "tampered" / START.name
    for copy in (pristine, tampered):
        copy.parent.mkdir()
        shutil.copy(START, copy)
    _tamper(tampered)
    ok, bad = _nbval(pristine), _nbval(tampered)
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert bad.returncode == 1, bad.stdout[-2000:]
    assert "failed" in bad.stdout


def test_sanitize_file_is_well_formed_and_narrow():
    parser = configparser.ConfigParser()
    parser.read(SANITIZE, encoding="utf-8")
    assert parser.sections(), "no sanitize rules were read"
    money_and_counts = ["₹1,23,456.78", "86,400,000,000 payments", "p99 = 12.5 ms", "42"]
    for name in parser.sections():
        section = parser[name]
        assert set(section) == {"regex", "replace"}, f"[{name}] needs exactly regex and replace"
        pattern = re.compile(section["regex"])
        for text in money_and_counts:
            assert not pattern.search(text), f"[{name}] would hide real numbers in {text!r}"
