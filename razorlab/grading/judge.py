"""The grader's verdict: the learner's observations against the reference run's, per question.

Both runs execute the same hidden cells with the same hidden seed: the reference on the
instructor's solution notebook, the learner's on the submission (``observe.py``). This module
reads the observations out of the executed notebooks and compares them in the grader's own
process, with the tolerances the *reference* declared.

Design note
-----------
- A question earns its points when every reference observation has a learner observation of
  the same name whose value matches: numbers within the tolerance (``bool`` is not a number),
  strings exactly, lists element by element, mappings key by key.
- Feedback names the case and says how it is off ("too high", "a different value", "raised
  TypeError") but never shows the expected value.
- A hidden cell of the learner's run that raised, timed out or was not reached explains the
  missing observations.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from typing import Any

from razorlab.grading.observe import MARK
from razorlab.grading.runner import GRADER_KEY, OK

__all__ = ["Observation", "observations", "cell_problems", "mismatch", "verdict"]

Cell = dict[str, Any]
_MAX_MESSAGE = 160


@dataclass(frozen=True)
class Observation:
    name: str
    value: object
    rel: float
    abs: float


def _hidden_qid(cell: Cell) -> str | None:
    return cell.get("metadata", {}).get(GRADER_KEY, {}).get("hidden")


def _stdout(cell: Cell) -> str:
    return "".join(
        "".join(o["text"]) if isinstance(o.get("text"), list) else str(o.get("text", ""))
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def _parse(line: str) -> Observation | None:
    try:
        raw = json.loads(line[len(MARK) :])
        return Observation(str(raw["name"]), raw["value"], float(raw["rel"]), float(raw["abs"]))
    except (ValueError, KeyError, TypeError):
        return None


def observations(cells: list[Cell]) -> dict[str, list[Observation]]:
    """qid -> observations printed by the grader-inserted hidden cells, in order."""
    found: dict[str, list[Observation]] = {}
    for cell in cells:
        qid = _hidden_qid(cell)
        if qid is None:
            continue
        found.setdefault(qid, [])
        for line in _stdout(cell).splitlines():
            if line.startswith(MARK) and (obs := _parse(line)) is not None:
                found[qid].append(obs)
    return found


def cell_problems(cells: list[Cell]) -> dict[str, str]:
    """qid -> why its hidden cells did not finish (an error, a timeout, not run), if so."""
    problems: dict[str, str] = {}
    for cell in cells:
        qid = _hidden_qid(cell)
        if qid is None or qid in problems:
            continue
        status = cell.get("metadata", {}).get(GRADER_KEY, {}).get("status", OK)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if status != OK:
            problems[qid] = f"the hidden tests did not finish ({status})"
        elif errors:
            text = f"{errors[0].get('ename', 'Error')}: {errors[0].get('evalue', '')}"
            problems[qid] = "the hidden tests stopped on " + text.rstrip(": ")[:_MAX_MESSAGE]
    return problems


def _number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def mismatch(want: object, got: object, rel: float, abs_tol: float) -> str | None:
    """``None`` if ``got`` matches ``want``, else how it differs (never showing ``want``)."""
    if _number(want) and _number(got):
        if math.isclose(float(got), float(want), rel_tol=rel, abs_tol=abs_tol):
            return None
        return "too high" if got > want else "too low"
    if (
        isinstance(got, dict)
        and "raised" in got
        and not (isinstance(want, dict) and "raised" in want)
    ):
        return f"raised {got['raised']}"
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return "not the expected number of items"
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            if (why := mismatch(w, g, rel, abs_tol)) is not None:
                return f"item {i}: {why}"
        return None
    if isinstance(want, dict) and isinstance(got, dict):
        if set(want) != set(got):
            return "not the expected keys"
        for key in want:
            if (why := mismatch(want[key], got[key], rel, abs_tol)) is not None:
                return f"{key!r}: {why}"
        return None
    if type(want) is not type(got):
        return f"a {type(got).__name__} where another kind of value was expected"
    return None if want == got else "a different value"


def verdict(reference: list[Observation], learner: list[Observation]) -> tuple[int, str | None]:
    """(cases passed, first problem) of one question; all cases passed iff the problem is None."""
    by_name: dict[str, list[Observation]] = {}
    for obs in learner:
        by_name.setdefault(obs.name, []).append(obs)
    passed, problem = 0, None
    for ref in reference:
        mine = by_name.get(ref.name)
        if not mine:
            problem = problem or f"case '{ref.name}': no result"
            continue
        got = mine.pop(0)
        why = mismatch(ref.value, got.value, ref.rel, ref.abs)
        if why is None:
            passed += 1
        else:
            problem = problem or f"case '{ref.name}': {why}"
    return passed, problem
