"""The model store: every trained model gets a version, and any version can be reloaded.

Scenario: a fraud team ships a new model weekly, and when chargebacks spike someone
asks "which model approved these, and with which thresholds?". A registry answers: it
keeps each model as a versioned, self-describing document (kind, features,
parameters, weights, plus the metrics and thresholds it shipped with), never
overwritten.

Design note: documents are JSON. Python's ``json`` writes floats as their shortest
round-tripping repr, so a reloaded model scores every payment to the same bit as the
one that was saved (tested). Files are written to a temporary name and renamed, so a
crash never leaves half a model; versions only go up. With ``root=None`` the registry
lives in memory, still storing JSON text, so tests exercise the same round trip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from razorlab.errors import NotFoundError, ValidationError
from razorlab.fraud.boosting import BoostedTrees
from razorlab.fraud.model import LogisticRegression

__all__ = ["ModelRegistry", "MODEL_KINDS", "model_from_dict"]

MODEL_KINDS = {cls.kind: cls for cls in (LogisticRegression, BoostedTrees)}


def model_from_dict(data: dict):
    """Rebuild a model from its ``to_dict`` document."""
    kind = data.get("kind")
    if kind not in MODEL_KINDS:
        raise ValidationError(f"unknown model kind {kind!r}", field="kind")
    return MODEL_KINDS[kind].from_dict(data)


class ModelRegistry:
    """Versioned model documents under ``root/<name>/v0001.json`` (or in memory)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else None
        self._memory: dict[str, dict[int, str]] = {}

    def versions(self, name: str) -> list[int]:
        if self.root is None:
            return sorted(self._memory.get(name, {}))
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(p.stem[1:]) for p in folder.glob("v*.json"))

    def register(self, name: str, model, **metadata) -> int:
        """Store ``model`` (with JSON-able ``metadata``) as the next version of ``name``."""
        if not name.isidentifier():
            raise ValidationError(f"model name must be an identifier, got {name!r}", field="name")
        version = (self.versions(name) or [0])[-1] + 1
        text = json.dumps(
            {"name": name, "version": version, "model": model.to_dict(), "metadata": metadata},
            sort_keys=True,
        )
        if self.root is None:
            self._memory.setdefault(name, {})[version] = text
        else:
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".v{version:04d}.json.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, folder / f"v{version:04d}.json")
        return version

    def document(self, name: str, version: int | None = None) -> dict:
        """The stored document of ``name`` at ``version`` (latest if None)."""
        versions = self.versions(name)
        if not versions:
            raise NotFoundError(f"no model named {name!r}", field="name")
        version = versions[-1] if version is None else version
        if version not in versions:
            raise NotFoundError(f"{name!r} has no version {version}", field="version")
        if self.root is None:
            text = self._memory[name][version]
        else:
            text = (self.root / name / f"v{version:04d}.json").read_text(encoding="utf-8")
        return json.loads(text)

    def load(self, name: str, version: int | None = None):
        """The model object of ``name`` at ``version`` (latest if None)."""
        return model_from_dict(self.document(name, version)["model"])
