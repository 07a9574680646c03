"""A hostile class: every cheat an instructor's review found, graded in the sandbox.

Each submission below is the fixture solution with wrong answers (or right ones) and one
cheat. One module-scoped grading run grades them all, two at a time, as an instructor would;
the tests read its rows and check the instructor's files and the process table afterwards.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from razorlab.grading.autograde import GRADED, Grader, NotebookScore, grade_all
from razorlab.grading.build import notebook_json, read_notebook
from tests.grading_support import SOLUTIONS, USE_SANDBOX

pytestmark = pytest.mark.skipif(not USE_SANDBOX, reason="needs bwrap: apt-get install bubblewrap")

FIXTURE = SOLUTIONS / "fx_exercises.ipynb"
CHECKS = Path(__file__).resolve().parent.parent / "razorlab" / "grading" / "checks"
MARKER = "razorlab-adversarial-survivor"
WRONG_Q1 = 'def format_inr(paise):\n    return "₹" + str(paise)'
WRONG_Q2 = "def fee(amount):\n    return amount"
RIGHT_Q2 = 'def fee(amount):\n    mdr = amount.percent("1.99")\n    return mdr + mdr.percent("18")'


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _variant(answers: dict[str, str], extra: list[tuple[int, str]]) -> dict:
    """The fixture with question answers replaced and extra code cells inserted at positions."""
    nb = read_notebook(FIXTURE)
    for cell in nb["cells"]:
        tags = cell["metadata"].get("tags", [])
        answer = any(t.startswith("points:") for t in tags)
        for qid, source in answers.items():
            if answer and f"question:{qid}" in tags:
                cell["source"] = source
    for position, source in sorted(extra, reverse=True):
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
        cell["id"] = f"cheat-{position}-{len(source)}"
        nb["cells"].insert(position, {**cell, "source": source})
    return nb


CHEATS = {
    # swallow every exception in the kernel and mark every self-check passed
    "custom_exc": _variant(
        {"q1": WRONG_Q1, "q2": WRONG_Q2},
        [
            (
                1,
                "from razorlab.grading import selfcheck\n"
                "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                "selfcheck.RESULTS.update({('start_here', q): True for q in ('q1', 'q2')})",
            )
        ],
    ),
    # print observation lines and patch the observer to claim huge tolerances
    "forged": _variant(
        {"q1": WRONG_Q1, "q2": WRONG_Q2},
        [
            (
                1,
                "import json\nfrom razorlab.grading import observe as ob\n"
                "real = ob.observe\n"
                "ob.observe = lambda name, value, **k: real(name, value, rel=1e9, abs=1e12)\n"
                "for n in ('format_inr(0)', 'fee on ₹1'):\n"
                "    print(ob.MARK + json.dumps({'name': n, 'value': 2, 'rel': 1e9, 'abs': 1e9}))",
            )
        ],
    ),
    # read the answer key, rewrite it, plant code in the package and outside the folder
    "reader": _variant(
        {"q1": WRONG_Q1, "q2": WRONG_Q2},
        [
            (
                1,
                "import pathlib\nfound = []\n"
                f"for path in [{str(FIXTURE)!r}, {str(CHECKS / 'planted.py')!r}]:\n"
                "    try:\n"
                "        pathlib.Path(path).write_text('{}')\n"
                "        found.append(path)\n"
                "    except OSError:\n"
                "        pass\n"
                f"solutions = list(pathlib.Path({str(SOLUTIONS)!r}).glob('*'))",
            )
        ],
    ),
    # a process that outlives the kernel and rewrites the report later
    "survivor": _variant(
        {"q1": WRONG_Q1, "q2": WRONG_Q2},
        [
            (
                1,
                "import subprocess, sys\n"
                "subprocess.Popen([sys.executable, '-c', 'import time, sys; time.sleep(4); "
                'open(sys.argv[1], "w").write("13/13")\', \'{forged}\', '
                f"'{MARKER}'], start_new_session=True)",
            )
        ],
    ),
    # right answers, a kernel killed between them, a loop that ignores Ctrl-C, a memory hog, 30 MB
    # of output
    "crashes": _variant(
        {"q2": RIGHT_Q2},
        [
            (4, "import os\nos._exit(1)"),
            (
                4,
                "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
            ),
            (4, "hog = bytearray(40 << 30)"),
            (4, "for _ in range(30):\n    print('x' * 1_000_000)"),
        ],
    ),
    # right answers, with learner names that a hidden cell also uses
    "shadowing": _variant(
        {"q2": RIGHT_Q2},
        [(len(read_notebook(FIXTURE)["cells"]), "observe = attempt = Money = None\npaise = -1")],
    ),
    "all_wrong_after_poison": _variant({"q1": WRONG_Q1, "q2": WRONG_Q2}, []),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict[str, NotebookScore], dict[str, str], Path]:
    folder = tmp_path_factory.mktemp("class")
    forged = folder / "forged.txt"
    before = {**_digest(SOLUTIONS), **_digest(CHECKS)}
    for name, nb in CHEATS.items():
        text = notebook_json(nb).replace("{forged}", str(forged))
        (folder / f"{name}_fx_exercises.ipynb").write_text(text, encoding="utf-8")
    grader = Grader(SOLUTIONS, timeout=90, cell_timeout=5, use_sandbox=True)
    rows = grade_all([folder], grader, jobs=2)
    time.sleep(5)  # a survivor would have written by now
    after = {**_digest(SOLUTIONS), **_digest(CHECKS)}
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {Path(r.path).name.split("_fx")[0]: r for r in rows}, {"changed": changed}, forged


def _points(row: NotebookScore) -> dict[str, int | None]:
    return {q.qid: q.points for q in row.questions}


@pytest.mark.parametrize("name", ["custom_exc", "forged", "reader", "survivor"])
def test_a_cheat_with_wrong_answers_scores_zero(graded, name):
    rows, _, _ = graded
    assert (rows[name].status, rows[name].points) == (GRADED, 0), rows[name]


def test_the_instructors_files_are_unchanged_and_nothing_was_planted(graded):
    _, files, _ = graded
    assert files["changed"] == set()


def test_nothing_outlives_grading(graded):
    _, _, forged = graded
    assert not forged.exists()
    alive = subprocess.run(["pgrep", "-f", MARKER], capture_output=True, text=True).stdout
    assert alive == ""


def test_a_submission_graded_after_a_poisoner_is_judged_on_its_own(graded):
    rows, _, _ = graded
    assert rows["all_wrong_after_poison"].points == 0


def test_crashes_and_hangs_cost_only_their_cells(graded):
    rows, _, _ = graded
    row = rows["crashes"]
    assert (row.status, _points(row)) == (GRADED, {"q1": 1, "q2": 2, "q3": None}), row


def test_learner_names_do_not_break_the_hidden_cells(graded):
    rows, _, _ = graded
    assert _points(rows["shadowing"]) == {"q1": 1, "q2": 2, "q3": None}


def test_reports_name_the_seed_and_never_the_expected_values(graded):
    rows, _, _ = graded
    text = json.dumps([q.feedback for r in rows.values() for q in r.questions])
    assert "₹0.00" not in text and "2 paise" not in text
    assert len({r.seed for r in rows.values()}) == 1
