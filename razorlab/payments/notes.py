"""Razorpay's free-form fields, ``notes`` and ``receipt``, checked the same way everywhere.

Orders, refunds (and, at Razorpay, most entities) carry ``notes`` — up to 15 key-value
pairs of at most 256 characters each — and a ``receipt`` of at most 40 characters, the
merchant's own reference (Razorpay API reference: Orders, Refunds). One module so the
limits cannot drift apart between entities; it imports nothing of the gateway, so the
store and every entity module may use it.
"""

from __future__ import annotations

from typing import Any

from razorlab.errors import ValidationError

__all__ = ["MAX_NOTES", "MAX_NOTE_CHARS", "MAX_RECEIPT_CHARS", "parse_notes", "parse_receipt"]

MAX_NOTES = 15  # key-value pairs in ``notes`` (Razorpay's limit)
MAX_NOTE_CHARS = 256  # characters per note value (Razorpay's limit)
MAX_RECEIPT_CHARS = 40  # characters in ``receipt`` (Razorpay's limit)


def parse_notes(value: object) -> dict[str, Any]:
    """Razorpay's ``notes``: at most 15 pairs, values text or numbers of at most 256 chars."""
    if value is None or value == []:  # Razorpay itself sends [] for "no notes"
        return {}
    if not isinstance(value, dict) or len(value) > MAX_NOTES:
        raise ValidationError(f"notes must be an object of at most {MAX_NOTES} pairs",
                              field="notes")  # fmt: skip
    for key, note in value.items():
        ok = isinstance(note, str | int | float) and not isinstance(note, bool)
        if not ok or len(str(note)) > MAX_NOTE_CHARS or len(key) > MAX_NOTE_CHARS:
            raise ValidationError(
                f"notes.{key!s:.40} must be text or a number of at most {MAX_NOTE_CHARS} chars",
                field="notes",
            )
    return dict(value)


def parse_receipt(value: object) -> str | None:
    """Razorpay's ``receipt``: absent, or text of at most 40 characters."""
    if value is not None and (not isinstance(value, str) or len(value) > MAX_RECEIPT_CHARS):
        raise ValidationError(f"receipt must be text of at most {MAX_RECEIPT_CHARS} chars",
                              field="receipt")  # fmt: skip
    return value
