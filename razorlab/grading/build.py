"""``razorlab exercises build``: learner notebooks generated from the solution notebooks.

``solutions/**/<stem>_exercises.ipynb`` is the single source of truth; the learner
version at the same relative path under ``exercises/`` is derived from it: solution
regions become ``raise NotImplementedError("q1: your code here")``, written answers
become a placeholder, hidden-tests cells are removed, outputs and execution counts
are cleared, metadata is cut to the tags (question ids survive, so the grader finds
the learner's cells wherever they move them).

Design note: the output is deterministic (same input, same bytes; JSON written the
way nbformat writes it), so ``--check`` can compare bytes and CI can prove that
``exercises/`` is up to date and that no solution or hidden test leaked into it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from razorlab.course.execute import KERNELSPEC
from razorlab.grading.notebook_tags import (
    NotebookFormatError,
    cell_source,
    cell_tags,
    is_hidden_tests,
    parse_solution,
    question_id,
    stub_answer,
    stub_solution,
)

__all__ = [
    "BuildReport",
    "EXERCISES_DIR",
    "SOLUTIONS_DIR",
    "build_exercise",
    "build_all",
    "find_solutions",
    "notebook_json",
    "read_notebook",
]

SOLUTIONS_DIR = "solutions"
EXERCISES_DIR = "exercises"
#: Learners open the generated notebook in JupyterLab: tell it which kernel to use. The
#: solution's ``language_info`` (what its kernel reported) is copied too: JupyterLab rewrites a
#: bare one when the kernel starts, and a notebook opened that way shows as modified at once.
LEARNER_METADATA = {
    "kernelspec": KERNELSPEC,
    "language_info": {"name": "python"},
}


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook's JSON as plain dicts (no nbformat normalisation, so nothing random)."""
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_json(nb: dict[str, Any]) -> str:
    """Serialise exactly as ``nbformat.write`` does (indent 1, sorted keys, source as lines)."""
    text = nbformat.writes(nbformat.from_dict(copy.deepcopy(nb)))
    return text if text.endswith("\n") else text + "\n"


def find_solutions(root: Path) -> list[Path]:
    """Every solution notebook under ``root/solutions``, checkpoints excluded, sorted."""
    base = root / SOLUTIONS_DIR
    return sorted(
        p for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.relative_to(base).parts
    )


def _learner_cell(cell: dict[str, Any], index: int, with_ids: bool) -> dict[str, Any]:
    kind = cell["cell_type"]
    source = cell_source(cell)
    if kind == "code":
        source = stub_solution(source, question_id(cell))
    elif kind == "markdown":
        source = stub_answer(source)
    tags = cell_tags(cell)
    out: dict[str, Any] = {"cell_type": kind, "metadata": {"tags": tags} if tags else {}}
    out["source"] = source
    if with_ids:
        out["id"] = cell.get("id") or f"cell-{index}"
    if kind == "code":
        out["execution_count"] = None
        out["outputs"] = []
    elif cell.get("attachments"):  # images pasted into Markdown live in the cell itself
        out["attachments"] = copy.deepcopy(cell["attachments"])
    return out


def _kept(metadata: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: metadata[k] for k in keys if k in metadata}


def build_exercise(solution: dict[str, Any], name: str) -> dict[str, Any]:
    """The learner notebook for ``solution`` (validated first; ``name`` appears in errors)."""
    parse_solution(solution, name)
    minor = int(solution.get("nbformat_minor", 5))
    with_ids = minor >= 5
    cells = [
        _learner_cell(cell, index, with_ids)
        for index, cell in enumerate(solution["cells"])
        if not is_hidden_tests(cell)
    ]
    return {
        "cells": cells,
        "metadata": copy.deepcopy(
            {**LEARNER_METADATA, **_kept(solution.get("metadata", {}), "language_info")}
        ),
        "nbformat": 4,
        "nbformat_minor": minor,
    }


@dataclass
class BuildReport:
    """What ``build_all`` found (and, unless checking, fixed); paths relative to the root."""

    written: list[Path] = field(default_factory=list)  # stale or missing, now (re)generated
    stale: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)  # in exercises/ with no solution
    removed: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # solutions whose marks are invalid

    @property
    def up_to_date(self) -> bool:
        return not (self.stale or self.missing or self.extra or self.errors)


def build_all(root: Path, *, check: bool = False, prune: bool = False) -> BuildReport:
    """Generate ``exercises/`` from ``solutions/``; with ``check`` only compare, write nothing.

    Notebooks under ``exercises/`` without a solution are reported as ``extra``; they are
    deleted only with ``prune`` (a learner may be working in one). A solution with invalid
    marks is reported in ``errors`` (its exercise is left as it was) and the others are built.
    """
    report = BuildReport()
    expected: set[Path] = set()
    for solution in find_solutions(root):
        rel = solution.relative_to(root / SOLUTIONS_DIR)
        target = root / EXERCISES_DIR / rel
        expected.add(target)
        name = str(solution.relative_to(root))
        try:
            learner = build_exercise(read_notebook(solution), name)
        except NotebookFormatError as exc:  # one bad notebook must not block the rest
            report.errors.append(str(exc))
            continue
        except ValueError as exc:  # not JSON at all
            report.errors.append(f"{name}: not a valid notebook: {exc}")
            continue
        text = notebook_json(learner)
        current = target.read_bytes() if target.exists() else None
        if current == text.encode("utf-8"):
            continue
        (report.missing if current is None else report.stale).append(target.relative_to(root))
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            report.written.append(target.relative_to(root))
    base = root / EXERCISES_DIR
    for path in sorted(base.rglob("*.ipynb")) if base.exists() else []:
        if ".ipynb_checkpoints" in path.relative_to(base).parts or path in expected:
            continue
        report.extra.append(path.relative_to(root))
        if prune and not check:
            path.unlink()
            report.removed.append(path.relative_to(root))
    return report
