"""Every solution notebook in the repo is a well-formed, passing exercise set (static checks).

nbval re-runs each solution and compares outputs; these checks add what nbval cannot
see: the marks parse, every question has a registered self-check whose stored output
is a ✅, and every hidden-tests cell ran without an error.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from razorlab.grading.build import find_solutions, read_notebook
from razorlab.grading.notebook_tags import is_hidden_tests, parse_solution, question_id
from razorlab.grading.selfcheck import QUESTIONS

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = find_solutions(REPO)


def _text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("text") or out.get("data", {}).get("text/plain", "")
        parts.append("".join(data) if isinstance(data, list) else str(data))
    return "".join(parts)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[str(p.relative_to(REPO)) for p in SOLUTIONS])
def test_solution_marks_parse_and_every_question_passes_in_the_stored_run(path: Path):
    nb = read_notebook(path)
    parsed = parse_solution(nb, str(path.relative_to(REPO)))
    assert parsed.exercise_set, "uses Checker(...)"
    importlib.import_module(f"razorlab.grading.checks.{parsed.exercise_set}")
    for qid, spec in parsed.questions.items():
        if spec.written:
            continue
        assert (parsed.exercise_set, qid) in QUESTIONS, f"{qid} has a registered self-check"
        shown = "\n".join(_text(c) for c in nb["cells"] if question_id(c) == qid)
        assert f"✅ {qid}: correct." in shown, f"{qid}'s stored self-check output is a ✅"
        assert "❌" not in shown, f"no failing self-check is stored for {qid}"
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell.get("execution_count") is not None, "the notebook is stored executed"
        if is_hidden_tests(cell):
            errors = [o for o in cell["outputs"] if o.get("output_type") == "error"]
            assert not errors, f"hidden tests of {question_id(cell)} pass in the solution"
