"""What the grading tests share: the fixture solutions and whether the sandbox can be used.

Grading tests run in bubblewrap when ``bwrap`` is installed (``.ci/run`` installs it; so does
``apt-get install bubblewrap``). Without it they run unsandboxed locally, and fail under CI,
which must test the sandbox the instructor's grader uses.
"""

from __future__ import annotations

import os
from pathlib import Path

from razorlab.grading import sandbox

SOLUTIONS = Path(__file__).parent / "fixtures" / "grading" / "solutions"
USE_SANDBOX = sandbox.available()
if not USE_SANDBOX and os.environ.get("CI"):
    raise RuntimeError(
        "bwrap is missing: CI must grade in the sandbox (apt-get install bubblewrap)"
    )


def cli_sandbox_args() -> list[str]:
    """``razorlab grade`` arguments matching :data:`USE_SANDBOX`."""
    return [] if USE_SANDBOX else ["--unsafe-no-sandbox"]
