"""``razorlab grade``: run learners' notebooks in a sandbox, judge hidden-test observations outside.

For each submitted notebook the grader finds its solution notebook by name and builds the
notebook to run: the learner's cells in the learner's order, each hidden-tests cell of the
solution inserted after the last learner cell carrying the same question id (or at the end if
the learner deleted that question). The hidden cells only *observe* (``observe.py``): they call
the learner's answers on inputs drawn from this run's hidden seed and print the results.

The same assembly of the instructor's solution notebook, run with the same seed, gives the
reference observations, once per solution per grading run. Each run executes in its own
bubblewrap sandbox (``sandbox.py``) cell by cell (``runner.py``), and the verdicts are
computed here, in the grader's process (``judge.py``): nothing the learner's code does in its
kernel (exception hooks, result registries, patched references) reaches a verdict.

Scoring: a question earns its points when every reference observation is matched; questions
stand alone (a hang or a dead kernel costs the cell it happened in). Written (Markdown)
answers are listed as ``manual``. A notebook that is not a valid notebook gets an error row;
nothing stops the others from being graded.

Design note: points and hidden tests always come from the solution notebook, never from the
learner's file (whose tags a learner can edit). Feedback names the failing case and how it is
off, never the expected value, the test source or a traceback. ``-j N`` grades N notebooks at
once, each in its own sandbox and kernel.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from razorlab.grading import judge, manual, sandbox
from razorlab.grading.notebook_tags import (
    SolutionNotebook,
    cell_source,
    is_hidden_tests,
    parse_solution,
    question_id,
)
from razorlab.grading.observe import GRADING_ENV, SEED_ENV
from razorlab.grading.runner import GRADER_KEY

__all__ = [
    "GRADED",
    "ERROR",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_CELL_TIMEOUT_S",
    "GRADER_KEY",
    "QuestionScore",
    "NotebookScore",
    "Grader",
    "RunFailed",
    "collect_notebooks",
    "match_solution",
    "assemble",
    "grade_notebook",
    "grade_all",
]

GRADED, ERROR = "graded", "error"
DEFAULT_TIMEOUT_S = 300.0  # seconds one notebook may run, all cells, replays and restarts
DEFAULT_CELL_TIMEOUT_S = 60.0  # seconds one cell may run before its kernel is replaced
STARTUP_MARGIN_S = 150.0  # kernel starts (one per restart) on a busy machine, on top of the budget
_HIDDEN_RUNNER = (
    "from razorlab.grading.observe import run_hidden as _razorlab_run_hidden\n"
    "await _razorlab_run_hidden({source!r}, globals())\n"
    "del _razorlab_run_hidden"
)


@dataclass
class QuestionScore:
    qid: str
    max_points: int
    points: int | None  # None: a written answer, graded by a person
    hidden_passed: int  # hidden cases matched
    hidden_total: int
    feedback: str


@dataclass
class NotebookScore:
    path: str
    solution: str | None
    status: str  # GRADED or ERROR
    points: int = 0
    max_points: int = 0
    message: str = ""
    seed: int | None = None  # the hidden inputs' seed: a re-grade with it gives the same result
    student: str = ""  # from the roster, else the file name
    questions: list[QuestionScore] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # written answers, for the sheet


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
    """The notebook to execute: learner cells + hidden cells placed by question id.

    Each hidden cell runs its source through ``run_hidden`` against a copy of the learner's
    globals, so it needs no other cell and changes no learner variable.
    """
    cells = [copy.deepcopy(c) for c in learner["cells"] if not is_hidden_tests(c)]
    for cell in cells:
        cell["source"] = cell_source(cell)
        cell.pop("id", None)  # ids are optional for grading; learners' copies may clash
        cell.get("metadata", {}).pop(GRADER_KEY, None)  # only the grader marks cells
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    for qid, tests in solution.hidden_tests.items():
        anchors = [i for i, c in enumerate(cells) if question_id(c) == qid]
        at = anchors[-1] + 1 if anchors else len(cells)
        inserted = [
            _grader_cell(_HIDDEN_RUNNER.format(source=cell_source(t)), {"hidden": qid})
            for t in tests
        ]
        cells[at:at] = inserted
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


def _check_learner(nb: object) -> None:
    """Raise ``ValueError`` unless ``nb`` looks enough like a notebook to run."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("JSON without a list of cells")
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError(f"cell {index} is not a code, markdown or raw cell")
        if cell.get("cell_type") == "code" and not isinstance(cell.get("source", ""), (str, list)):
            raise ValueError(f"cell {index} has no source text")


