"""Razorpay's free-form fields — ``notes``, ``receipt``, ``description``, the customer's
``email`` and ``contact`` — checked the same way everywhere.

Orders, refunds, payments (and, at Razorpay, most entities) carry ``notes`` — up to 15
key-value pairs of at most 256 characters each — and a ``receipt`` of at most 40
characters, the merchant's own reference (Razorpay API reference: Orders, Refunds). A
payment also keeps the customer's ``email`` and ``contact`` and the merchant's
``description`` (Razorpay's payment entity). One module so the limits cannot drift apart
between entities and routes; it imports nothing of the gateway, so the store and every
entity module may use it.

Where the limits are ours: an email is checked for shape only (a local part, ``@``, a
domain with a dot; at most 254 characters, the longest address SMTP can carry, RFC 5321),
never by sending mail; a contact is 8 to 15 digits with an optional leading ``+`` (15 is
E.164's longest number; 8 admits short local numbers); a description is at most 255
characters.
"""

from __future__ import annotations

import re
from typing import Any

from razorlab.errors import ValidationError

__all__ = [
    "MAX_NOTES",
    "MAX_NOTE_CHARS",
    "MAX_RECEIPT_CHARS",
    "MAX_EMAIL_CHARS",
    "MAX_DESCRIPTION_CHARS",
    "EMAIL_PATTERN",
    "CONTACT_PATTERN",
    "parse_notes",
    "parse_receipt",
    "parse_email",
    "parse_contact",
    "parse_description",
]

MAX_NOTES = 15  # key-value pairs in ``notes`` (Razorpay's limit)
MAX_NOTE_CHARS = 256  # characters per note value (Razorpay's limit)
MAX_RECEIPT_CHARS = 40  # characters in ``receipt`` (Razorpay's limit)
MAX_EMAIL_CHARS = 254  # the longest address SMTP carries (RFC 5321 path, less its brackets)
MAX_DESCRIPTION_CHARS = 255  # characters in a payment's ``description`` (ours)
EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)  # the shape of an address (ASCII), not RFC 5322's whole grammar
CONTACT_PATTERN = re.compile(r"\+?[0-9]{8,15}")  # digits, optional +; E.164 has at most 15


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


def parse_email(value: object) -> str | None:
    """The customer's ``email``: absent, or an address's shape of at most 254 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_EMAIL_CHARS \
            or not EMAIL_PATTERN.fullmatch(value):  # fmt: skip
        raise ValidationError("email must be an email address, like name@example.com",
                              field="email")  # fmt: skip
    return value


def parse_contact(value: object) -> str | None:
    """The customer's ``contact``: absent, or 8 to 15 digits with an optional leading +."""
    if value is None:
        return None
    if not isinstance(value, str) or not CONTACT_PATTERN.fullmatch(value):
        raise ValidationError("contact must be a phone number: 8 to 15 digits, optional +",
                              field="contact")  # fmt: skip
    return value


def parse_description(value: object) -> str | None:
    """A payment's ``description``: absent, or text of at most 255 characters."""
    if value is not None and (not isinstance(value, str) or len(value) > MAX_DESCRIPTION_CHARS):
        raise ValidationError(f"description must be text of at most {MAX_DESCRIPTION_CHARS} "
                              "chars", field="description")  # fmt: skip
    return value
