"""The curriculum map, generated from the notebooks themselves.

A map written by hand goes stale the day a notebook is renamed; this one is read
from each notebook's ``#`` title and the first paragraph under it, rendered as
Markdown, and written into README.md and ``curriculum/00_start_here.ipynb``
between markers. ``razorlab map --check`` fails when either is out of date.

Labs (``exercises/labs/*.ipynb``, generated from ``solutions/labs/``) are listed next to
the chapter they belong to. A lab names its chapter the way a reader sees it: the first
link in its title cell that opens a curriculum notebook ("*Where this sits:* the lab of
[…](../../curriculum/…)"), so moving a lab means editing one link, not this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SECTIONS",
    "Chapter",
    "chapters",
    "lab_chapter",
    "render_map",
    "update_map",
    "MAP_START",
    "MAP_END",
]

#: Curriculum folders in teaching order, with the heading each gets in the map.
SECTIONS = {
    ".": "Start here",
    "round2_system_design": "Round 2 — system design",
    "round3_go_runtime": "Round 3 — the Go runtime",
    "round3_leadership": "Round 3 — leadership and operations",
    "razorpay_challenges": "Razorpay challenges",
    "more_scenarios": "More system design scenarios",
}
MAP_START = "<!-- curriculum-map:start -->"
MAP_END = "<!-- curriculum-map:end -->"
MAP_TAG = "curriculum-map"
LABS_DIR = Path("exercises") / "labs"  # learner versions of the labs, relative to the root
_NOTEBOOK_LINK = re.compile(r"\]\(\s*<?([^)\s>]+\.ipynb)>?\s*\)")


@dataclass(frozen=True)
class Chapter:
    path: Path  # relative to the repository root
    title: str
    summary: str
    exercises: Path | None  # the student exercise notebook, if the chapter has one
    labs: tuple[Path, ...] = ()  # lab notebooks (learner versions) that belong to this chapter


def _title_cell(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = "".join(cell["source"]).strip()
        if cell["cell_type"] == "markdown" and text.startswith("# "):
            return text
    raise ValueError(f"{nb_path}: no '# Title' markdown cell")


def _title_and_summary(nb_path: Path) -> tuple[str, str]:
    title, _, rest = _title_cell(nb_path).partition("\n")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", rest) if p.strip()]
    summary = " ".join(paragraphs[0].split()) if paragraphs else ""
    return title[2:].strip(), summary


def lab_chapter(root: Path, lab_path: Path) -> Path | None:
    """The chapter (relative to ``root``) a lab belongs to: its title cell's first link to
    a notebook under ``curriculum/`` that exists; ``None`` if it links to none."""
    root = root.resolve()
    for link in _NOTEBOOK_LINK.findall(_title_cell(lab_path)):
        target = (lab_path.parent / link).resolve()
        if target.is_file() and target.is_relative_to(root / "curriculum"):
            return target.relative_to(root)
    return None


def _labs_by_chapter(root: Path) -> dict[Path, list[Path]]:
    found: dict[Path, list[Path]] = {}
    for lab in sorted((root / LABS_DIR).glob("*.ipynb")):
        chapter = lab_chapter(root, lab)
        if chapter is not None:
            found.setdefault(chapter, []).append(lab.relative_to(root))
    return found


def chapters(root: Path) -> list[Chapter]:
    """Every curriculum notebook, in section order then file order."""
    found = []
    labs = _labs_by_chapter(root)
    for folder in SECTIONS:
        base = root / "curriculum" / folder
        for nb_path in sorted(base.glob("*.ipynb")):
            rel = nb_path.relative_to(root)
            title, summary = _title_and_summary(nb_path)
            exercise = (
                root
                / "exercises"
                / rel.relative_to("curriculum").with_name(f"{nb_path.stem}_exercises.ipynb")
            )
            found.append(
                Chapter(
                    rel,
                    title,
                    summary,
                    exercise.relative_to(root) if exercise.exists() else None,
                    tuple(labs.get(rel, ())),
                )
            )
    return found


def render_map(root: Path, link_prefix: str = "") -> str:
    """Markdown map; ``link_prefix`` makes links relative to where the map is shown."""
    lines = []
    by_section: dict[str, list[Chapter]] = {}
    for ch in chapters(root):
        folder = str(ch.path.parent.relative_to("curriculum"))
        by_section.setdefault(folder, []).append(ch)
    for folder, heading in SECTIONS.items():
        if folder not in by_section:
            continue
        lines.append(f"**{heading}**\n")
        for ch in by_section[folder]:
            entry = f"- [{ch.title}]({link_prefix}{ch.path.as_posix()})"
            if ch.exercises:
                entry += f" · [exercises]({link_prefix}{ch.exercises.as_posix()})"
            for n, lab in enumerate(ch.labs, start=1):
                name = "lab" if len(ch.labs) == 1 else f"lab {n}"
                entry += f" · [{name}]({link_prefix}{lab.as_posix()})"
            lines.append(f"{entry} — {ch.summary}" if ch.summary else entry)
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def _replace_between(text: str, body: str) -> str:
    pattern = re.compile(re.escape(MAP_START) + ".*?" + re.escape(MAP_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"markers {MAP_START} … {MAP_END} not found")
    return pattern.sub(lambda _: f"{MAP_START}\n{body}{MAP_END}", text)


def update_map(root: Path, check: bool = False) -> list[Path]:
    """Write the map into README and the start-here notebook; return the files that were stale."""
    stale = []
    readme = root / "README.md"
    new_readme = _replace_between(readme.read_text(encoding="utf-8"), render_map(root))
    if new_readme != readme.read_text(encoding="utf-8"):
        stale.append(readme)
        if not check:
            readme.write_text(new_readme, encoding="utf-8")
    start = root / "curriculum" / "00_start_here.ipynb"
    nb = json.loads(start.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if MAP_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{start}: expected one markdown cell tagged {MAP_TAG!r}")
    body = f"{MAP_START}\n{render_map(root, link_prefix='../')}{MAP_END}"
    if "".join(cells[0]["source"]) != body:
        stale.append(start)
        if not check:
            cells[0]["source"] = body.splitlines(keepends=True)
            start.write_text(
                json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
    return stale
