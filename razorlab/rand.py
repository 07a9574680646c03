"""The one place random generators come from.

Every simulation takes a ``seed``; independent parts of one simulation draw from
named *streams* of that seed, so adding a new random draw to the bank simulator
does not shift every fraud label downstream. Stream names are hashed with CRC32,
which (unlike ``hash()``) is the same in every process.
"""

from __future__ import annotations

import random
import zlib

import numpy as np

from razorlab.errors import ValidationError

__all__ = ["DEFAULT_SEED", "rng", "py_random", "check_seed"]

DEFAULT_SEED = 42


def check_seed(seed: object) -> int:
    """Accept a non-negative int seed, refuse anything else clearly."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    return seed


def _entropy(seed: object, stream: str) -> list[int]:
    return [check_seed(seed), zlib.crc32(stream.encode("utf-8"))]


def rng(seed: int, stream: str = "") -> np.random.Generator:
    """A numpy Generator for ``stream`` of ``seed`` (PCG64, reproducible everywhere)."""
    return np.random.default_rng(_entropy(seed, stream))


def py_random(seed: int, stream: str = "") -> random.Random:
    """A stdlib ``random.Random`` for code paths that draw one value at a time."""
    a, b = _entropy(seed, stream)
    return random.Random(a * 2**32 + b)
