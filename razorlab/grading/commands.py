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

from razorlab.grading.autograde import (
    DEFAULT_TIMEOUT_S,
    NotebookScore,
    QuestionScore,
    collect_notebooks,
    grade_all,
)
from razorlab.grading.build import build_all

__all__ = ["register", "score_table", "write_json", "write_csv", "write_feedback"]


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


def _grade(args: argparse.Namespace) -> int:
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
    done = 0

    def progress(row: NotebookScore) -> None:
        nonlocal done
        done += 1
        print(f"[{done}/{len(notebooks)}] {row.path}: {row.status}", file=sys.stderr)

    rows = grade_all(notebooks, solutions, timeout=args.timeout, jobs=args.jobs, on_done=progress)
    print(score_table(rows))
    counts = Counter(r.status for r in rows)
    noun = "notebook" if len(rows) == 1 else "notebooks"
    print(f"\n{len(rows)} {noun}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if args.json:
        write_json(rows, Path(args.json))
    if args.csv:
        write_csv(rows, Path(args.csv))
    if args.feedback:
        write_feedback(rows, Path(args.feedback))
    return 0


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
    gr.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
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
        "-j",
        "--jobs",
        type=int,
        default=2,
        help="notebooks graded at a time (default: %(default)s)",
    )
    gr.set_defaults(run=_grade)
