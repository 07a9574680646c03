"""Quantities that carry their units, so back-of-the-envelope maths cannot mix them up.

Scenario: an interviewer asks for "storage per day" and the candidate multiplies a rate
in bytes per second by 86,400 — or forgets to, and writes "1 GB/s" into the storage
column. The classic slips are dimensional: adding a rate to an amount, confusing
bits with bytes (network links are sold in bits per second), or mixing decimal
(GB = 10⁹ B) with binary (GiB = 2³⁰ B) prefixes.

Design note: a :class:`Quantity` stores its value in base units (bytes, seconds,
requests, cores) with a vector of exponents over those four dimensions. ``+``/``-``
and comparisons demand identical dimensions and raise :class:`UnitError` otherwise;
``*``/``/`` combine exponents, so ``rate * duration`` is an amount and
``amount / duration`` a rate. ``MiB/s`` and ``GiB/day`` are the same dimension, so
they add correctly after conversion — but ``B/s + B`` is refused. Parsing units is
explicit (``"GiB/day"``, ``"req/s"``, ``"Gbit/s"``); formatting picks a readable
prefix (binary for bytes, like ``df -h``; decimal for request counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from razorlab.errors import ValidationError

__all__ = ["Quantity", "UnitError", "q", "DIMENSIONS", "SECONDS_PER_DAY"]

#: Base dimensions, in exponent-vector order.
DIMENSIONS = ("B", "s", "req", "core")
SECONDS_PER_DAY = 86_400

_Dim = tuple[int, int, int, int]
_NONE: _Dim = (0, 0, 0, 0)
_BYTES: _Dim = (1, 0, 0, 0)
_SECONDS: _Dim = (0, 1, 0, 0)
_REQ: _Dim = (0, 0, 1, 0)
_CORE: _Dim = (0, 0, 0, 1)

#: unit symbol -> (size in base units, dimension)
_UNITS: dict[str, tuple[float, _Dim]] = {
    "B": (1.0, _BYTES),
    "bit": (1 / 8, _BYTES),
    "s": (1.0, _SECONDS),
    "ms": (1e-3, _SECONDS),
    "min": (60.0, _SECONDS),
    "h": (3_600.0, _SECONDS),
    "day": (float(SECONDS_PER_DAY), _SECONDS),
    "week": (7.0 * SECONDS_PER_DAY, _SECONDS),
    "month": (30.0 * SECONDS_PER_DAY, _SECONDS),  # the 30-day SLO window
    "year": (365.0 * SECONDS_PER_DAY, _SECONDS),
    "req": (1.0, _REQ),
    "core": (1.0, _CORE),
}
for _i, _p in enumerate("KMGTP", start=1):
    _UNITS[f"{_p}B"] = (1000.0**_i, _BYTES)  # decimal, as disks and links are sold
    _UNITS[f"{_p}iB"] = (1024.0**_i, _BYTES)  # binary, as operating systems report
    _UNITS[f"{_p}bit"] = (1000.0**_i / 8, _BYTES)  # links are sold in bits per second
_UNITS["kbit"] = _UNITS["Kbit"]

_BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
_DECIMAL_COUNT = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]


class UnitError(ValidationError):
    """Quantities of different dimensions were combined, or a unit is unknown."""

    code = "UNIT_ERROR"


def _parse_unit(unit: str) -> tuple[float, _Dim]:
    """``"GiB/day"`` -> (bytes per GiB / seconds per day, (1, -1, 0, 0))."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"unit must be a non-empty string like 'GiB/day', got {unit!r}")
    size, dim = 1.0, [0, 0, 0, 0]
    parts = unit.replace(" ", "").split("/")
    for position, part in enumerate(parts):
        for token in part.split("*"):
            if token not in _UNITS:
                known = ", ".join(sorted(_UNITS))
                raise UnitError(f"unknown unit {token!r} in {unit!r}; known units: {known}")
            tsize, tdim = _UNITS[token]
            sign = 1 if position == 0 else -1
            size *= tsize**sign
            dim = [d + sign * t for d, t in zip(dim, tdim, strict=True)]
    return size, (dim[0], dim[1], dim[2], dim[3])


def _dim_name(dim: _Dim) -> str:
    num = [f"{n}^{e}" if e > 1 else n for n, e in zip(DIMENSIONS, dim, strict=True) if e > 0]
    den = [f"{n}^{-e}" if e < -1 else n for n, e in zip(DIMENSIONS, dim, strict=True) if e < 0]
    text = "*".join(num) or "1"
    return text + "".join(f"/{d}" for d in den)


