"""The gradebook side: a roster of students and the CSV files learning platforms import.

- **Roster**: a CSV with columns ``student_id`` and ``file`` (a submission's path, relative to
  the roster's folder, or just its file name when names are unique). Graded rows then carry the
  student id instead of the file name; a submission missing from the roster keeps its file
  name and is reported, never dropped.
- **Canvas-style export**: ``Student, ID, SIS User ID, Section`` then one column per question
  (``<set> q1 (2)``: the points available in brackets) and the set's total, one row per
  student — the layout Canvas's gradebook import reads, with the assignment columns named.
- **Gradescope-style export**: ``Name, SID, Email, Total Score`` then one column per question.

Written answers not yet graded by hand are left empty (not 0), so a platform shows them as
missing rather than as a zero the learner did not earn.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from razorlab.errors import ValidationError

__all__ = ["RosterError", "read_roster", "write_canvas", "write_gradescope"]


class RosterError(ValidationError):
    code = "INVALID_ROSTER"


def read_roster(path: Path, submissions: list[Path]) -> dict[Path, str]:
    """Resolved submission path -> student id; raises :class:`RosterError` on a bad roster."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not {"student_id", "file"} <= set(reader.fieldnames or ()):
            raise RosterError(f"{path}: needs the columns student_id and file")
        entries = [
            (line, e["student_id"].strip(), e["file"].strip()) for line, e in enumerate(reader, 2)
        ]
    by_name: dict[str, list[Path]] = {}
    for sub in submissions:
        by_name.setdefault(sub.name, []).append(sub.resolve())
    roster: dict[Path, str] = {}
    for line, student, file in entries:
        if not student or not file:
            raise RosterError(f"{path} line {line}: student_id and file are both required")
        candidate = (path.parent / file).resolve()
        matches = [candidate] if candidate.exists() else by_name.get(Path(file).name, [])
        if len(matches) != 1:
            why = "matches no submission" if not matches else "matches several submissions"
            raise RosterError(f"{path} line {line}: {file!r} {why}")
        roster[matches[0]] = student
    return roster


def _columns(rows: list[Any]) -> list[tuple[str, str, int]]:
    """(solution set, qid, max points) for every question seen, in first-seen order."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        for q in row.questions:
            seen.setdefault((Path(row.solution or "").stem, q.qid), q.max_points)
    return [(s, q, p) for (s, q), p in seen.items()]


def _cell(row: Any, set_name: str, qid: str) -> object:
    if Path(row.solution or "").stem != set_name:
        return ""
    q = next((q for q in row.questions if q.qid == qid), None)
    return "" if q is None or q.points is None else q.points


def write_canvas(rows: list[Any], path: Path) -> None:
    columns = _columns(rows)
    sets = list(dict.fromkeys(s for s, _, _ in columns))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        header = ["Student", "ID", "SIS User ID", "Section"]
        header += [f"{s} {q} ({p})" for s, q, p in columns] + [f"{s} total" for s in sets]
        writer.writerow(header)
        for row in rows:
            totals = [row.points if Path(row.solution or "").stem == s else "" for s in sets]
            cells = [_cell(row, s, q) for s, q, _ in columns]
            writer.writerow([row.student, row.student, row.student, "", *cells, *totals])


def write_gradescope(rows: list[Any], path: Path) -> None:
    columns = _columns(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["Name", "SID", "Email", "Total Score", *[f"{s} {q}" for s, q, _ in columns]]
        )
        for row in rows:
            cells = [_cell(row, s, q) for s, q, _ in columns]
            writer.writerow([row.student, row.student, "", row.points, *cells])
