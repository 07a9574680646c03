"""The labs as exercise sets: self-checks judge a class with the lab checker, never reveal a fix.

Also runs the classes written in the solution notebooks (the learner's side of the lab)
outside any kernel, against more seeds than the notebooks' own hidden tests, and checks that
the curriculum map lists a lab next to the chapter its title cell links to.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import razorlab.labs as lab
from razorlab.course.catalog import lab_chapter, render_map
from razorlab.grading import Checker
from razorlab.grading.build import build_exercise, read_notebook
from razorlab.grading.checks.labs_payments import SELF_CHECK_SEED
from razorlab.grading.notebook_tags import is_hidden_tests, parse_solution, question_id

REPO = Path(__file__).resolve().parents[1]
LABS = {
    "payments": ("labs_payments", REPO / "solutions/labs/01_idempotent_payments_lab.ipynb"),
    "seats": ("labs_seats", REPO / "solutions/labs/02_seat_holds_lab.ipynb"),
    "ledger": ("labs_ledger", REPO / "solutions/labs/03_ledger_lab.ipynb"),
    "messaging": ("labs_messaging", REPO / "solutions/labs/04_message_delivery_lab.ipynb"),
}
REFERENCE = {"payments": lab.ReferencePayments, "seats": lab.ReferenceSeats,
             "ledger": lab.ReferenceLedger, "messaging": lab.ReferenceMessages}  # fmt: skip
SEED_DESIGN = {"payments": lab.SeedPayments, "seats": lab.SeedSeats, "ledger": lab.SeedLedger,
               "messaging": lab.SeedMessages}  # fmt: skip
LEARNER_CLASS = {"payments": "MyPayments", "seats": "MySeats", "ledger": "MyLedger",
                 "messaging": "MyMessages"}  # fmt: skip


def _learner_class(name: str) -> type:
    """The notebook's answer: its imports cell and every q1 solution cell, run in order."""
    nb = read_notebook(LABS[name][1])
    namespace: dict[str, object] = {}
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        wanted = (
            source.startswith("import")
            and "import razorlab.labs as lab" in source
            or (question_id(cell) == "q1" and "# BEGIN SOLUTION" in source)
        )
        if cell["cell_type"] == "code" and wanted and not is_hidden_tests(cell):
            exec(compile(source, f"{LABS[name][1].name}", "exec"), namespace)  # noqa: S102
    return namespace[LEARNER_CLASS[name]]  # type: ignore[return-value]


@pytest.mark.parametrize("name", sorted(LABS))
def test_the_notebooks_answer_passes_seeds_its_hidden_tests_do_not_run(name):
    impl = _learner_class(name)
    for seed in (11, 12):
        verdict = lab.check(impl, lab=name, runs=150, seed=seed, shrink=False)
        assert verdict.passed, f"the notebook's {impl.__name__} breaks seed {seed}: {verdict}"


@pytest.mark.parametrize("name", sorted(LABS))
def test_a_correct_class_passes_its_self_check(name):
    class Mine(REFERENCE[name]):  # a learner's own class that happens to be right
        pass

    feedback = Checker(LABS[name][0])("q1", Mine)
    assert feedback.passed, feedback.message
    assert repr(feedback) == "✅ q1: correct."


@pytest.mark.parametrize("name", sorted(LABS))
def test_a_broken_class_hears_which_invariant_broke_and_how_to_replay_it(name):
    class Mine(SEED_DESIGN[name]):
        pass

    feedback = Checker(LABS[name][0])("q1", Mine)
    assert not feedback.passed
    verdict = lab.check(Mine, lab=name, runs=100, seed=SELF_CHECK_SEED, shrink=False)
    assert f"`{verdict.invariant}`" in feedback.message, "names the broken invariant"
    assert f"seed={SELF_CHECK_SEED}" in feedback.message, "says how to replay it"
    assert "def " not in feedback.message and "put_if_absent" not in feedback.message, "no fix"
    assert repr(feedback).startswith("❌ q1: ")


@pytest.mark.parametrize("name", sorted(LABS))
def test_razorlabs_own_classes_do_not_count_as_an_answer(name):
    for own in (REFERENCE[name], SEED_DESIGN[name]):
        feedback = Checker(LABS[name][0])("q1", own)
        assert not feedback.passed and "razorlab's own class" in feedback.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lab.ReferencePayments(None, None, None), "pass your class itself"),  # type: ignore[arg-type]
        ("MyPayments", "pass your class itself"),
        (type("NoMethods", (), {}), "could not run your class"),
    ],
)
def test_answers_that_are_not_a_fitting_class_get_a_hint(answer, hint):
    feedback = Checker("labs_payments")("q1", answer)
    assert not feedback.passed and hint in feedback.message, feedback.message


def test_a_class_that_raises_is_told_where():
    class Raises(lab.ReferencePayments):
        async def create_payment(self, key, amount_paise):
            raise KeyError(key)

    feedback = Checker("labs_payments")("q1", Raises)
    assert not feedback.passed
    assert "raised in" in feedback.message and "create_payment" in feedback.message


async def test_the_self_check_works_inside_a_running_event_loop():
    """A notebook's kernel runs an event loop; the checker must not try to start a second."""
    asyncio.get_running_loop()  # this test runs inside one, as a notebook cell does
    assert Checker("labs_seats")("q1", type("Mine", (lab.ReferenceSeats,), {})).passed


@pytest.mark.parametrize("name", sorted(LABS))
def test_the_lab_notebooks_are_one_question_with_hidden_tests(name):
    exercise_set, path = LABS[name]
    nb = read_notebook(path)
    parsed = parse_solution(nb, path.name)
    assert parsed.exercise_set == exercise_set
    assert list(parsed.questions) == ["q1"] and parsed.hidden_tests["q1"]
    learner = json.dumps(build_exercise(nb, path.name))
    assert "BEGIN SOLUTION" not in learner and "put_if_absent(name" not in learner


def _notebook(path: Path, title_cell: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [title_cell]}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}), encoding="utf-8")


def test_the_map_lists_a_lab_next_to_the_chapter_its_title_links_to(tmp_path):
    _notebook(tmp_path / "curriculum/round2_system_design/01_gw.ipynb", "# Gateway\n\nPays.")
    _notebook(tmp_path / "curriculum/more_scenarios/01_tix.ipynb", "# Tickets\n\nSeats.")
    link = "../../curriculum/more_scenarios/01_tix.ipynb"
    _notebook(tmp_path / "exercises/labs/02_seats_lab.ipynb", f"# Lab\n\nSee [it]({link}).")
    _notebook(tmp_path / "exercises/labs/03_orphan_lab.ipynb", "# Lab\n\nNo chapter link.")
    assert lab_chapter(tmp_path, tmp_path / "exercises/labs/02_seats_lab.ipynb") == Path(
        "curriculum/more_scenarios/01_tix.ipynb"
    )
    lines = render_map(tmp_path, link_prefix="../").splitlines()
    tickets = next(line for line in lines if "[Tickets]" in line)
    assert "· [lab](../exercises/labs/02_seats_lab.ipynb)" in tickets
    assert not any("orphan" in line for line in lines), "a lab with no chapter link is left out"
    assert "lab" not in next(line for line in lines if "[Gateway]" in line)
