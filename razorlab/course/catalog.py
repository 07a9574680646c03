"""The curriculum map, generated from the notebooks themselves.

A map written by hand goes stale the day a notebook is renamed; this one is read
from each notebook's ``#`` title and the first paragraph under it, rendered as
Markdown, and written into README.md and ``curriculum/00_start_here.ipynb``
between markers. ``razorlab map --check`` fails when either is out of date.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SECTIONS", "Chapter", "chapters", "render_map", "update_map", "MAP_START", "MAP_END"]

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


@dataclass(frozen=True)
class Chapter:
    path: Path  # relative to the repository root
    title: str
    summary: str
    exercises: Path | None  # the student exercise notebook, if the chapter has one


def _title_and_summary(nb_path: Path) -> tuple[str, str]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"]).strip()
        if text.startswith("# "):
            title, _, rest = text.partition("\n")
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", rest) if p.strip()]
            summary = " ".join(paragraphs[0].split()) if paragraphs else ""
            return title[2:].strip(), summary
    raise ValueError(f"{nb_path}: no '# Title' markdown cell")


def chapters(root: Path) -> list[Chapter]:
    """Every curriculum notebook, in section order then file order."""
    found = []
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
                    rel, title, summary, exercise.relative_to(root) if exercise.exists() else None
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
