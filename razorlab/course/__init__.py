"""Curriculum tooling: executing notebooks reproducibly and the generated curriculum map."""

from razorlab.course.catalog import Chapter, chapters, render_map, update_map
from razorlab.course.execute import execute_all, execute_notebook, find_notebooks

__all__ = [
    "Chapter",
    "chapters",
    "render_map",
    "update_map",
    "execute_all",
    "execute_notebook",
    "find_notebooks",
]
