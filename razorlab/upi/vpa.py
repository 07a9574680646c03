"""UPI virtual payment addresses (VPAs): ``handle@psp``, parsed and validated.

Scenario: a customer types a VPA into a checkout form; before anything reaches the UPI switch
the PSP must reject the malformed ones with a message that says what is wrong.

There is no official public regex from NPCI. We use the common practical rule (see
references.md): ``^[a-zA-Z0-9.\\-_]{2,256}@[a-zA-Z]{2,64}$`` — a handle of 2–256 letters,
digits, dots, hyphens or underscores, one ``@``, and a PSP suffix of 2–64 letters. VPAs are
case-insensitive, so we store them lower-cased: ``Alice@OKAXIS`` and ``alice@okaxis`` are one
address (treating them as two would let a duplicate-payment check be bypassed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from razorlab.errors import ValidationError

__all__ = ["VPA_PATTERN", "InvalidVpa", "Vpa", "parse_vpa"]

VPA_PATTERN = re.compile(r"^[a-zA-Z0-9.\-_]{2,256}@[a-zA-Z]{2,64}$")
_HANDLE_CHARS = re.compile(r"[a-zA-Z0-9.\-_]")
HANDLE_MIN, HANDLE_MAX = 2, 256  # characters before the @
PSP_MIN, PSP_MAX = 2, 64  # letters after the @


class InvalidVpa(ValidationError):
    code = "INVALID_VPA"


@dataclass(frozen=True, slots=True)
class Vpa:
    handle: str
    psp: str

    def __str__(self) -> str:
        return f"{self.handle}@{self.psp}"


def parse_vpa(text: object, field: str = "vpa") -> Vpa:
    """Parse ``text`` into a lower-cased ``Vpa`` or raise ``InvalidVpa`` saying what is wrong."""
    if not isinstance(text, str):
        raise InvalidVpa(f"a VPA is text like 'name@bank', got {type(text).__name__}", field=field)
    s = text.strip()
    if s.count("@") != 1:
        raise InvalidVpa(f"{text!r} must contain exactly one '@' (like 'name@bank')", field=field)
    handle, psp = s.split("@")
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        raise InvalidVpa(
            f"the part before '@' must be {HANDLE_MIN}-{HANDLE_MAX} characters, got {len(handle)}",
            field=field,
        )
    for ch in handle:
        if not _HANDLE_CHARS.fullmatch(ch):
            raise InvalidVpa(
                f"{ch!r} is not allowed before '@' (letters, digits, '.', '-', '_')", field=field
            )
    if not (PSP_MIN <= len(psp) <= PSP_MAX and psp.isascii() and psp.isalpha()):
        raise InvalidVpa(
            f"the PSP after '@' must be {PSP_MIN}-{PSP_MAX} letters, got {psp!r}", field=field
        )
    assert VPA_PATTERN.fullmatch(s)  # the checks above are the pattern, spelled out
    return Vpa(handle.lower(), psp.lower())
