"""``razorlab exercises build`` and ``razorlab grade``: the instructor's two commands."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from razorlab.grading import gradebook, manual
from razorlab.grading.autograde import (
    DEFAULT_CELL_TIMEOUT_S,
    DEFAULT_TIMEOUT_S,
    Grader,
    NotebookScore,
    QuestionScore,
    collect_notebooks,
    grade_all,
)
from razorlab.grading.build import build_all
from razorlab.grading.sandbox import SandboxUnavailable

__all__ = [
    "register",
    "score_table",
    "write_json",
    "read_json",
    "write_csv",
    "write_feedback",
]


def _build(args: argparse.Namespace) -> int:
    report = build_all(Path(args.root), check=args.check, prune=args.prune)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    for label, paths in (
        ("stale" if args.check else "updated", report.stale),
        ("missing" if args.check else "created", report.missing),
        ("extra (no solution)", report.extra),
        ("removed", report.removed),
    ):
        for path in paths:
            print(f"{label}: {path}")
    if args.check and not report.up_to_date:
        print("exercises/ is out of date: run `razorlab exercises build`", file=sys.stderr)
        return 1
    return 1 if report.errors else 0


def _question_cell(q: QuestionScore) -> str:
    return f"{q.qid} manual" if q.points is None else f"{q.qid} {q.points}/{q.max_points}"


def score_table(rows: list[NotebookScore]) -> str:
    """A plain-text table: one line per notebook, its score, status and points per question."""
    header = ("notebook", "score", "questions", "status")
    lines = [
        (
            r.path,
            f"{r.points}/{r.max_points}" if r.status != "error" or r.max_points else "-",
            ", ".join(_question_cell(q) for q in r.questions) if r.status == "graded" else "",
            r.status + (f": {r.message}" if r.message else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    out = []
    for line in [header, *lines]:
        out.append("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(out)


def write_json(rows: list[NotebookScore], path: Path) -> None:
    """Every row with per-question points and feedback (safe to share: no hidden test source)."""
    data = {"notebooks": [asdict(r) for r in rows]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(rows: list[NotebookScore], path: Path) -> None:
    """One line per notebook, one column per question id (for a gradebook import)."""
    qids = list(dict.fromkeys(q.qid for r in rows for q in r.questions))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["notebook", "solution", "status", "points", "max_points", *qids, "message"]
        )
        for r in rows:
            per_q = {q.qid: "" if q.points is None else q.points for q in r.questions}
            writer.writerow(
                [r.path, r.solution or "", r.status, r.points, r.max_points]
                + [per_q.get(qid, "") for qid in qids]
                + [r.message]
            )


def write_feedback(rows: list[NotebookScore], folder: Path) -> list[Path]:
    """One Markdown report per notebook, safe to hand back (feedback strings only, no tests).

    Files mirror the submissions' paths below their common folder, ``x.ipynb`` -> ``x.md``.
    """
    base = Path(os.path.commonpath([Path(r.path).resolve().parent for r in rows]))
    written = []
    for r in rows:
        target = folder / Path(r.path).resolve().relative_to(base).with_suffix(".md")
        lines = [f"# Feedback on {Path(r.path).name}", ""]
        lines.append(f"Score: **{r.points}/{r.max_points}** ({r.status}).")
        if r.message:
            lines.append(f"\n{r.message}")
        lines += ["", "| question | points | feedback |", "|---|---|---|"]
        for q in r.questions:
            points = "graded by hand" if q.points is None else f"{q.points}/{q.max_points}"
            lines.append(f"| {q.qid} | {points} | {q.feedback.replace('|', '/')} |")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(target)
    return written


def read_json(path: Path) -> list[NotebookScore]:
    """Rows written by :func:`write_json` (to merge a sheet without grading again)."""
    rows = []
    for data in json.loads(path.read_text(encoding="utf-8"))["notebooks"]:
        questions = [QuestionScore(**q) for q in data.pop("questions")]
        rows.append(NotebookScore(**data, questions=questions))
    return rows


def _outputs(args: argparse.Namespace, rows: list[NotebookScore]) -> int:
    if args.merge_manual:
        try:
            merged = manual.merge_sheet(rows, Path(args.merge_manual))
        except (OSError, manual.SheetError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"merged {merged} hand-graded scores from {args.merge_manual}", file=sys.stderr)
    print(score_table(rows))
    counts = Counter(r.status for r in rows)
    noun = "notebook" if len(rows) == 1 else "notebooks"
    print(f"\n{len(rows)} {noun}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    writers = [
        (args.json, write_json),
        (args.csv, write_csv),
        (args.feedback, write_feedback),
        (args.manual_sheet, manual.write_sheet),
        (args.canvas, gradebook.write_canvas),
        (args.gradescope, gradebook.write_gradescope),
    ]
    for target, write in writers:
        if target:
            write(rows, Path(target))
    return 0


def _grade(args: argparse.Namespace) -> int:
    if args.from_json:
        return _outputs(args, read_json(Path(args.from_json)))
    solutions = Path(args.solutions)
    if not solutions.is_dir():
        print(
            f"error: solutions folder {solutions} not found (use --solutions DIR)", file=sys.stderr
        )
        return 2
    notebooks = collect_notebooks([Path(p) for p in args.paths])
    if not notebooks:
        print("error: no notebooks found in the given paths", file=sys.stderr)
        return 2
    try:
        roster = gradebook.read_roster(Path(args.roster), notebooks) if args.roster else {}
    except (OSError, gradebook.RosterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in notebooks:
        if args.roster and path.resolve() not in roster:
            print(f"warning: {path} is not on the roster", file=sys.stderr)
    try:
        grader = Grader(
            solutions,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            use_sandbox=not args.unsafe_no_sandbox,
            seed=args.seed,
            roster=roster,
        )
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"hidden seed {grader.seed} (re-grade with --seed {grader.seed})", file=sys.stderr)
    done = 0

    def progress(row: NotebookScore) -> None:
        nonlocal done
        done += 1
        print(f"[{done}/{len(notebooks)}] {row.path}: {row.status}", file=sys.stderr)

    rows = grade_all(notebooks, grader, jobs=args.jobs, on_done=progress)
    return _outputs(args, rows)


def register(sub: argparse._SubParsersAction) -> None:
    ex = sub.add_parser("exercises", help="learner exercise notebooks generated from solutions/")
    ex_sub = ex.add_subparsers(dest="exercises_command", required=True, metavar="ACTION")
    build = ex_sub.add_parser("build", help="write exercises/ from solutions/")
    build.add_argument("--root", default=".", help="repository root")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    build.add_argument(
        "--prune", action="store_true", help="delete exercises/ notebooks that have no solution"
    )
    build.set_defaults(run=_build)

    gr = sub.add_parser("grade", help="grade learners' notebooks with the hidden tests")
    gr.add_argument("paths", nargs="*", help="notebooks, or folders of notebooks")
    gr.add_argument(
        "--solutions", default="solutions", help="solution notebooks folder (default: %(default)s)"
    )
    gr.add_argument("--json", metavar="FILE", help="write scores and feedback as JSON")
    gr.add_argument("--csv", metavar="FILE", help="write one row per notebook as CSV")
    gr.add_argument(
        "--feedback", metavar="DIR", help="write a Markdown report per notebook for learners"
    )
    gr.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds per notebook, all cells together (default: %(default)s)",
    )
    gr.add_argument(
        "--cell-timeout",
        type=float,
        default=DEFAULT_CELL_TIMEOUT_S,
        help="seconds per cell; a cell over it is stopped and grading goes on (default: %(default)s)",
    )
    gr.add_argument(
        "--seed", type=int, help="hidden inputs' seed (default: drawn; printed and recorded)"
    )
    gr.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run notebooks without bubblewrap: only for notebooks you trust",
    )
    gr.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=2,
        help="notebooks graded at a time (default: %(default)s)",
    )
    gr.add_argument("--roster", metavar="CSV", help="student_id,file rows: name rows by student")
    gr.add_argument(
        "--manual-sheet", metavar="CSV", help="write the written answers to grade by hand"
    )
    gr.add_argument(
        "--merge-manual", metavar="CSV", help="fold a filled-in sheet's scores into the totals"
    )
    gr.add_argument(
        "--from-json", metavar="FILE", help="reuse a --json report instead of grading again"
    )
    gr.add_argument("--canvas", metavar="CSV", help="write a Canvas-style gradebook import")
    gr.add_argument("--gradescope", metavar="CSV", help="write a Gradescope-style score import")
    gr.set_defaults(run=_grade)
