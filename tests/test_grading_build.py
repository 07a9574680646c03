"""`razorlab exercises build`: learner notebooks derived from solutions, byte-for-byte stable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from razorlab.cli import main
from razorlab.grading.build import build_all, build_exercise, notebook_json, read_notebook
from razorlab.grading.notebook_tags import cell_source, cell_tags, is_hidden_tests, question_id

FIXTURE = Path(__file__).parent / "fixtures" / "grading" / "solutions" / "fx_exercises.ipynb"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def exercise() -> dict:
    return build_exercise(read_notebook(FIXTURE), "fx_exercises.ipynb")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "solutions" / "unit1").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "solutions" / "unit1" / "fx_exercises.ipynb")
    return tmp_path


def test_hidden_tests_and_solutions_never_reach_the_learner(exercise):
    text = notebook_json(exercise)
    assert "hidden-tests" not in text and "assert " not in text
    assert 'percent("1.99")' not in text and "return Money(paise).format()" not in text
    assert "binary floats" not in text  # the written answer
    assert 'raise NotImplementedError(\\"q1: your code here\\")' in text
    assert "_Your answer here._" in text


def test_outputs_and_execution_counts_are_cleared_and_tags_kept(exercise):
    code = [c for c in exercise["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert [question_id(c) for c in exercise["cells"]] == [
        None, None, "q1", "q1", "q2", "q2", "q3",
    ]  # fmt: skip
    assert cell_tags(exercise["cells"][2]) == ["question:q1", "points:1"]
    assert exercise["metadata"]["kernelspec"]["name"] == "python3"


def test_cell_ids_are_those_of_the_solution(exercise):
    solution = read_notebook(FIXTURE)
    kept = [c["id"] for c in solution["cells"] if not is_hidden_tests(c)]
    assert [c["id"] for c in exercise["cells"]] == kept


def test_output_is_a_valid_notebook_written_like_nbformat(exercise):
    text = notebook_json(exercise)
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert text == nbformat.writes(nb) + "\n"
    assert notebook_json(build_exercise(read_notebook(FIXTURE), "x")) == text  # deterministic


def test_stub_keeps_the_code_after_the_solution_region(exercise):
    assert cell_source(exercise["cells"][4]) == (
        'raise NotImplementedError("q2: your code here")\nfee(Money(10_000))'
    )


def test_build_writes_missing_exercises_then_check_passes(root):
    report = build_all(root)
    target = Path("exercises/unit1/fx_exercises.ipynb")
    assert report.missing == [target] and report.written == [target]
    first = (root / target).read_bytes()
    assert build_all(root, check=True).up_to_date
    build_all(root)
    assert (root / target).read_bytes() == first  # byte-identical on rebuild


def test_check_reports_stale_missing_and_extra_and_writes_nothing(root):
    build_all(root)
    solution = root / "solutions" / "unit1" / "fx_exercises.ipynb"
    nb = read_notebook(solution)
    nb["cells"][0]["source"] = "# Fixture exercises, edited"
    solution.write_text(json.dumps(nb), encoding="utf-8")
    shutil.copy(solution, root / "solutions" / "new_exercises.ipynb")
    (root / "exercises" / "old_exercises.ipynb").write_text("{}", encoding="utf-8")
    before = (root / "exercises" / "unit1" / "fx_exercises.ipynb").read_bytes()

    report = build_all(root, check=True)
    assert report.stale == [Path("exercises/unit1/fx_exercises.ipynb")]
    assert report.missing == [Path("exercises/new_exercises.ipynb")]
    assert report.extra == [Path("exercises/old_exercises.ipynb")]
    assert not report.up_to_date and not report.written
    assert (root / "exercises" / "unit1" / "fx_exercises.ipynb").read_bytes() == before
    assert not (root / "exercises" / "new_exercises.ipynb").exists()


def test_extra_exercises_are_deleted_only_with_prune(root):
    build_all(root)
    extra = root / "exercises" / "old_exercises.ipynb"
    extra.write_text("{}", encoding="utf-8")
    assert build_all(root).extra == [Path("exercises/old_exercises.ipynb")] and extra.exists()
    assert build_all(root, prune=True).removed == [Path("exercises/old_exercises.ipynb")]
    assert not extra.exists()


def test_cli_check_exits_1_listing_stale_files_and_0_once_built(root, capsys):
    assert main(["exercises", "build", "--check", "--root", str(root)]) == 1
    assert "missing: exercises/unit1/fx_exercises.ipynb" in capsys.readouterr().out
    assert main(["exercises", "build", "--root", str(root)]) == 0
    assert main(["exercises", "build", "--check", "--root", str(root)]) == 0


def test_a_bad_mark_is_named_by_notebook_and_cell_and_does_not_block_the_rest(root, capsys):
    bad = root / "solutions" / "bad_exercises.ipynb"
    nb = read_notebook(FIXTURE)
    nb["cells"][4]["metadata"]["tags"] = ["hidden-tests"]
    bad.write_text(json.dumps(nb), encoding="utf-8")
    assert main(["exercises", "build", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "solutions/bad_exercises.ipynb cell 4 (id fx-4)" in err and "no question" in err
    assert (root / "exercises" / "unit1" / "fx_exercises.ipynb").exists()  # the others are built
    assert not (root / "exercises" / "bad_exercises.ipynb").exists()


def test_a_solution_that_is_not_json_is_named_in_the_errors(root):
    (root / "solutions" / "junk_exercises.ipynb").write_text("{", encoding="utf-8")
    report = build_all(root)
    assert report.errors[0].startswith("solutions/junk_exercises.ipynb: not a valid notebook")
    assert report.written == [Path("exercises/unit1/fx_exercises.ipynb")]


def test_every_repo_solution_has_an_up_to_date_exercise():
    report = build_all(REPO, check=True)
    assert not report.errors, report.errors
    stale = report.stale + report.missing + report.extra
    assert not stale, f"exercises/ is out of date, run `razorlab exercises build`: {stale}"
