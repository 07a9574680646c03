"""Solution notebooks mark questions, solutions and hidden tests; mistakes are named clearly."""

from __future__ import annotations

import re

import pytest

from razorlab.grading.notebook_tags import (
    NotebookFormatError,
    free_names,
    parse_solution,
    stub_answer,
    stub_solution,
)


def code(source: str, *tags: str, cid: str | None = None) -> dict:
    cell = {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source}
    if cid:
        cell["id"] = cid
    return cell


def markdown(source: str, *tags: str) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": source}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


GOOD = notebook(
    code('check = Checker("start_here")'),
    code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "question:q1", "points:2"),
    code('check("q1", x)', "question:q1"),
    code(
        'from razorlab.grading.observe import observe\nobserve("x", x)',
        "hidden-tests",
        "question:q1",
    ),
    code(
        'from razorlab.grading.observe import observe\nobserve("x > 0", x > 0)',
        "hidden-tests",
        "question:q1",
    ),
    markdown("<!-- BEGIN ANSWER -->\nBecause.\n<!-- END ANSWER -->", "question:q2", "points:1"),
)


def test_parse_finds_questions_points_hidden_tests_and_the_exercise_set():
    parsed = parse_solution(GOOD, "good.ipynb")
    assert parsed.exercise_set == "start_here"
    assert {q: s.points for q, s in parsed.questions.items()} == {"q1": 2, "q2": 1}
    assert parsed.questions["q2"].written and not parsed.questions["q1"].written
    assert len(parsed.hidden_tests["q1"]) == 2
    assert parsed.auto_points == 2  # the written answer is graded by hand


def test_stub_keeps_indentation_and_the_code_around_the_region():
    src = "def f(x):\n    y = 2\n    # BEGIN SOLUTION\n    return x * y\n    # END SOLUTION\nf(3)"
    assert stub_solution(src, "q4") == (
        'def f(x):\n    y = 2\n    raise NotImplementedError("q4: your code here")\nf(3)'
    )


def test_stub_at_the_end_of_a_cell_leaves_no_trailing_newline():
    src = "a = 1\n# BEGIN SOLUTION\nb = 2\n# END SOLUTION"
    assert stub_solution(src, "q1") == 'a = 1\nraise NotImplementedError("q1: your code here")'


def test_nbgrader_style_triple_hash_markers_are_accepted():
    src = "### BEGIN SOLUTION\nb = 2\n### END SOLUTION\n"
    assert stub_solution(src, "q1") == 'raise NotImplementedError("q1: your code here")\n'


def test_written_answer_region_becomes_a_placeholder():
    src = "Explain.\n\n<!-- BEGIN ANSWER -->\nSecret.\nMore.\n<!-- END ANSWER -->\n\nNext."
    assert stub_answer(src) == "Explain.\n\n_Your answer here._\n\nNext."


@pytest.mark.parametrize(
    ("cell", "needle"),
    [
        (code("assert True", "hidden-tests", cid="abc"), "hidden-tests but has no question"),
        (code("# BEGIN SOLUTION\nx = 1", "question:q1", "points:1"), "never closed"),
        (code("x = 1\n# END SOLUTION", "question:q1", "points:1"), "END SOLUTION without"),
        (
            code("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "question:q1", "points:1"),
            "inside another",
        ),
        (markdown("<!-- BEGIN ANSWER -->\nx", "question:q1", "points:1"), "BEGIN ANSWER is never"),
        (code("# BEGIN SOLUTION\nx\n# END SOLUTION", "points:1"), "no question:qN tag"),
        (code("x = 1", "question:q1", "points:1"), "the learner version would show"),
        (code("x", "question:q1", "points:0"), "positive integer"),
        (code("x", "question:q1", "question:q2"), "several question tags"),
        (markdown("# BEGIN SOLUTION\nx\n# END SOLUTION", "question:q1"), "non-code cell"),
    ],
)
def test_bad_marks_raise_an_error_naming_notebook_and_cell(cell, needle):
    with pytest.raises(NotebookFormatError) as err:
        parse_solution(notebook(code("x = 0"), cell), "solutions/bad.ipynb")
    message = str(err.value)
    assert "solutions/bad.ipynb cell 1" in message and needle in message, message
    assert err.value.code == "INVALID_EXERCISE_NOTEBOOK"


def test_cell_id_appears_in_the_error_when_present():
    with pytest.raises(NotebookFormatError, match=r"cell 0 \(id abc\)"):
        parse_solution(notebook(code("assert True", "hidden-tests", cid="abc")), "nb.ipynb")


def test_duplicate_question_ids_are_rejected():
    nb = notebook(
        code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "question:q1", "points:1"),
        code("# BEGIN SOLUTION\ny = 1\n# END SOLUTION", "question:q1", "points:1"),
    )
    with pytest.raises(NotebookFormatError, match=r"nb.ipynb cell 1.*q1 is already declared"):
        parse_solution(nb, "nb.ipynb")


OBSERVE_TRUE = 'from razorlab.grading.observe import observe\nobserve("t", True)'


def test_hidden_tests_for_an_undeclared_question_are_rejected():
    nb = notebook(code(OBSERVE_TRUE, "hidden-tests", "question:q9"))
    with pytest.raises(NotebookFormatError, match="nb.ipynb cell 0: hidden tests for q9 but no"):
        parse_solution(nb, "nb.ipynb")


def test_a_notebook_without_cells_is_rejected():
    with pytest.raises(NotebookFormatError, match="not a notebook"):
        parse_solution({"hello": 1}, "nb.ipynb")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ('assert x == 1, "x is one"', "asserts: hidden cells observe"),
        ("print(x)", "observes nothing"),
        ('from razorlab.grading.observe import observe\nobserve("y", y)', "uses ['y']"),
        ("observe(", "does not parse"),
    ],
)
def test_hidden_cells_observe_and_stand_alone(source, needle):
    cells = [code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "question:q1", "points:1")]
    cells.append(code(source, "hidden-tests", "question:q1"))
    with pytest.raises(NotebookFormatError, match=re.escape(needle)):
        parse_solution(notebook(*cells), "nb.ipynb")


def test_free_names_see_through_scopes_and_top_level_await():
    source = (
        "import math\nfor a in (1, 2):\n    observe(a, [f(i) for i in range(a)])\nr = await g()"
    )
    assert free_names(source) == {"observe", "f", "g"}
