"""How a solution notebook marks its questions, solutions and hidden tests.

An exercise notebook is written once, with its solutions, in ``solutions/``; the
learner version and the grader both read the same marks, so they cannot drift:

- a question's answer cell carries the tags ``question:q1`` and ``points:2``;
- its self-check cell carries ``question:q1`` (no points);
- a hidden-tests cell carries ``hidden-tests`` and ``question:q1``; it only *observes*
  (``observe.py``: no ``assert``), and it is self-contained: besides builtins it uses only
  names it binds itself and the names the question's own cells define (its answers);
- code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines is the solution;
- Markdown between ``<!-- BEGIN ANSWER -->`` and ``<!-- END ANSWER -->`` is a written answer
  (graded by hand when its cell has question and points tags, else ungraded reflection), and
  between ``<!-- BEGIN RUBRIC -->`` and ``<!-- END RUBRIC -->`` its marking guide; both are
  removed from the learner version and listed in the grader's manual-grading sheet.

Design note: grading finds cells by question id, never by position, because
learners insert, split, reorder and delete cells. Mistakes in the marks are found
before any learner sees the notebook: :func:`parse_solution` raises
:class:`NotebookFormatError` naming the notebook and the cell.
"""

from __future__ import annotations

import builtins
import re
import symtable
import textwrap
from dataclasses import dataclass, field
from typing import Any

from razorlab.errors import ValidationError

__all__ = [
    "NotebookFormatError",
    "QuestionSpec",
    "SolutionNotebook",
    "HIDDEN_TESTS_TAG",
    "cell_source",
    "cell_tags",
    "question_id",
    "is_hidden_tests",
    "stub_solution",
    "stub_answer",
    "parse_solution",
    "free_names",
    "bound_names",
]

HIDDEN_TESTS_TAG = "hidden-tests"
QUESTION_PREFIX = "question:"
POINTS_PREFIX = "points:"
SOLUTION_STUB = 'raise NotImplementedError("{label}your code here")'
ANSWER_STUB = "_Your answer here._"

