"""``razorlab grade``: run learners' notebooks with the hidden tests put back, and score them.

For each submitted notebook the grader finds its solution notebook by name, builds
the notebook to run (the learner's cells in the learner's order, each hidden-tests
cell of the solution inserted after the last learner cell carrying the same question
id, or at the end if the learner deleted that question), executes it in a fresh
kernel with errors allowed, then reads which self-checks passed from the kernel.

Scoring rule (all or nothing per question, partial credit across questions): a
question earns its points when its latest self-check passed *and* every one of its
hidden-tests cells ran without an error (a question with no registered self-check is
scored on its hidden tests alone). Questions answered in Markdown are listed as
``manual`` and left to a person. A notebook that exceeds the time limit scores 0
("timed out"); one that is not a valid notebook gets an error row; neither stops the
others from being graded.

Design note: points and hidden tests always come from the solution notebook, never
from the learner's file (whose tags a learner can edit). Feedback carries the
exception name and message of a failing hidden test — never its source or traceback,
which would reveal the test. Each notebook runs in its own kernel, so ``-j N`` grades
N notebooks at once.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import logging
import re
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from razorlab.grading.notebook_tags import (
    SolutionNotebook,
    cell_source,
    is_hidden_tests,
    parse_solution,
    question_id,
)
from razorlab.grading.selfcheck import QUESTIONS

__all__ = [
    "GRADED",
    "TIMED_OUT",
    "ERROR",
    "DEFAULT_TIMEOUT_S",
    "QuestionScore",
    "NotebookScore",
    "collect_notebooks",
    "match_solution",
    "assemble",
    "grade_notebook",
    "grade_all",
]

GRADED, TIMED_OUT, ERROR = "graded", "timed out", "error"
DEFAULT_TIMEOUT_S = 120.0  # seconds one notebook may run, all cells together
KERNEL_START_TIMEOUT_S = 120  # seconds a fresh kernel may take to start on a busy machine
GRADER_KEY = "razorlab_grader"  # cell metadata key marking cells the grader inserted
_NOT_ANSWERED = "NotImplementedError"
_PROBE_MARK = "RAZORLAB-SELFCHECKS:"
_PROBE_SOURCE = (
    "import json as _razorlab_json\n"
    "from razorlab.grading import selfcheck as _razorlab_selfcheck\n"
    f"print({_PROBE_MARK!r} + _razorlab_json.dumps(_razorlab_selfcheck.recorded()))"
)
_LOG = logging.getLogger("razorlab.grading")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False


@dataclass
class QuestionScore:
    qid: str
    max_points: int
    points: int | None  # None: a written answer, graded by a person
    self_check: bool | None  # None: the question has no self-check
    hidden_passed: int
    hidden_total: int
    feedback: str


@dataclass
class NotebookScore:
    path: str
    solution: str | None
    status: str  # GRADED, TIMED_OUT or ERROR
    points: int = 0
    max_points: int = 0
    message: str = ""
    questions: list[QuestionScore] = field(default_factory=list)


def collect_notebooks(paths: list[Path]) -> list[Path]:
    """Files as given, folders searched for ``*.ipynb`` (checkpoints skipped), no duplicates."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.ipynb"))
                if ".ipynb_checkpoints" not in p.relative_to(path).parts
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def match_solution(learner: Path, solutions_dir: Path) -> Path:
    """The solution for a submission: same file name, or a name that contains it.

    Collected submissions are often renamed (``alice_00_start_here_exercises.ipynb``,
    ``00_start_here_exercises-2.ipynb``): a solution matches when its stem appears in the
    learner's stem between non-alphanumerics. The longest match wins; a tie is broken by
    the solution's folder appearing in the learner's path. Raises ``LookupError``.
    """
    candidates = []
    for sol in solutions_dir.rglob("*.ipynb"):
        if ".ipynb_checkpoints" in sol.parts:
            continue
        pattern = rf"(^|[^A-Za-z0-9]){re.escape(sol.stem)}($|[^A-Za-z0-9])"
        if re.search(pattern, learner.stem):
            candidates.append(sol)
    if not candidates:
        raise LookupError(f"no solution notebook under {solutions_dir} matches {learner.name}")
    longest = max(len(c.stem) for c in candidates)
    best = sorted(c for c in candidates if len(c.stem) == longest)
    if len(best) > 1:
        folders = set(learner.resolve().parent.parts)
        best = [c for c in best if c.parent.name in folders] or best
    if len(best) > 1:
        names = ", ".join(str(b.relative_to(solutions_dir)) for b in best)
        raise LookupError(f"{learner.name} matches several solutions ({names}); grade them apart")
    return best[0]


