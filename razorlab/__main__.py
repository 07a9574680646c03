"""``python -m razorlab ...``: the same commands as the ``razorlab`` script."""

from razorlab.cli import main

raise SystemExit(main())
