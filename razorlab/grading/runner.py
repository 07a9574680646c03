"""Execute one notebook cell by cell so that partial work counts: ``python -m ...runner IN OUT``.

This runs inside the sandbox (``sandbox.py``), one process per submission. It executes the
cells in order in a Jupyter kernel and writes the executed notebook to ``OUT``; the grader
reads the hidden cells' observations from it.

Design note
-----------
- **A cell that hangs or kills the kernel costs that cell, not the notebook.** Each cell has
  its own time limit. On a timeout or a dead kernel (``os._exit``, out of memory) the cell is
  marked (``status`` in its ``razorlab_grader`` metadata), a fresh kernel starts, the learner
  cells that had run cleanly are replayed silently to rebuild the state, and execution goes
  on with the next cell. A restart rather than an interrupt, because code can ignore SIGINT.
- **One budget for the whole notebook**, replays and restarts included. When it is spent, the
  remaining cells are marked ``not run``. The executed notebook is written after every cell, so
  a run killed from outside still leaves what it had done.
- **Outputs are capped** (:data:`MAX_OUTPUT_CHARS` of stream text per cell): a cell printing
  gigabytes cannot exhaust the runner's memory and lose the whole notebook.
- Cells the grader inserted (hidden tests) are never replayed: their outputs are already
  recorded, and replaying would observe twice.
"""

# ruff: noqa: E402  (one import must be blocked before nbformat is imported)
from __future__ import annotations

import sys

if __name__ == "__main__":
    # jsonschema builds rfc3987_syntax's IRI grammar on import when it is installed (~4 s here);
    # notebook validation never checks IRIs, so the runner, started once per run, skips it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

import argparse
import asyncio
import copy
import logging
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

__all__ = ["GRADER_KEY", "OK", "TIMED_OUT", "DIED", "NOT_RUN", "run_notebook", "main"]

GRADER_KEY = "razorlab_grader"  # cell metadata: the grader's marks and the run's statuses
OK, TIMED_OUT, DIED, NOT_RUN = "ok", "timed out", "kernel died", "not run"
KERNEL_START_TIMEOUT_S = 120
MAX_OUTPUT_CHARS = 1_000_000  # stream text kept per cell; the rest is dropped
_LOG = logging.getLogger("razorlab.grading.runner")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False


def _mark(cell: nbformat.NotebookNode, status: str) -> None:
    cell.setdefault("metadata", {}).setdefault(GRADER_KEY, {})["status"] = status


def _inserted(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get(GRADER_KEY, {}).get("hidden"))


class _CappedClient(NotebookClient):
    """nbclient that keeps at most :data:`MAX_OUTPUT_CHARS` of stream text per cell."""

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
        if msg.get("msg_type") == "stream":
            kept = sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
            if kept + len(msg["content"].get("text", "")) > MAX_OUTPUT_CHARS:
                return None
        return super().output(outs, msg, display_id, cell_index)


class _Run:
    def __init__(
        self,
        nb: nbformat.NotebookNode,
        cell_timeout: float,
        budget: float,
        save: Callable[[nbformat.NotebookNode], None],
    ):
        self.nb = nb
        self.cell_timeout = cell_timeout
        self.deadline = time.monotonic() + budget
        self.save = save
        self.clean: list[int] = []  # learner cells that ran without a timeout or a death

    def _client(self) -> NotebookClient:
        return _CappedClient(
            self.nb,
            timeout=self.cell_timeout,
            startup_timeout=KERNEL_START_TIMEOUT_S,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            shutdown_kernel="immediate",
            log=_LOG,
        )

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    async def _replay(self, client: NotebookClient) -> bool:
        """Re-run the clean learner cells on a fresh kernel; False if that fails too."""
        for index in self.clean:
            if self._left() <= 0:
                return False
            client.timeout = max(1, int(min(self.cell_timeout, self._left())))
            scratch = copy.deepcopy(self.nb.cells[index])
            try:
                await client.async_execute_cell(scratch, index)
            except (CellTimeoutError, DeadKernelError):
                return False
        return True

    async def _session(self, start: int) -> int:
        """Execute from ``start`` on one kernel; the index to resume at, or len(cells)."""
        client = self._client()
        async with client.async_setup_kernel():
            if start and not await self._replay(client):
                return len(self.nb.cells)
            for index in range(start, len(self.nb.cells)):
                cell = self.nb.cells[index]
                if cell.cell_type != "code":
                    continue
                if self._left() <= 0:
                    return index
                client.timeout = max(1, int(min(self.cell_timeout, self._left())))
                try:
                    await client.async_execute_cell(cell, index)
                except CellTimeoutError:
                    _mark(cell, TIMED_OUT)
                    return index + 1
                except DeadKernelError:
                    _mark(cell, DIED)
                    return index + 1
                finally:
                    self.save(self.nb)
                _mark(cell, OK)
                if not _inserted(cell):
                    self.clean.append(index)
        return len(self.nb.cells)

    async def run(self) -> None:
        index = 0
        while index < len(self.nb.cells) and self._left() > 0:
            index = await self._session(index)
        for cell in self.nb.cells[index:]:
            if cell.cell_type == "code" and "status" not in cell.metadata.get(GRADER_KEY, {}):
                _mark(cell, NOT_RUN)


def run_notebook(
    nb: nbformat.NotebookNode,
    cell_timeout: float,
    budget: float,
    save: Callable[[nbformat.NotebookNode], None] = lambda nb: None,
) -> None:
    """Execute ``nb`` in place (see the module note), calling ``save`` after every cell."""
    run = _Run(nb, cell_timeout, budget, save)
    asyncio.run(run.run())
    save(nb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m razorlab.grading.runner")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--budget", type=float, required=True)
    args = parser.parse_args(argv)
    nb = nbformat.read(args.notebook, as_version=4)

    def save(executed: nbformat.NotebookNode) -> None:
        partial = args.output.with_suffix(".partial")
        nbformat.write(executed, partial)
        partial.replace(args.output)  # atomic: the grader never reads half a file

    run_notebook(nb, args.cell_timeout, args.budget, save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