def _grader_cell(source: str, role: dict[str, Any]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {GRADER_KEY: role},
        "outputs": [],
        "source": source,
    }


def assemble(learner: dict[str, Any], solution: SolutionNotebook) -> dict[str, Any]:
    """The notebook to execute: learner cells + hidden tests placed by question id + a probe."""
    cells = [copy.deepcopy(c) for c in learner["cells"] if not is_hidden_tests(c)]
    for cell in cells:
        cell["source"] = cell_source(cell)
        cell.pop("id", None)  # ids are optional for grading; learners' copies may clash
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    for qid, tests in solution.hidden_tests.items():
        anchors = [i for i, c in enumerate(cells) if question_id(c) == qid]
        at = anchors[-1] + 1 if anchors else len(cells)
        inserted = [_grader_cell(cell_source(t), {"hidden": qid}) for t in tests]
        cells[at:at] = inserted
    cells.append(_grader_cell(_PROBE_SOURCE, {"probe": True}))
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


class _Budget:
    """nbclient's per-cell timeout turned into one deadline for the whole notebook."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline: float | None = None

    def __call__(self, cell: object) -> float:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.seconds
        return max(self.deadline - now, 0.01)  # 0 would mean "no timeout" to nbclient


def _errors(cell: dict[str, Any]) -> list[str]:
    """``Name: message`` of each error a cell raised (no traceback: it may quote test source)."""
    return [
        f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".rstrip(": ")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def _probe(cells: list[dict[str, Any]], exercise_set: str | None) -> dict[str, dict[str, Any]]:
    """qid -> latest self-check record of ``exercise_set``, read from the probe cell's output.

    Records of other sets are ignored: passing ``Checker("start_here")("q1", ...)`` must
    not earn q1 of another set.
    """
    outputs = cells[-1].get("outputs", [])
    text = "".join(str(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(_PROBE_MARK):
            records = json.loads(line[len(_PROBE_MARK) :])
            return {r["qid"]: r for r in records if r["set"] == exercise_set}
    return {}


def _question_score(
    qid: str,
    points: int,
    executed: list[dict[str, Any]],
    record: dict[str, Any] | None,
    has_check: bool,
) -> QuestionScore:
    """One question's points and feedback from the executed cells and its self-check record."""
    learner_cells = [c for c in executed if question_id(c) == qid]
    hidden = [c for c in executed if c.get("metadata", {}).get(GRADER_KEY, {}).get("hidden") == qid]
    hidden_errors = [e for c in hidden for e in _errors(c)]
    hidden_ok = sum(1 for c in hidden if not _errors(c))
    raised = [e for c in learner_cells for e in _errors(c)]
    check_ok = bool(record and record["passed"]) if has_check else None
    if has_check:
        earned = bool(check_ok)
    else:  # no self-check: hidden tests decide, or failing that, cells that ran cleanly
        earned = bool(hidden) or (bool(learner_cells) and not raised)
    earned = earned and hidden_ok == len(hidden)
    if earned:
        feedback = "correct."
    elif any(_NOT_ANSWERED in text for text in [*raised, (record or {}).get("message", "")]):
        feedback = "not answered yet: the cell still raises NotImplementedError."
    else:
        notes = []
        if not learner_cells:
            notes.append(f"no cell tagged question:{qid} (deleted?)")
        if has_check and record is None:
            why = f"your cell raised {raised[0]}" if raised else "check() was not run"
            notes.append(f"self-check did not pass: {why}")
        elif has_check and not check_ok and record:
            notes.append(f"self-check: {record['message']}")
        elif not has_check and raised:
            notes.append(f"your cell raised {raised[0]}")
        if hidden_errors:
            notes.append(f"hidden test failed: {hidden_errors[0]}")
        feedback = "; ".join(n.rstrip(".") for n in notes) + "."
    return QuestionScore(
        qid, points, points if earned else 0, check_ok, hidden_ok, len(hidden), feedback
    )


