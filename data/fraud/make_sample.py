"""Regenerate ``data/fraud/sample.csv``: three weeks of a small simulated payment world.

Run from the repository root: ``python data/fraud/make_sample.py`` (add ``--check`` to
verify the committed file instead of writing it). The same seed writes the same
bytes on every machine: amounts and times are integers, and the CSV has no floats.
The sample is small (under 400 KB) and has every attack pattern at least once, which at
this size pushes fraud to about 1.4% of payments; the notebooks simulate larger worlds
on the fly with ``razorlab.fraud.simulate``, where fraud is 0.55–0.8%.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from razorlab.fraud import SynthConfig, simulate

SAMPLE = Path(__file__).with_name("sample.csv")
CONFIG = SynthConfig(n_customers=300, days=10, seed=42)


def render() -> bytes:
    """The CSV text of the sample, as bytes."""
    # ``incident`` (which attack a payment belongs to) is the simulator's bookkeeping for
    # incident-level intervals, not something a gateway would see: the sample leaves it out
    frame = simulate(CONFIG).drop(columns="incident")
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    data = render()
    if args.check:
        same = SAMPLE.exists() and SAMPLE.read_bytes() == data
        print("sample.csv is up to date" if same else "sample.csv differs from its generator")
        return 0 if same else 1
    SAMPLE.write_bytes(data)
    print(f"wrote {SAMPLE} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
