"""The ``razorlab`` command loads only the domain it runs: start-up stays fast."""

import subprocess
import sys

from razorlab.cli import COMMANDS, build_parser

HEAVY = ("aiohttp", "pandas", "nbformat", "plotly")


def test_every_registered_command_is_routed_to_the_module_that_registers_it():
    full = build_parser()
    (sub,) = [a for a in full._actions if a.dest == "command"]
    assert set(sub.choices) == set(COMMANDS)
    for command, module in COMMANDS.items():
        (own,) = [a for a in build_parser(command)._actions if a.dest == "command"]
        assert command in own.choices, f"{module} does not register {command!r}"


def test_map_check_does_not_load_the_engines():
    probe = (
        "import sys; from razorlab.cli import build_parser; build_parser('map'); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_python_dash_m_razorlab_is_the_razorlab_command(tmp_path):
    """`python -m razorlab map --check` behaves like `razorlab map --check`."""
    ran = subprocess.run(
        [sys.executable, "-m", "razorlab", "map", "--check"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    bad = subprocess.run([sys.executable, "-m", "razorlab", "nosuch"], capture_output=True,
                         text=True, check=False, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("usage: razorlab")
