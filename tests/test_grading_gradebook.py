"""Written answers graded by hand, overrides with reasons, a roster and LMS exports.

Rows are built directly (no kernels): grading itself is tested in test_grading_autograde.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from razorlab.cli import main
from razorlab.grading import gradebook, manual
from razorlab.grading.autograde import GRADED, NotebookScore, QuestionScore
from razorlab.grading.build import build_exercise, read_notebook
from razorlab.grading.commands import write_json
from tests.grading_support import SOLUTIONS

FIXTURE = SOLUTIONS / "fx_exercises.ipynb"


def _row(path: str, q1: int = 1, student: str = "") -> NotebookScore:
    questions = [
        QuestionScore("q1", 1, q1, 3, 3, "correct."),
        QuestionScore("q2", 2, 2, 5, 5, "correct."),
        QuestionScore("q3", 1, None, 0, 0, "graded by hand."),
    ]
    row = NotebookScore(path, str(FIXTURE), GRADED, 2 + q1, 3, seed=7, questions=questions)
    row.student = student or Path(path).stem
    row.answers = {"q3": "Floats drift; paise are exact."}
    return row


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _fill(sheet: Path, **changes: str) -> None:
    rows = _read(sheet)
    for row in rows:
        row.update(changes)
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, manual.SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_the_sheet_lists_each_written_answer_with_the_model_answer_and_rubric(tmp_path):
    sheet = tmp_path / "sheet.csv"
    assert manual.write_sheet([_row("a.ipynb", student="s1")], sheet) == 1
    (line,) = _read(sheet)
    assert (line["student"], line["question"], line["max_points"]) == ("s1", "q3", "1")
    assert line["answer"] == "Floats drift; paise are exact."
    assert "cannot hold 0.10" in line["model_answer"] and "1 point" in line["rubric"]
    assert line["score"] == ""


def test_merging_hand_scores_updates_totals_and_feedback(tmp_path):
    rows, sheet = [_row("a.ipynb")], tmp_path / "sheet.csv"
    manual.write_sheet(rows, sheet)
    _fill(sheet, score="1", comment="clear")
    assert manual.merge_sheet(rows, sheet) == 1
    assert (rows[0].points, rows[0].max_points) == (4, 4)
    assert rows[0].questions[2].feedback == "graded by hand: clear"


def _override_sheet(tmp_path: Path, score: str, comment: str) -> Path:
    sheet = tmp_path / "override.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, manual.SHEET_COLUMNS)
        writer.writeheader()
        line = {"notebook": "a.ipynb", "question": "q1", "max_points": 1}
        writer.writerow({**line, "score": score, "comment": comment})
    return sheet


def test_an_override_needs_a_reason_and_is_shown(tmp_path):
    rows = [_row("a.ipynb", q1=1)]
    with pytest.raises(manual.SheetError, match="needs a reason"):
        manual.merge_sheet(rows, _override_sheet(tmp_path, "0", ""))
    assert rows[0].points == 3, "nothing applied"
    manual.merge_sheet(rows, _override_sheet(tmp_path, "0", "copied from a classmate"))
    assert rows[0].points == 2 and "override: copied" in rows[0].questions[0].feedback


@pytest.mark.parametrize(
    ("score", "match"), [("2", "above 1"), ("0.5", "whole number"), ("-1", "whole number")]
)
def test_bad_scores_are_refused_naming_the_line(tmp_path, score, match):
    with pytest.raises(manual.SheetError, match=f"line 2: .*{match}"):
        manual.merge_sheet([_row("a.ipynb")], _override_sheet(tmp_path, score, "why"))


def test_a_sheet_for_another_notebook_is_refused(tmp_path):
    with pytest.raises(manual.SheetError, match="no graded notebook"):
        manual.merge_sheet([_row("b.ipynb")], _override_sheet(tmp_path, "1", ""))


def test_the_roster_names_rows_and_refuses_ambiguity(tmp_path):
    subs = [tmp_path / "x" / "fx_exercises.ipynb", tmp_path / "y" / "fx_exercises.ipynb"]
    for sub in subs:
        sub.parent.mkdir()
        sub.write_text("{}")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,file\nS-1,x/fx_exercises.ipynb\nS-2,y/fx_exercises.ipynb\n")
    assert gradebook.read_roster(roster, subs) == {subs[0]: "S-1", subs[1]: "S-2"}
    roster.write_text("student_id,file\nS-1,fx_exercises.ipynb\n")
    with pytest.raises(gradebook.RosterError, match="several submissions"):
        gradebook.read_roster(roster, subs)
    roster.write_text("id,path\n")
    with pytest.raises(gradebook.RosterError, match="student_id and file"):
        gradebook.read_roster(roster, subs)


def test_canvas_and_gradescope_exports(tmp_path):
    rows = [_row("a.ipynb", student="S-1"), _row("b.ipynb", q1=0, student="S-2")]
    gradebook.write_canvas(rows, tmp_path / "canvas.csv")
    canvas = _read(tmp_path / "canvas.csv")
    assert list(canvas[0])[:4] == ["Student", "ID", "SIS User ID", "Section"]
    assert canvas[1]["fx_exercises q1 (1)"] == "0" and canvas[1]["fx_exercises total"] == "2"
    assert canvas[0]["fx_exercises q3 (1)"] == "", "not graded by hand yet: empty, not 0"
    gradebook.write_gradescope(rows, tmp_path / "gs.csv")
    gs = _read(tmp_path / "gs.csv")
    assert (gs[0]["SID"], gs[0]["Total Score"], gs[1]["Total Score"]) == ("S-1", "3", "2")


def test_cli_merges_a_sheet_into_a_saved_report(tmp_path, capsys):
    report, sheet = tmp_path / "scores.json", tmp_path / "sheet.csv"
    write_json([_row("a.ipynb")], report)
    assert main(["grade", "--from-json", str(report), "--manual-sheet", str(sheet)]) == 0
    _fill(sheet, score="1")
    merged = tmp_path / "merged.json"
    args = ["grade", "--from-json", str(report), "--merge-manual", str(sheet)]
    assert main([*args, "--json", str(merged), "--canvas", str(tmp_path / "c.csv")]) == 0
    assert json.loads(merged.read_text())["notebooks"][0]["points"] == 4
    _fill(sheet, score="7")
    assert main(args) == 2 and "above 1" in capsys.readouterr().err


def test_rubrics_never_reach_the_learner_version():
    exercise = build_exercise(read_notebook(FIXTURE), "fx")
    text = json.dumps(exercise)
    assert "RUBRIC" not in text and "1 point:" not in text
