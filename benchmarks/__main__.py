"""``make bench``: run every ``benchmarks/<area>_*.py`` module's ``main()`` and print its table.

Results are ratios to a baseline measured in the same process and minute, so a busy
shared machine slows both sides alike; absolute numbers are printed for context only.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def modules() -> list[str]:
    """The benchmark modules, ``<area>_<name>`` (not this ``__main__``, which would recurse)."""
    found = pkgutil.iter_modules([str(Path(__file__).parent)])
    return sorted(m.name for m in found if "_" in m.name and not m.name.startswith("_"))


def main() -> int:
    only = sys.argv[1:]
    for name in modules():
        if only and not any(name.startswith(o) for o in only):
            continue
        print(f"\n## {name}")
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
