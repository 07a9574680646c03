"""Written answers graded by a person: the manual-grading sheet and merging it back.

``razorlab grade --manual-sheet sheet.csv`` lists every written answer (a Markdown question
with points) of every submission: student, notebook, question, points available, the
learner's text, the solution's model answer and rubric, and empty ``score`` / ``comment``
columns. The instructor fills them in (any spreadsheet) and ``razorlab grade --merge-manual
sheet.csv`` folds them into the totals, the exports and the feedback.

Design note
-----------
- The same sheet also carries **overrides**: a row for an autograded question with a score
  replaces the grader's points, and must give a reason in ``comment`` (it goes to the
  learner's feedback and the JSON report, so the change is visible and explained).
- A sheet is checked before anything is applied: an unknown notebook or question, a score
  that is not a whole number between 0 and the question's points, or an override without a
  reason is a :class:`SheetError` naming the line, and nothing is merged.
- Rows are matched by notebook path and question id, so a sheet made from one grading run
  applies to a re-grade of the same files.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from razorlab.errors import ValidationError
from razorlab.grading.notebook_tags import cell_source, question_id

__all__ = [
    "SHEET_COLUMNS",
    "SheetError",
    "written_answers",
    "solution_texts",
    "write_sheet",
    "merge_sheet",
]

SHEET_COLUMNS = (
    "student",
    "notebook",
    "question",
    "max_points",
    "answer",
    "model_answer",
    "rubric",
    "score",
    "comment",
)
_REGION = r"<!--\s*BEGIN {0}\s*-->(.*?)<!--\s*END {0}\s*-->"


class SheetError(ValidationError):
    code = "INVALID_GRADING_SHEET"


@dataclass(frozen=True)
class _Texts:
    model: str
    rubric: str


def _region(text: str, name: str) -> str:
    return "\n".join(m.strip() for m in re.findall(_REGION.format(name), text, flags=re.S))


def written_answers(learner: dict[str, Any], qids: list[str]) -> dict[str, str]:
    """qid -> the learner's text for each written question (Markdown cells of that question)."""
    found: dict[str, list[str]] = {}
    for cell in learner.get("cells", []):
        qid = question_id(cell)
        if qid in qids and cell.get("cell_type") == "markdown":
            found.setdefault(qid, []).append(cell_source(cell).strip())
    return {qid: "\n\n".join(found.get(qid, [])) for qid in qids}


def solution_texts(solution: dict[str, Any]) -> dict[str, _Texts]:
    """qid -> the model answer and rubric regions of each written question of a solution."""
    texts: dict[str, _Texts] = {}
    for cell in solution.get("cells", []):
        qid = question_id(cell)
        if qid and cell.get("cell_type") == "markdown":
            source = cell_source(cell)
            texts[qid] = _Texts(_region(source, "ANSWER"), _region(source, "RUBRIC"))
    return texts


def write_sheet(rows: list[Any], path: Path) -> int:
    """Write the sheet for ``rows`` (NotebookScore); the number of answers listed."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, SHEET_COLUMNS)
        writer.writeheader()
        for row in rows:
            if not row.solution:
                continue
            texts = solution_texts(json.loads(Path(row.solution).read_text(encoding="utf-8")))
            for q in row.questions:
                if q.points is not None or q.qid not in row.answers:
                    continue
                model = texts.get(q.qid, _Texts("", ""))
                writer.writerow(
                    {
                        "student": row.student,
                        "notebook": row.path,
                        "question": q.qid,
                        "max_points": q.max_points,
                        "answer": row.answers[q.qid],
                        "model_answer": model.model,
                        "rubric": model.rubric,
                        "score": "",
                        "comment": "",
                    }
                )
                count += 1
    return count


def _score(text: str, max_points: int, line: int) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise SheetError(f"line {line}: score {text!r} is not a whole number", field="score")
    score = int(text)
    if score > max_points:
        raise SheetError(f"line {line}: score {score} is above {max_points}", field="score")
    return score


def merge_sheet(rows: list[Any], path: Path) -> int:
    """Apply the scored lines of the sheet at ``path`` to ``rows``; the number applied."""
    by_path = {row.path: row for row in rows}
    changes = []
    with path.open(newline="", encoding="utf-8") as fh:
        for line, entry in enumerate(csv.DictReader(fh), start=2):
            if not (entry.get("score") or "").strip():
                continue
            row = by_path.get(entry.get("notebook", ""))
            if row is None:
                raise SheetError(f"line {line}: no graded notebook {entry.get('notebook')!r}")
            q = next((q for q in row.questions if q.qid == entry.get("question")), None)
            if q is None:
                raise SheetError(f"line {line}: {row.path} has no question {entry['question']!r}")
            score = _score(entry["score"], q.max_points, line)
            comment = (entry.get("comment") or "").strip()
            if q.points is not None and score != q.points and not comment:
                raise SheetError(f"line {line}: overriding {q.qid} needs a reason in 'comment'")
            changes.append((row, q, score, comment))
    for row, q, score, comment in changes:
        override = q.points is not None
        q.points = score
        label = "override" if override else "graded by hand"
        q.feedback = f"{label}: {comment}" if comment else f"{label}."
        row.points = sum(x.points or 0 for x in row.questions)
        row.max_points = sum(x.max_points for x in row.questions if x.points is not None)
    return len(changes)
