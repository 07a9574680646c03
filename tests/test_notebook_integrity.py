"""Every committed notebook is a faithful top-to-bottom run, short-celled and complete.

nbval compares stored outputs, but it silently passes a cell that was never executed,
so these checks close the gaps it leaves.
"""

import json
from pathlib import Path

import pytest

from razorlab.course.execute import find_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = find_notebooks(ROOT)
CHAPTERS = [p for p in NOTEBOOKS if p.parts[-2:] != ("curriculum", "00_start_here.ipynb")]
CHAPTERS = [p for p in CHAPTERS if "curriculum" in p.relative_to(ROOT).parts[:1]]
MAX_CELL_LINES = 25


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_notebooks_to_check():
    assert any(p.name == "00_start_here.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_code_cell_was_executed_in_order(path):
    counts = [c["execution_count"] for c in _code_cells(_load(path))]
    assert None not in counts, f"{path.name}: unexecuted code cells (run `make notebooks`)"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: counts {counts} not 1..n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_stored_errors_unless_expected(path):
    for i, cell in enumerate(_code_cells(_load(path))):
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        assert not errors or expected, f"{path.name}: code cell {i} stored an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_cells_are_short_and_logic_lives_in_razorlab(path):
    for i, cell in enumerate(_code_cells(_load(path))):
        lines = len("".join(cell["source"]).splitlines())
        assert lines <= MAX_CELL_LINES, f"{path.name}: code cell {i} has {lines} lines"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebooks_start_with_a_title_and_set_up_plotting(path):
    nb = _load(path)
    first_md = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "".join(first_md["source"]).startswith("# "), f"{path.name}: first cell is not a # title"
    first_code = "".join(_code_cells(nb)[0]["source"])
    assert "setup_notebook()" in first_code, (
        f"{path.name}: first code cell must call setup_notebook()"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapters_have_the_required_parts(path):
    nb = _load(path)
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "learning objectives" in text.lower(), f"{path.name}: no learning objectives"
    assert "## Check the seed" in text, f"{path.name}: no '## Check the seed' section"
    assert "_exercises.ipynb" in text, f"{path.name}: no link to its exercises"
    recap = text.split("## In the interview", 1)
    assert len(recap) == 2, f"{path.name}: no '## In the interview' recap"
    for part in ("**Five numbers to know**", "**Trade-offs**", "**What to say in the 45 minutes**"):
        assert part in recap[1], f"{path.name}: the interview recap has no {part}"
    mimes = {m for c in _code_cells(nb) for o in c["outputs"] for m in o.get("data", {})}
    assert "application/vnd.plotly.v1+json" in mimes, f"{path.name}: no plotly figure"


ALL_NOTEBOOKS = find_notebooks(ROOT, ("curriculum", "solutions", "exercises"))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_notebooks_name_their_kernel(path):
    """JupyterLab opens a notebook that names its kernel and language without asking, and
    without marking it modified (seen in a real JupyterLab with headless Chromium)."""
    metadata = _load(path)["metadata"]
    spec, language = metadata.get("kernelspec", {}), metadata.get("language_info", {})
    assert spec.get("name") == "python3", f"{path.name}: no python3 kernelspec (make notebooks)"
    # A bare {"name": "python"} is rewritten by JupyterLab when the kernel starts: "modified".
    assert {"mimetype", "codemirror_mode"} <= set(language), f"{path.name}: bare language_info"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_a_stored_notebook_reads_well_before_it_is_run(path):
    """A widget without its kernel shows its text/plain: never a raw `interactive(...)` repr."""
    raw = [
        i
        for i, cell in enumerate(_load(path)["cells"])
        if cell["cell_type"] == "code"
        for out in cell["outputs"]
        if "".join(out.get("data", {}).get("text/plain", "")).startswith(("interactive(", "VBox("))
    ]
    assert not raw, f"{path.name}: cells {raw} store raw widget text; use razorlab.viz.explore"


def test_figures_are_stored_compactly():
    """plotly_mimetype stores JSON only; an embedded plotly.js would be megabytes."""
    for path in NOTEBOOKS:
        assert path.stat().st_size < 3_000_000, f"{path.name} is {path.stat().st_size} bytes"
        assert "plotly.min.js" not in path.read_text(encoding="utf-8")