class RunFailed(Exception):
    """The sandboxed run wrote no executed notebook."""


class Grader:
    """One grading run: its hidden seed, its sandbox choice, its cached reference runs."""

    def __init__(
        self,
        solutions_dir: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        cell_timeout: float = DEFAULT_CELL_TIMEOUT_S,
        use_sandbox: bool = True,
        seed: int | None = None,
        roster: dict[Path, str] | None = None,
    ):
        if use_sandbox and not sandbox.available():
            raise sandbox.SandboxUnavailable(
                "bwrap (Debian package bubblewrap) is not installed, so untrusted notebooks "
                "cannot be graded safely: `apt-get install bubblewrap`, or pass "
                "--unsafe-no-sandbox for notebooks you trust"
            )
        self.solutions_dir = solutions_dir
        self.timeout = timeout
        self.cell_timeout = cell_timeout
        self.use_sandbox = use_sandbox
        self.seed = secrets.randbelow(2**31) if seed is None else seed
        self.roster = roster or {}  # resolved submission path -> student id
        self._references: dict[Path, dict[str, list[judge.Observation]] | str] = {}
        self._locks: dict[Path, threading.Lock] = {}
        self._lock = threading.Lock()

    def execute(self, nb: dict[str, Any]) -> list[dict[str, Any]]:
        """Run ``nb`` in a fresh sandbox; its executed cells. Raises :class:`RunFailed`."""
        with tempfile.TemporaryDirectory(prefix="razorlab-grade-") as tmp:
            folder = Path(tmp)
            folder.chmod(0o777)  # the sandbox runs as nobody
            (folder / "in.ipynb").write_text(json.dumps(nb), encoding="utf-8")
            inside = Path(sandbox.WORKDIR) if self.use_sandbox else folder
            argv = [sys.executable, "-m", "razorlab.grading.runner"]
            argv += [str(inside / "in.ipynb"), str(inside / "out.ipynb")]
            argv += ["--cell-timeout", str(self.cell_timeout), "--budget", str(self.timeout)]
            env = {GRADING_ENV: "1", SEED_ENV: str(self.seed), "PYTHONDONTWRITEBYTECODE": "1"}
            if not self.use_sandbox:
                env = {**os.environ, **env}
            cmd = sandbox.command(argv, folder, env, sandbox=self.use_sandbox)
            self._spawn(cmd, folder, env)
            out = folder / "out.ipynb"
            try:
                return json.loads(out.read_text(encoding="utf-8"))["cells"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise RunFailed("the run wrote no executed notebook") from exc

    def _spawn(self, cmd: list[str], folder: Path, env: dict[str, str]) -> None:
        with open(folder / "stderr.log", "wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                preexec_fn=sandbox.limiter(sandbox.Limits()),
            )
            try:
                proc.wait(timeout=self.timeout + STARTUP_MARGIN_S)
            except subprocess.TimeoutExpired:
                pass
            finally:  # whatever it left behind goes with its process group
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()

    def reference(self, sol_path: Path, solution: SolutionNotebook, nb: dict[str, Any]):
        """qid -> the solution's observations with this run's seed, or why there are none."""
        with self._lock:
            lock = self._locks.setdefault(sol_path, threading.Lock())
        with lock:
            if sol_path not in self._references:
                self._references[sol_path] = self._reference(solution, nb)
            return self._references[sol_path]

    def _reference(self, solution: SolutionNotebook, nb: dict[str, Any]):
        try:
            cells = self.execute(assemble(nb, solution))
        except RunFailed as exc:
            return f"the solution notebook could not be run: {exc}"
        found, problems = judge.observations(cells), judge.cell_problems(cells)
        for qid, spec in solution.questions.items():
            if spec.written:
                continue
            if problems.get(qid) or not found.get(qid):
                why = problems.get(qid) or "its hidden cells observe nothing"
                return f"the solution's hidden tests for {qid} are broken: {why}"
        return found

    def grade(self, learner_path: Path) -> NotebookScore:
        """Grade one submission; every failure becomes a row, never an exception."""
        row = NotebookScore(str(learner_path), None, ERROR, seed=self.seed)
        row.student = self.roster.get(learner_path.resolve(), learner_path.stem)
        if not learner_path.is_file():
            row.message = "no such file"
            return row
        try:
            self._grade(learner_path, row)
        except Exception as exc:  # one bad submission must not stop the class's grading
            row.message = row.message or f"{type(exc).__name__}: {exc}"
        return row

    def _grade(self, learner_path: Path, row: NotebookScore) -> None:
        sol_path = match_solution(learner_path, self.solutions_dir)
        row.solution = str(sol_path)
        sol_nb = json.loads(sol_path.read_text(encoding="utf-8"))
        solution = parse_solution(sol_nb, str(sol_path))
        row.max_points = solution.auto_points
        row.questions = [
            QuestionScore(q.qid, q.points, None if q.written else 0, 0, 0, "not graded.")
            for q in solution.questions.values()
        ]
        try:
            learner = json.loads(learner_path.read_text(encoding="utf-8"))
            _check_learner(learner)
        except (ValueError, UnicodeDecodeError) as exc:
            row.message = f"not a valid notebook: {exc}"
            return
        written = [q.qid for q in solution.questions.values() if q.written]
        row.answers = manual.written_answers(learner, written)
        reference = self.reference(sol_path, solution, sol_nb)
        if isinstance(reference, str):
            row.message = reference
            return
        try:
            cells = self.execute(assemble(learner, solution))
        except RunFailed as exc:
            row.message = f"{exc}: the kernel did not start, or the run ran out of memory"
            return
        row.questions = _score(solution, reference, cells)
        row.points = sum(q.points or 0 for q in row.questions)
        row.status = GRADED


def _learner_problem(cells: list[dict[str, Any]], qid: str) -> str | None:
    """Why the learner's own cells of ``qid`` may explain a failure (an error, a hang)."""
    for cell in cells:
        if question_id(cell) != qid or cell.get("cell_type") != "code":
            continue
        status = cell.get("metadata", {}).get(GRADER_KEY, {}).get("status")
        if status and status != "ok":
            return f"your cell {status}"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if out.get("ename") == "NotImplementedError":
                    return "not answered yet: your code still raises NotImplementedError"
                return f"your cell raised {out.get('ename', 'an error')}"
    return None


def _score(
    solution: SolutionNotebook,
    reference: dict[str, list[judge.Observation]],
    cells: list[dict[str, Any]],
) -> list[QuestionScore]:
    found, problems = judge.observations(cells), judge.cell_problems(cells)
    scores = []
    for qid, spec in solution.questions.items():
        if spec.written:
            scores.append(QuestionScore(qid, spec.points, None, 0, 0, "graded by hand."))
            continue
        want = reference.get(qid, [])
        passed, problem = judge.verdict(want, found.get(qid, []))
        if problem is None:
            scores.append(
                QuestionScore(qid, spec.points, spec.points, passed, len(want), "correct.")
            )
            continue
        if "raised NotImplementedError" in problem:
            problem = "not answered yet: your code still raises NotImplementedError"
        notes = [n for n in (_learner_problem(cells, qid), problems.get(qid), problem) if n]
        if not any(question_id(c) == qid for c in cells):
            notes.insert(0, f"no cell tagged question:{qid} (deleted?)")
        feedback = "; ".join(dict.fromkeys(notes)) + "."
        scores.append(QuestionScore(qid, spec.points, 0, passed, len(want), feedback))
    return scores


def grade_notebook(
    learner_path: Path,
    solutions_dir: Path,
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    use_sandbox: bool = True,
    seed: int | None = None,
) -> NotebookScore:
    """Grade one submission in a grading run of its own."""
    grader = Grader(solutions_dir, timeout=timeout, use_sandbox=use_sandbox, seed=seed)
    return grader.grade(learner_path)


def grade_all(
    paths: list[Path],
    grader: Grader,
    *,
    jobs: int = 2,
    on_done: Callable[[NotebookScore], None] | None = None,
) -> list[NotebookScore]:
    """Grade every notebook in ``paths`` (files or folders), ``jobs`` sandboxes at a time.

    Rows come back in input order; ``on_done`` is called as each notebook finishes (progress).
    """
    notebooks = collect_notebooks(paths)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grader.grade, p) for p in notebooks]
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        return [f.result() for f in futures]
