"""The two ways to install agree, and the curriculum map is current."""

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from razorlab.course.catalog import update_map

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return {_name(r): r.split(";")[0].replace(" ", "") for r in reqs}


def _conda_requirements() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().split("dependencies:")[1].splitlines()
    reqs = [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    return {_name(r): r.replace(" ", "") for r in reqs if _name(r) not in {"python", "pip"}}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    assert _conda_requirements() == _pyproject_requirements()


def test_python_floor_is_the_same():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (ROOT / "environment.yml").read_text()


def test_curriculum_map_is_current():
    stale = update_map(ROOT, check=True)
    assert not stale, f"run `razorlab map`: stale {stale}"