@dataclass(frozen=True)
class Quantity:
    """A value in base units (bytes, seconds, requests, cores) with its dimension."""

    base: float
    dim: _Dim = _NONE

    # --- construction and conversion -------------------------------------------------
    @classmethod
    def of(cls, value: float, unit: str) -> Quantity:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise UnitError(f"quantity value must be a finite number, got {value!r}")
        size, dim = _parse_unit(unit)
        return cls(float(value) * size, dim)

    def to(self, unit: str) -> float:
        """The value expressed in ``unit``; refuses a unit of another dimension."""
        size, dim = _parse_unit(unit)
        if dim != self.dim:
            raise UnitError(
                f"cannot express {self} ({_dim_name(self.dim)}) in {unit!r} ({_dim_name(dim)})"
            )
        return self.base / size

    @property
    def unit(self) -> str:
        """The base-unit dimension, e.g. ``"B/s"``."""
        return _dim_name(self.dim)

    # --- arithmetic ----------------------------------------------------------------
    def _same(self, other: object, op: str) -> Quantity:
        if not isinstance(other, Quantity):
            raise UnitError(f"cannot {op} {self} and the bare number {other!r}: give it a unit")
        if other.dim != self.dim:
            raise UnitError(
                f"cannot {op} {self} ({_dim_name(self.dim)}) and {other} "
                f"({_dim_name(other.dim)}): different dimensions"
            )
        return other

    def __add__(self, other: object) -> Quantity:
        return Quantity(self.base + self._same(other, "add").base, self.dim)

    def __sub__(self, other: object) -> Quantity:
        return Quantity(self.base - self._same(other, "subtract").base, self.dim)

    def __mul__(self, other: object) -> Quantity:
        if isinstance(other, Quantity):
            dim = tuple(a + b for a, b in zip(self.dim, other.dim, strict=True))
            return Quantity(self.base * other.base, dim)  # type: ignore[arg-type]
        if isinstance(other, bool) or not isinstance(other, int | float):
            return NotImplemented
        return Quantity(self.base * other, self.dim)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Quantity:
        if isinstance(other, Quantity):
            dim = tuple(a - b for a, b in zip(self.dim, other.dim, strict=True))
            return Quantity(self.base / other.base, dim)  # type: ignore[arg-type]
        if isinstance(other, bool) or not isinstance(other, int | float):
            return NotImplemented
        return Quantity(self.base / other, self.dim)

    def __float__(self) -> float:
        if self.dim != _NONE:
            raise UnitError(f"{self} has units; use .to('<unit>') to get a number")
        return self.base

    def __lt__(self, other: object) -> bool:
        return self.base < self._same(other, "compare").base

    def __le__(self, other: object) -> bool:
        return self.base <= self._same(other, "compare").base

    # --- display -------------------------------------------------------------------
    def __str__(self) -> str:
        return self.format()

    def format(self, digits: int = 3, per: str = "s") -> str:
        """Readable text: binary prefixes for bytes, K/M/B for counts, min/h/day for time.

        Rates are shown per second, or per ``per`` (``"min"``, ``"h"``, ``"day"``…):
        ``q(1e6, "req/s").format(per="day")`` is ``"86.4B req/day"``.
        """
        b, s, r, c = self.dim
        if per not in _UNITS or _UNITS[per][1] != _SECONDS:
            raise UnitError(f"per must be a time unit such as 's' or 'day', got {per!r}")
        value = self.base * _UNITS[per][0] if s == -1 else self.base
        suffix = f"/{per}" if s == -1 else ""
        if (b, r, c) == (1, 0, 0) and s in (0, -1):
            return _binary(value, digits) + suffix
        if (b, r, c) in ((0, 1, 0), (0, 0, 1)) and s in (0, -1):
            return f"{_count(value, digits)} {'req' if r else 'cores'}{suffix}"
        if self.dim == _SECONDS:
            return _duration(self.base, digits)
        if self.dim == _NONE:
            return f"{self.base:.{digits}g}"
        return f"{self.base:.{digits}g} {self.unit}"

    def __repr__(self) -> str:
        return f"Quantity({self.format()})"


def _binary(value: float, digits: int) -> str:
    index = 0 if value == 0 else min(int(math.log(abs(value), 1024)), len(_BINARY) - 1)
    index = max(index, 0)
    # 1,000-1,023 of a unit needs more digits than asked (:g prints 1.02e+03): go up one
    rounded = abs(float(f"{value / 1024**index:.{digits}g}"))
    if rounded >= 10**digits and index < len(_BINARY) - 1:
        index += 1
    return f"{value / 1024**index:.{digits}g} {_BINARY[index]}"


def _count(value: float, digits: int) -> str:
    value = float(f"{value:.{digits}g}")  # round first: 999,999 is "1M", not "1e+03K"
    for size, suffix in _DECIMAL_COUNT:
        if abs(value) >= size:
            return f"{value / size:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


def _duration(seconds: float, digits: int) -> str:
    unit = next((u for u in ("year", "day", "h", "min") if abs(seconds) >= _UNITS[u][0]), "s")
    return f"{seconds / _UNITS[unit][0]:.{digits}g} {unit}"


def q(value: float, unit: str) -> Quantity:
    """Shorthand: ``q(1, "KiB")``, ``q(1e6, "req/s")``, ``q(10, "Gbit/s")``."""
    return Quantity.of(value, unit)
