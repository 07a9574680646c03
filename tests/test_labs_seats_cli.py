"""``razorlab lab check seats``: exit 0 all rules held, 1 a counterexample, 2 bad input."""

import subprocess
import sys

GOOD = "from razorlab.labs.seats_reference import ReferenceSeats as _R\n\n" \
       "class MySeats(_R):\n    pass\n"  # fmt: skip
BAD = "from razorlab.labs.seats_seed import SeedSeats as _S\n\n" \
      "class MySeats(_S):\n    pass\n"  # fmt: skip


def lab(*args):
    return subprocess.run([sys.executable, "-m", "razorlab", "lab", "check", *args],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip


def test_a_correct_seats_class_exits_0(tmp_path):
    path = tmp_path / "my_seats.py"
    path.write_text(GOOD)
    ran = lab("seats", str(path), "--runs", "30", "--seed", "7")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout


def test_the_seed_seats_design_exits_1_and_prints_the_counterexample(tmp_path):
    path = tmp_path / "my_seats.py"
    path.write_text(BAD)
    ran = lab("seats", str(path), "--runs", "20")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "seat_confirmed_once" in ran.stdout and " 1. t=" in ran.stdout


def test_a_payments_class_checked_as_seats_is_bad_input(tmp_path):
    path = tmp_path / "wrong_lab.py"
    path.write_text("from razorlab.labs.payments_reference import ReferencePayments as _R\n\n"
                    "class MyPayments(_R):\n    pass\n")  # fmt: skip
    ran = lab("seats", str(path), "--runs", "1")
    assert ran.returncode == 2 and "expected exactly one class" in ran.stderr
    ran = lab("seats", str(path), "--runs", "1", "--class", "MyPayments")
    assert ran.returncode == 2 and "has no method `hold`" in ran.stdout
