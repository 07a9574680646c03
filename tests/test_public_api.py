"""Each sub-package's curated API (``__all__``) resolves: learners import from one place."""

import importlib
import pkgutil

import pytest

import razorlab

PACKAGES = sorted(
    m.name
    for m in pkgutil.walk_packages(razorlab.__path__, "razorlab.")
    if m.ispkg and "checks" not in m.name
)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} should declare __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
