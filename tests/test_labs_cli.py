"""``razorlab lab check``: exit 0 when every invariant held, 1 with a counterexample, 2 on bad input."""

import subprocess
import sys
import textwrap

import pytest


def _subclass(module: str, base: str, name: str) -> str:
    return f"from razorlab.labs.{module} import {base} as _R\n\nclass {name}(_R):\n    pass\n"


GOOD = _subclass("payments_reference", "ReferencePayments", "MyPayments")
#: lab -> (a class that passes, the seed's design, the invariant the seed breaks first)
LABS = {
    "payments": (GOOD, _subclass("payments_seed", "SeedPayments", "MyPayments"),
                 "one_charge_per_key"),
    "seats": (_subclass("seats_reference", "ReferenceSeats", "MySeats"),
              _subclass("seats_seed", "SeedSeats", "MySeats"), "seat_confirmed_once"),
    "ledger": (_subclass("ledger_reference", "ReferenceLedger", "MyLedger"),
               _subclass("ledger_seed", "SeedLedger", "MyLedger"), "transfer_applied_at_most_once"),
    "messaging": (_subclass("messaging_reference", "ReferenceMessages", "MyMessages"),
                  _subclass("messaging_seed", "SeedMessages", "MyMessages"),
                  "acknowledged_send_reaches_every_device"),
}  # fmt: skip


def lab(*args):
    return subprocess.run([sys.executable, "-m", "razorlab", "lab", "check", *args],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip


@pytest.mark.parametrize("name", LABS)
def test_a_correct_class_exits_0(tmp_path, name):
    path = tmp_path / "mine.py"
    path.write_text(LABS[name][0])
    ran = lab(name, str(path), "--runs", "20", "--seed", "7")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout


@pytest.mark.parametrize("name", LABS)
def test_the_seed_design_exits_1_and_prints_the_counterexample(tmp_path, name):
    path = tmp_path / "mine.py"
    path.write_text(LABS[name][1])
    ran = lab(name, str(path), "--runs", "20")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert LABS[name][2] in ran.stdout and " 1. t=" in ran.stdout


def test_bad_input_exits_2(tmp_path):
    two = tmp_path / "two.py"
    two.write_text(GOOD + "\n\nclass Other(_R):\n    pass\n")
    ran = lab("payments", str(two), "--runs", "1")
    assert ran.returncode == 2 and "--class" in ran.stderr
    broken = tmp_path / "broken.py"
    broken.write_text(
        textwrap.dedent("""
        class MyPayments:
            def __init__(self, store, bank, clock): ...
            async def create_payment(self, key, amount_paise): raise ValueError("no")
            async def get_payment(self, key): return None
            async def reconcile(self): return None
    """)
    )
    ran = lab("payments", str(broken), "--runs", "1")
    assert ran.returncode == 2 and "ValueError: no" in ran.stdout
    assert "During handling" not in ran.stdout, "the learner's error alone, not our plumbing"
    syntax = tmp_path / "syntax.py"
    syntax.write_text("class (:\n")
    assert lab("payments", str(syntax)).returncode == 2


def test_a_payments_class_checked_as_seats_is_bad_input(tmp_path):
    path = tmp_path / "wrong_lab.py"
    path.write_text(GOOD)
    ran = lab("seats", str(path), "--runs", "1")
    assert ran.returncode == 2 and "expected exactly one class" in ran.stderr
    ran = lab("seats", str(path), "--runs", "1", "--class", "MyPayments")
    assert ran.returncode == 2 and "has no method `hold`" in ran.stdout
