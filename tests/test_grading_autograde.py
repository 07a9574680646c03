"""`razorlab grade`: hidden tests put back by question id, judged outside, robust to learners.

Kernels are slow on a shared machine, so one module-scoped run grades every case
(solution, untouched exercise, half done, passes-self-check-but-not-hidden, cells
deleted and moved, infinite loop, broken JSON) two at a time; tests read its rows.
Cheats have their own suite (test_grading_adversarial.py).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from razorlab.cli import main
from razorlab.grading.autograde import (
    ERROR,
    GRADED,
    GRADER_KEY,
    Grader,
    NotebookScore,
    assemble,
    collect_notebooks,
    grade_all,
    grade_notebook,
    match_solution,
)
from razorlab.grading.build import build_exercise, notebook_json, read_notebook
from razorlab.grading.commands import score_table, write_csv, write_feedback, write_json
from razorlab.grading.notebook_tags import parse_solution, question_id
from tests.grading_support import SOLUTIONS, USE_SANDBOX, cli_sandbox_args

FIXTURE = SOLUTIONS / "fx_exercises.ipynb"
HIDDEN_SOURCE = "for paise in (0, 5, 123_456_789)"  # a line of a hidden test: never shown
CELL_TIMEOUT_S = 5.0  # the infinite loop uses all of it


def _write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_json(nb), encoding="utf-8")


def _by_source(nb: dict, needle: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if needle in "".join(c["source"]))


def _submissions(folder: Path) -> None:
    solution = read_notebook(FIXTURE)
    exercise = build_exercise(solution, "fx")
    _write(folder / "alice_fx_exercises.ipynb", solution)  # renamed by the LMS: still matched
    _write(folder / "bob" / "fx_exercises.ipynb", exercise)

    half = json.loads(json.dumps(exercise))  # q1 done, q2 left as generated
    half["cells"][2]["source"] = "def format_inr(paise):\n    return Money(paise).format()"
    _write(folder / "carol_fx_exercises.ipynb", half)

    sneaky = json.loads(json.dumps(solution))  # passes q1's self-check, fails its hidden test
    sneaky["cells"][2]["source"] = (
        'def format_inr(paise):\n    return Money(paise).format() if paise else "₹0"'
    )
    _write(folder / "dave_fx_exercises.ipynb", sneaky)

    moved = json.loads(json.dumps(solution))  # q1's cells deleted, q2's moved to the end
    cells = moved["cells"]
    q2 = [
        c for c in cells if question_id(c) == "q2" and "hidden-tests" not in c["metadata"]["tags"]
    ]
    rest = [c for c in cells if question_id(c) not in ("q1", "q2")]
    oops = {"cell_type": "code", "id": "oops", "metadata": {}, "outputs": []}
    oops.update(execution_count=None, source='raise ValueError("a cell that raises")')
    moved["cells"] = [*rest[:2], oops, *rest[2:], *q2]
    _write(folder / "erin_fx_exercises.ipynb", moved)

    loop = json.loads(json.dumps(solution))
    loop["cells"][_by_source(loop, 'check("q2"')]["source"] = "while True:\n    pass"
    _write(folder / "0_loop_fx_exercises.ipynb", loop)

    (folder / "broken_fx_exercises.ipynb").write_text('{"cells": [', encoding="utf-8")


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> dict[str, NotebookScore]:
    folder = tmp_path_factory.mktemp("submissions")
    _submissions(folder)
    grader = Grader(SOLUTIONS, timeout=60, cell_timeout=CELL_TIMEOUT_S, use_sandbox=USE_SANDBOX)
    graded = grade_all([folder], grader, jobs=2)
    return {Path(r.path).relative_to(folder).as_posix(): r for r in graded}


def _points(row: NotebookScore) -> dict[str, int | None]:
    return {q.qid: q.points for q in row.questions}


def test_the_solution_grades_full_marks(rows):
    row = rows["alice_fx_exercises.ipynb"]
    assert (row.status, row.points, row.max_points) == (GRADED, 3, 3)
    assert _points(row) == {"q1": 1, "q2": 2, "q3": None}  # q3 is written: graded by hand
    assert all(q.hidden_passed == q.hidden_total for q in row.questions)


def test_the_generated_exercise_grades_zero_with_feedback(rows):
    row = rows["bob/fx_exercises.ipynb"]
    assert (row.status, row.points) == (GRADED, 0)
    assert all("not answered yet" in q.feedback for q in row.questions if q.points is not None)


def test_half_done_gets_partial_credit(rows):
    row = rows["carol_fx_exercises.ipynb"]
    assert (row.points, _points(row)["q1"], _points(row)["q2"]) == (1, 1, 0)


def test_passing_the_self_check_is_not_enough_and_hidden_source_stays_hidden(rows, tmp_path):
    row = rows["dave_fx_exercises.ipynb"]
    q1 = row.questions[0]
    assert (q1.points, q1.hidden_passed, q1.hidden_total) == (0, 2, 3)
    assert q1.feedback == "case 'format_inr(0)': a different value."
    write_json(list(rows.values()), tmp_path / "scores.json")
    assert HIDDEN_SOURCE not in (tmp_path / "scores.json").read_text(encoding="utf-8")


def test_deleted_and_moved_cells_are_graded_by_question_id(rows):
    row = rows["erin_fx_exercises.ipynb"]
    assert (row.status, row.points, _points(row)["q2"]) == (GRADED, 2, 2)
    assert "no cell tagged question:q1" in row.questions[0].feedback


def test_an_infinite_loop_costs_only_its_own_cell(rows):
    row = rows["0_loop_fx_exercises.ipynb"]  # the loop replaced q2's self-check, not its answer
    assert (row.status, row.points, _points(row)) == (GRADED, 3, {"q1": 1, "q2": 2, "q3": None})
    assert sum(r.status == GRADED for r in rows.values()) == 6


def test_invalid_json_is_an_error_row(rows):
    row = rows["broken_fx_exercises.ipynb"]
    assert (row.status, row.points, row.max_points) == (ERROR, 0, 3)
    assert row.message.startswith("not a valid notebook")


def test_table_json_and_csv_exports(rows, tmp_path):
    ordered = [rows[k] for k in sorted(rows)]
    table = score_table(ordered)
    assert "alice_fx_exercises.ipynb" in table and "q1 1/1, q2 2/2, q3 manual" in table
    write_json(ordered, tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert [n["points"] for n in data["notebooks"]] == [r.points for r in ordered]
    write_csv(ordered, tmp_path / "s.csv")
    with (tmp_path / "s.csv").open(encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    alice = next(line for line in lines if line["notebook"].endswith("alice_fx_exercises.ipynb"))
    assert (alice["points"], alice["q1"], alice["q2"], alice["q3"]) == ("3", "1", "2", "")


def test_feedback_reports_mirror_the_submissions_and_hide_the_tests(rows, tmp_path):
    written = write_feedback(list(rows.values()), tmp_path / "feedback")
    names = sorted(p.relative_to(tmp_path / "feedback").as_posix() for p in written)
    assert names == sorted(k.replace(".ipynb", ".md") for k in rows)
    assert (
        "Score: **3/3** (graded)." in (tmp_path / "feedback" / "alice_fx_exercises.md").read_text()
    )
    texts = [p.read_text(encoding="utf-8") for p in written]
    assert not any(HIDDEN_SOURCE in t for t in texts)
    assert any("case 'format_inr(0)': a different value" in t for t in texts)


def test_hidden_tests_go_after_the_learners_cells_of_the_same_question():
    solution = parse_solution(read_notebook(FIXTURE), "fx")
    learner = read_notebook(FIXTURE)
    learner["cells"] = [learner["cells"][i] for i in (0, 1, 5, 6, 2, 3)]  # q2 before q1
    cells = assemble(learner, solution)["cells"]
    roles = [c["metadata"].get(GRADER_KEY, {}).get("hidden") or question_id(c) for c in cells]
    assert roles == [None, None, "q2", "q2", "q2", "q2", "q1", "q1", "q1"]


def test_a_deleted_question_gets_its_hidden_tests_at_the_end():
    solution = parse_solution(read_notebook(FIXTURE), "fx")
    learner = read_notebook(FIXTURE)
    learner["cells"] = learner["cells"][:2]
    cells = assemble(learner, solution)["cells"]
    hidden = [c["metadata"][GRADER_KEY]["hidden"] for c in cells[2:]]
    assert hidden == ["q1", "q2", "q2"]


def test_learner_cells_tagged_hidden_tests_are_dropped():
    solution = parse_solution(read_notebook(FIXTURE), "fx")
    learner = read_notebook(FIXTURE)  # the solution itself carries hidden-tests cells
    sources = [c["source"] for c in assemble(learner, solution)["cells"]]
    assert sum(HIDDEN_SOURCE in s for s in sources) == 1  # only the grader's copy


def test_submissions_are_matched_to_solutions_by_name(tmp_path):
    (tmp_path / "unit1").mkdir()
    (tmp_path / "unit2").mkdir()
    for folder in ("unit1", "unit2"):
        shutil.copy(FIXTURE, tmp_path / folder / "fx_exercises.ipynb")
    shutil.copy(FIXTURE, tmp_path / "unit1" / "big_fx_exercises.ipynb")
    assert match_solution(Path("x/bob_big_fx_exercises-2.ipynb"), tmp_path).name == (
        "big_fx_exercises.ipynb"  # the longest name wins
    )
    assert match_solution(Path("unit2/alice/fx_exercises.ipynb"), tmp_path).parent.name == "unit2"
    with pytest.raises(LookupError, match="several solutions"):
        match_solution(Path("inbox/fx_exercises.ipynb"), tmp_path)
    with pytest.raises(LookupError, match="no solution notebook"):
        match_solution(Path("prefix_fx_exercisesX.ipynb"), tmp_path)


def test_folders_are_searched_and_checkpoints_skipped(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    (tmp_path / "a.ipynb").write_text("{}")
    assert collect_notebooks([tmp_path, tmp_path / "a.ipynb"]) == [tmp_path / "a.ipynb"]


def test_cli_grades_a_broken_file_into_an_error_row_and_writes_json(tmp_path, capsys):
    broken = tmp_path / "fx_exercises.ipynb"
    broken.write_text("not json", encoding="utf-8")
    out = tmp_path / "scores.json"
    args = ["grade", str(broken), "--solutions", str(SOLUTIONS), "--json", str(out)]
    code = main(args + cli_sandbox_args())
    assert code == 0
    assert "error: not a valid notebook" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["notebooks"][0]["status"] == ERROR


@pytest.mark.parametrize(
    ("content", "reason"),
    [('{"cells": [1]}', "cell 0 is not a code"), ("[]", "without a list of cells"), ("\x00", "")],
)
def test_malformed_notebooks_are_error_rows_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "fx_exercises.ipynb"
    path.write_text(content, encoding="utf-8")
    row = grade_notebook(path, SOLUTIONS, use_sandbox=USE_SANDBOX)
    assert (
        row.status == ERROR
        and row.message.startswith("not a valid notebook")
        and reason in row.message
    )


def test_a_submission_without_a_solution_is_an_error_row(tmp_path):
    path = tmp_path / "unknown_set.ipynb"
    path.write_text("{}", encoding="utf-8")
    row = grade_notebook(path, SOLUTIONS, use_sandbox=USE_SANDBOX)
    assert row.status == ERROR and "no solution notebook" in row.message
    gone = grade_notebook(tmp_path / "gone.ipynb", SOLUTIONS, use_sandbox=USE_SANDBOX)
    assert gone.message == "no such file"


def test_cli_refuses_a_missing_solutions_folder(tmp_path, capsys):
    assert main(["grade", str(tmp_path), "--solutions", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.skipif(not USE_SANDBOX, reason="needs bwrap")
def test_the_sandbox_mounts_the_package_over_its_empty_tmp(tmp_path):
    """A clone under /tmp (CI's fresh clones) must stay visible inside the sandbox."""
    from razorlab.grading import sandbox

    argv = sandbox.command(["true"], tmp_path, {}, sandbox=True)
    tmpfs = argv.index("--tmpfs")
    for path in sandbox.readonly_paths():
        assert argv.index(str(path)) > tmpfs, path