_QID = re.compile(r"^[A-Za-z0-9_.-]+$")
_BEGIN_SOLUTION = re.compile(r"^\s*#+\s*BEGIN SOLUTION\s*$")
_END_SOLUTION = re.compile(r"^\s*#+\s*END SOLUTION\s*$")
_BEGIN_ANSWER = re.compile(r"^\s*<!--\s*BEGIN ANSWER\s*-->\s*$")
_END_ANSWER = re.compile(r"^\s*<!--\s*END ANSWER\s*-->\s*$")
_BEGIN_RUBRIC = re.compile(r"^\s*<!--\s*BEGIN RUBRIC\s*-->\s*$")
_END_RUBRIC = re.compile(r"^\s*<!--\s*END RUBRIC\s*-->\s*$")
_CHECKER = re.compile(r"""Checker\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")

Cell = dict[str, Any]


class NotebookFormatError(ValidationError):
    """A solution notebook whose exercise marks are inconsistent; names notebook and cell."""

    code = "INVALID_EXERCISE_NOTEBOOK"


@dataclass(frozen=True)
class QuestionSpec:
    """One graded question, as the solution notebook declares it."""

    qid: str
    points: int
    cell_index: int
    written: bool  # a Markdown answer: graded by a person, not by the autograder


@dataclass
class SolutionNotebook:
    """What the build and the grader need to know about one solution notebook."""

    name: str
    exercise_set: str | None  # from ``Checker("...")``; None when the notebook has no self-checks
    questions: dict[str, QuestionSpec] = field(default_factory=dict)
    hidden_tests: dict[str, list[Cell]] = field(default_factory=dict)  # qid -> cells, in order

    @property
    def auto_points(self) -> int:
        """Points the autograder can award (written answers are graded by hand)."""
        return sum(q.points for q in self.questions.values() if not q.written)


def cell_source(cell: Cell) -> str:
    """A cell's source as one string (notebooks may store it as a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def cell_tags(cell: Cell) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def question_id(cell: Cell) -> str | None:
    """The question id a cell belongs to (``question:q1`` -> ``"q1"``), if any."""
    for tag in cell_tags(cell):
        if tag.startswith(QUESTION_PREFIX):
            return tag[len(QUESTION_PREFIX) :]
    return None


def is_hidden_tests(cell: Cell) -> bool:
    return HIDDEN_TESTS_TAG in cell_tags(cell)


def _regions(lines: list[str], begin: re.Pattern[str], end: re.Pattern[str], where: str) -> int:
    """Count balanced begin/end regions; raise ``ValueError`` describing the first imbalance."""
    depth = count = 0
    for number, line in enumerate(lines, 1):
        if begin.match(line):
            if depth:
                raise ValueError(f"line {number}: BEGIN {where} inside another {where} region")
            depth, count = 1, count + 1
        elif end.match(line):
            if not depth:
                raise ValueError(f"line {number}: END {where} without a BEGIN {where}")
            depth = 0
    if depth:
        raise ValueError(f"BEGIN {where} is never closed by END {where}")
    return count


def _replace_regions(
    source: str, begin: re.Pattern[str], end: re.Pattern[str], stub: str, indent: bool
) -> str:
    out: list[str] = []
    inside = False
    for line in source.splitlines(keepends=True):
        if begin.match(line):
            inside = True
            pad = line[: len(line) - len(line.lstrip())] if indent else ""
            out.append(pad + stub + ("\n" if line.endswith("\n") else ""))
        elif end.match(line):
            inside = False
            if not line.endswith("\n") and out and out[-1].endswith("\n"):
                out[-1] = out[-1][:-1]  # the region ended the cell: so does the stub
        elif not inside:
            out.append(line)
    return "".join(out)


def stub_solution(source: str, qid: str | None) -> str:
    """Replace each solution region by a stub that fails clearly, keeping its indentation."""
    stub = SOLUTION_STUB.format(label=f"{qid}: " if qid else "")
    return _replace_regions(source, _BEGIN_SOLUTION, _END_SOLUTION, stub, indent=True)


def stub_answer(source: str) -> str:
    """Replace each written-answer region of a Markdown cell by a placeholder; drop rubrics."""
    source = _replace_regions(source, _BEGIN_RUBRIC, _END_RUBRIC, "", indent=False)
    return _replace_regions(source, _BEGIN_ANSWER, _END_ANSWER, ANSWER_STUB, indent=False)


def _points(tags: list[str]) -> int | None:
    values = [t[len(POINTS_PREFIX) :] for t in tags if t.startswith(POINTS_PREFIX)]
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit() or int(values[0]) <= 0:
        raise ValueError(f"needs exactly one points:N tag with N a positive integer, got {values}")
    return int(values[0])


def _check_cell(cell: Cell) -> tuple[str | None, int | None]:
    """Validate one cell's marks; return its (question id, points)."""
    tags = cell_tags(cell)
    qids = [t[len(QUESTION_PREFIX) :] for t in tags if t.startswith(QUESTION_PREFIX)]
    if len(qids) > 1:
        raise ValueError(f"has several question tags {qids}; a cell belongs to one question")
    qid = qids[0] if qids else None
    if qid is not None and not _QID.match(qid):
        raise ValueError(f"question id {qid!r} must be letters, digits, '_', '-' or '.'")
    points = _points(tags)
    lines = cell_source(cell).splitlines()
    kind = cell.get("cell_type")
    solutions = _regions(lines, _BEGIN_SOLUTION, _END_SOLUTION, "SOLUTION")
    answers = _regions(lines, _BEGIN_ANSWER, _END_ANSWER, "ANSWER")
    _regions(lines, _BEGIN_RUBRIC, _END_RUBRIC, "RUBRIC")
    if kind != "code" and solutions:
        raise ValueError("has # BEGIN SOLUTION in a non-code cell; use <!-- BEGIN ANSWER -->")
    if kind != "markdown" and answers:
        raise ValueError("has <!-- BEGIN ANSWER --> outside Markdown; use # BEGIN SOLUTION")
    if is_hidden_tests(cell):
        if kind != "code":
            raise ValueError("is tagged hidden-tests but is not a code cell")
        if qid is None:
            raise ValueError("is tagged hidden-tests but has no question:qN tag")
        if points is not None or solutions:
            raise ValueError("is a hidden-tests cell; points and solutions belong elsewhere")
    if points is not None and qid is None:
        raise ValueError("has a points tag but no question:qN tag")
    if solutions and qid is None:  # a written answer may be ungraded reflection; code may not
        raise ValueError("has a # BEGIN SOLUTION region but no question:qN tag")
    if points is not None and not (solutions or answers):
        raise ValueError(
            "is a question cell (has points) without a # BEGIN SOLUTION / <!-- BEGIN ANSWER --> "
            "region: the learner version would show the answer"
        )
    return qid, points


def _table(source: str) -> symtable.SymbolTable:
    """The symbol table of a cell, wrapped in a coroutine so top-level ``await`` parses."""
    return symtable.symtable(
        "async def _cell():\n" + textwrap.indent(source, " ") + "\n_", "<cell>", "exec"
    )


def free_names(source: str) -> set[str]:
    """Names a cell reads but never binds (in any of its scopes), builtins excluded."""
    found: set[str] = set()
    tables = list(_table(source).get_children())
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        found.update(s.get_name() for s in table.get_symbols() if s.is_global())
    return found - set(dir(builtins)) - {"_cell"}


def bound_names(source: str) -> set[str]:
    """Names a cell binds at its top level (defs, classes, imports, assignments)."""
    cell = _table(source).get_children()[0]
    return {s.get_name() for s in cell.get_symbols() if s.is_assigned() or s.is_imported()}


def _hidden_problem(cell: Cell, answers: set[str]) -> str | None:
    source = cell_source(cell)
    if re.search(r"^\s*assert\b", source, flags=re.M):
        return "asserts: hidden cells observe (razorlab.grading.observe), the grader judges"
    if "observe(" not in source:
        return "observes nothing: call observe(name, value) for each case"
    try:
        unknown = free_names(source) - answers
    except SyntaxError as exc:
        return f"does not parse: {exc.msg}"
    if unknown:
        return (
            f"uses {sorted(unknown)}, defined by no cell of its question: import them in "
            "the cell so it does not depend on other cells"
        )
    return None


def _where(name: str, index: int, cell: Cell) -> str:
    cid = cell.get("id")
    return f"{name} cell {index}" + (f" (id {cid})" if cid else "")


def parse_solution(nb: dict[str, Any], name: str) -> SolutionNotebook:
    """Read and validate the marks of a solution notebook (``name`` is used in errors)."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookFormatError(f"{name}: not a notebook (no list of cells)")
    found = _CHECKER.findall(
        "\n".join(cell_source(c) for c in cells if c.get("cell_type") == "code")
    )
    if len(set(found)) > 1:
        raise NotebookFormatError(f"{name}: uses several exercise sets {sorted(set(found))}")
    parsed = SolutionNotebook(name, found[0] if found else None)
    first_hidden: dict[str, tuple[int, Cell]] = {}
    for index, cell in enumerate(cells):
        try:
            qid, points = _check_cell(cell)
        except ValueError as exc:
            raise NotebookFormatError(f"{_where(name, index, cell)}: {exc}") from None
        if points is not None and qid is not None:
            if qid in parsed.questions:
                first = parsed.questions[qid].cell_index
                raise NotebookFormatError(
                    f"{_where(name, index, cell)}: question {qid} is already declared "
                    f"with points in cell {first}; question ids must be unique"
                )
            written = cell.get("cell_type") == "markdown"
            parsed.questions[qid] = QuestionSpec(qid, points, index, written)
        if is_hidden_tests(cell) and qid is not None:
            parsed.hidden_tests.setdefault(qid, []).append(cell)
            first_hidden.setdefault(qid, (index, cell))
    answers: dict[str, set[str]] = {}
    for cell in cells:
        qid = question_id(cell)
        if qid and cell.get("cell_type") == "code" and not is_hidden_tests(cell):
            try:
                answers.setdefault(qid, set()).update(bound_names(cell_source(cell)))
            except SyntaxError:
                pass  # a learner-facing cell that does not parse fails in nbval instead
    for index, cell in enumerate(cells):
        if is_hidden_tests(cell) and (qid := question_id(cell)) is not None:
            problem = _hidden_problem(cell, answers.get(qid, set()))
            if problem is not None:
                raise NotebookFormatError(f"{_where(name, index, cell)}: hidden tests {problem}")
    for qid, (index, cell) in first_hidden.items():
        if qid not in parsed.questions:
            raise NotebookFormatError(
                f"{_where(name, index, cell)}: hidden tests for {qid} but no question cell "
                f"tagged question:{qid} with points"
            )
        if parsed.questions[qid].written:
            raise NotebookFormatError(
                f"{_where(name, index, cell)}: hidden tests for {qid}, a written (Markdown) answer"
            )
    return parsed
