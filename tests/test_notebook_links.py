"""Every relative link in every notebook and in the README opens something.

`make lab` serves the repository root, so a link may go anywhere inside it and nowhere
outside; a link to a file that is not there does nothing when a learner clicks it.
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from razorlab.course.execute import find_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = find_notebooks(ROOT, ("curriculum", "solutions", "exercises"))
DOCUMENTS = [*NOTEBOOKS, ROOT / "README.md"]
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def _markdown(path: Path) -> str:
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _relative_links(text: str) -> list[str]:
    found = [a or b for a, b in LINK.findall(text)]
    return [t for t in found if not EXTERNAL.match(t) and not t.startswith("#")]


def test_documents_have_links_to_check():
    assert sum(len(_relative_links(_markdown(p))) for p in DOCUMENTS) > 50


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS])
def test_every_relative_link_resolves_inside_the_repository(path):
    broken = []
    for link in _relative_links(_markdown(path)):
        target = (path.parent / unquote(link.split("#")[0].split("?")[0])).resolve()
        if not target.is_relative_to(ROOT):
            broken.append(f"{link} (outside the served root)")
        elif not target.exists():
            broken.append(f"{link} (no such file)")
    assert not broken, f"{path.relative_to(ROOT)}: broken links: {broken}"
