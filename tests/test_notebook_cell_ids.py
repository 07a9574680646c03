"""Every cell of every committed notebook has an id (nbformat 4.5).

A cell added by a script without one makes nbformat warn on every read, and a future
nbformat will refuse the notebook; ``razorlab notebooks`` adds ids when it executes a
notebook, but a markdown-only edit does not go through it.
"""

import json
from pathlib import Path

import pytest

from razorlab.course.execute import find_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [*find_notebooks(ROOT), *sorted((ROOT / "exercises").rglob("*.ipynb"))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cell_has_a_unique_id(path):
    cells = json.loads(path.read_text())["cells"]
    ids = [c.get("id") for c in cells]
    assert None not in ids, f"cells without an id: {[i for i, c in enumerate(ids) if c is None]}"
    assert len(set(ids)) == len(ids), "duplicate cell ids"
