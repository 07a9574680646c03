"""Both ways to install give the locked versions, which agree with pyproject.toml; the
curriculum map is current."""

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from razorlab.course.catalog import update_map

ROOT = Path(__file__).resolve().parent.parent


def test_python_floor_is_the_same():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (ROOT / "environment.yml").read_text()


def test_curriculum_map_is_current():
    stale = update_map(ROOT, check=True)
    assert not stale, f"run `razorlab map`: stale {stale}"


def _locked() -> dict[str, list[tuple[str, str]]]:
    """Package -> [(version, environment marker)] from requirements.lock."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            pin, _, marker = line.partition(";")
            name, version = pin.strip().split("==")
            pins.setdefault(name.lower().replace("_", "-"), []).append((version, marker.strip()))
    return pins


def test_lock_pins_every_dependency_inside_pyproject_ranges():
    """`make test` installs the lock: it must agree with what pyproject.toml promises."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    locked = _locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in (
        project["dependencies"]
        + project["optional-dependencies"]["lab"]
        + project["optional-dependencies"]["test"]
    ):
        req = Requirement(text)
        if req.marker and not req.marker.evaluate():
            continue
        name = req.name.lower().replace("_", "-")
        assert name in locked, f"{name} is in pyproject.toml but not in requirements.lock"
        here = [v for v, m in locked[name] if not m or Marker(m).evaluate()]
        assert len(here) == 1, f"{name}: {len(here)} pins apply to this Python"
        assert req.specifier.contains(here[0], prereleases=True), (
            f"{name}=={here[0]} in requirements.lock is outside pyproject.toml's {req.specifier}"
        )


def test_this_environment_runs_the_locked_versions():
    """Notebooks were executed with the lock; a drifted venv would compare other outputs."""
    from importlib.metadata import version

    from packaging.markers import Marker

    for name in ("numpy", "pandas", "plotly", "ipywidgets", "nbval"):
        (pin,) = [v for v, m in _locked()[name] if not m or Marker(m).evaluate()]
        assert version(name) == pin, f"{name} {version(name)} installed, {pin} locked: make install"


def test_conda_route_installs_the_lock():
    assert "- -r requirements.lock" in (ROOT / "environment.yml").read_text()
