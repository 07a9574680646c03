"""Re-execute notebooks in place so their stored outputs come from a top-to-bottom run.

The flags are the ones measured to give stable outputs under strict nbval: no
timing metadata, cell metadata cleared except tags (nbval's markers live there),
notebook metadata cleared but for the kernel's ``language_info``, then the kernelspec
stamped back: JupyterLab opens a notebook that names its kernel without asking, and
without marking it modified. nbval ignores notebook metadata and runs with
``--nbval-current-env``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["NOTEBOOK_DIRS", "KERNELSPEC", "find_notebooks", "execute_notebook", "execute_all"]

#: Folders whose notebooks are committed executed and checked by nbval.
NOTEBOOK_DIRS = ("curriculum", "solutions")
CELL_TIMEOUT_S = 300  # seconds one cell may run before execution is abandoned
#: The kernel every stored notebook names (ipykernel's default spec for the active Python).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def find_notebooks(root: Path, folders: Iterable[str] = NOTEBOOK_DIRS) -> list[Path]:
    """Every notebook under ``folders`` of ``root``, checkpoints excluded, in path order."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(path)
    return found


def execute_notebook(path: Path) -> subprocess.CompletedProcess[str]:
    """Execute one notebook in place with a fresh kernel of the current environment."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--inplace",
        "--ExecutePreprocessor.record_timing=False",
        f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}",
        "--ExecutePreprocessor.kernel_name=python3",
        "--ClearMetadataPreprocessor.enabled=True",
        "--ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags",
        "--ClearMetadataPreprocessor.preserve_nb_metadata_mask=language_info",
        str(path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        _stamp_kernelspec(path)
    return done


def _stamp_kernelspec(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"] = {"kernelspec": KERNELSPEC, **nb["metadata"]}
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")


def execute_all(
    paths: list[Path], workers: int = 2
) -> list[tuple[Path, subprocess.CompletedProcess[str]]]:
    """Execute ``paths`` with ``workers`` kernels at a time; returns each result."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(zip(paths, pool.map(execute_notebook, paths), strict=True))
