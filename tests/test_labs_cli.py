"""``razorlab lab check``: exit 0 when every invariant held, 1 with a counterexample, 2 on bad input."""

import subprocess
import sys
import textwrap

GOOD = "from razorlab.labs.payments_reference import ReferencePayments as _R\n\n" \
       "class MyPayments(_R):\n    pass\n"  # fmt: skip
BAD = "from razorlab.labs.payments_seed import SeedPayments as _S\n\n" \
      "class MyPayments(_S):\n    pass\n"  # fmt: skip


def lab(*args):
    return subprocess.run([sys.executable, "-m", "razorlab", "lab", "check", *args],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip


def test_a_correct_class_exits_0(tmp_path):
    path = tmp_path / "my_payments.py"
    path.write_text(GOOD)
    ran = lab("payments", str(path), "--runs", "20", "--seed", "7")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout


def test_the_seed_design_exits_1_and_prints_the_counterexample(tmp_path):
    path = tmp_path / "my_payments.py"
    path.write_text(BAD)
    ran = lab("payments", str(path), "--runs", "20")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "one_charge_per_key" in ran.stdout and " 1. t=" in ran.stdout


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
    syntax = tmp_path / "syntax.py"
    syntax.write_text("class (:\n")
    assert lab("payments", str(syntax)).returncode == 2