def _score(executed: list[dict[str, Any]], solution: SolutionNotebook) -> list[QuestionScore]:
    checks = _probe(executed, solution.exercise_set)
    scores = []
    for qid, spec in solution.questions.items():
        if spec.written:
            scores.append(QuestionScore(qid, spec.points, None, None, 0, 0, "graded by hand."))
        else:
            has_check = (solution.exercise_set, qid) in QUESTIONS
            scores.append(_question_score(qid, spec.points, executed, checks.get(qid), has_check))
    return scores


def _check_learner(nb: object) -> None:
    """Raise ``ValueError`` unless ``nb`` looks enough like a notebook to run."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("JSON without a list of cells")
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError(f"cell {index} is not a code, markdown or raw cell")


def grade_notebook(
    learner_path: Path, solutions_dir: Path, timeout: float = DEFAULT_TIMEOUT_S
) -> NotebookScore:
    """Grade one submission; every failure becomes a row, never an exception."""
    row = NotebookScore(str(learner_path), None, ERROR)
    if not learner_path.is_file():
        row.message = "no such file"
        return row
    try:
        sol_path = match_solution(learner_path, solutions_dir)
        row.solution = str(sol_path)
        solution = parse_solution(json.loads(sol_path.read_text(encoding="utf-8")), str(sol_path))
        if solution.exercise_set:  # registers its self-checks in QUESTIONS
            importlib.import_module(f"razorlab.grading.checks.{solution.exercise_set}")
        row.max_points = solution.auto_points
        row.questions = [
            QuestionScore(q.qid, q.points, None if q.written else 0, None, 0, 0, "not graded.")
            for q in solution.questions.values()
        ]
        try:
            learner = json.loads(learner_path.read_text(encoding="utf-8"))
            _check_learner(learner)
        except (ValueError, UnicodeDecodeError) as exc:
            row.message = f"not a valid notebook: {exc}"
            return row
        nb = nbformat.from_dict(assemble(learner, solution))
        client = NotebookClient(
            nb,
            timeout=timeout,
            timeout_func=_Budget(timeout),
            startup_timeout=KERNEL_START_TIMEOUT_S,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            shutdown_kernel="immediate",
            log=_LOG,
            resources={"metadata": {"path": str(sol_path.parent)}},
        )
        try:
            # A fresh event loop per notebook, closed with nothing left pending; the kernel's
            # own stderr chatter (TCP warnings, debugger notes) is not feedback.
            asyncio.run(client.async_execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except CellTimeoutError:
            row.status = TIMED_OUT
            row.message = f"ran longer than {timeout:g} s (all cells together)"
            for q in row.questions:
                q.feedback = "not graded: the notebook timed out."
            return row
        except DeadKernelError:
            row.message = "the kernel died (exit() called, or out of memory?)"
            return row
        row.questions = _score(nb.cells, solution)
        row.points = sum(q.points or 0 for q in row.questions)
        row.status = GRADED
    except Exception as exc:  # one bad submission must not stop the class's grading
        row.message = row.message or f"{type(exc).__name__}: {exc}"
    return row


def grade_all(
    paths: list[Path],
    solutions_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    jobs: int = 2,
    on_done: Callable[[NotebookScore], None] | None = None,
) -> list[NotebookScore]:
    """Grade every notebook in ``paths`` (files or folders), ``jobs`` kernels at a time.

    Rows come back in input order; ``on_done`` is called as each notebook finishes (progress).
    """
    notebooks = collect_notebooks(paths)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_notebook, p, solutions_dir, timeout) for p in notebooks]
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        return [f.result() for f in futures]
